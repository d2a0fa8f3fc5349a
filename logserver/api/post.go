package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// PostRequests is POST /rpc-requests: stores a wire.LogRequest.
func PostRequests(st store.Store, opts Options) http.Handler {
	return post(opts, requestFields, "", decodeInto(st.AddRequest))
}

// PostResponses is POST /rpc-responses: stores a wire.LogResponse.
func PostResponses(st store.Store, opts Options) http.Handler {
	// The reference's words.
	return post(opts, responseFields, "No RPC response with correlation ID ", decodeInto(st.AddResponse))
}

// PostProgress is POST /rpc-progress, this log server's extension of the
// reference API: stores a wire.LogProgress of a stored request.
func PostProgress(st store.Store, opts Options) http.Handler {
	return post(opts, progressFields, "No RPC request with correlation ID ", decodeInto(st.AddProgress))
}

// decodeInto is the store step of a post: the body decoded as a T, given
// to add.
func decodeInto[T any](add func(context.Context, T) error) func(context.Context, []byte) error {
	return func(ctx context.Context, body []byte) error {
		var v T
		if err := json.Unmarshal(body, &v); err != nil {
			return err
		}
		return add(ctx, v)
	}
}

// post checks a post in the reference's order (the body is JSON, then the
// token, then the body's fields) and stores it. unknown begins the 400
// answer to a record whose request is not stored.
func post(opts Options, fields []field, unknown string, add func(context.Context, []byte) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, opts.maxBody()))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				detail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("Request body larger than %d bytes", tooLarge.Limit))
				return
			}
			detail(w, http.StatusBadRequest, "cannot read the request body: "+err.Error())
			return
		}
		doc, present, ok := decodeBody(raw, r.Header.Get("Content-Type"))
		if !ok {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": []fieldError{jsonInvalid}})
			return
		}
		var errs []fieldError
		switch tokens, sent := r.Header[http.CanonicalHeaderKey(wire.LogTokenHeader)]; {
		case !sent:
			errs = append(errs, fieldError{Type: "missing", Loc: []any{"header", "x-api-token"}, Msg: "Field required", Input: nil})
		case !equalSecret(tokens[0], opts.Token):
			detail(w, http.StatusUnauthorized, "Invalid API token")
			return
		}
		if errs = validate(doc, present, fields, errs); len(errs) > 0 {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": errs})
			return
		}
		id, _ := doc.(map[string]any)["correlation_id"].(string)
		switch err := add(r.Context(), raw); {
		case err == nil:
			detail(w, http.StatusCreated, "Object created")
		case errors.Is(err, store.ErrUnknownRequest):
			detail(w, http.StatusBadRequest, unknown+id)
		case errors.Is(err, store.ErrConflict):
			detail(w, http.StatusConflict, "A different record with correlation ID "+id+" exists")
		default:
			opts.Logger.Error().Err(err).Str("correlation_id", id).Msg("cannot store the record")
			detail(w, http.StatusInternalServerError, "Internal Server Error")
		}
	})
}
