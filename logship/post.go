package logship

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// ErrUnauthorized is returned when the log server rejects the API token:
// shipping stops, since no record would ever be accepted.
var ErrUnauthorized = errors.New("the log server rejected the API token (401): check log_server.api_token")

// verdict is what one answer of the log server means for the record posted.
type verdict int

const (
	// accepted: 201.
	accepted verdict = iota
	// unauthorized: 401 or 403, the token is wrong; no record would be accepted.
	unauthorized
	// refused: 400, 409, 413, 422, the server judged this record and will
	// never accept it (the reference answers 422 to a body its model
	// rejects, 400 to a response whose request it does not have).
	refused
	// failed: 500, either this record (the reference answers 500 to a
	// correlation id it already has) or the server as a whole.
	failed
	// unavailable: no answer, 408, 429, other 5xx (a proxy in front of a
	// server that is down), and the other 4xx, which say the base_url is
	// wrong rather than anything about the record (404, 405): the server
	// cannot take records now; wait and try again.
	unavailable
)

// classify tells what a status means for the record posted.
func classify(status int) verdict {
	switch status {
	case http.StatusCreated:
		return accepted
	case http.StatusUnauthorized, http.StatusForbidden:
		return unauthorized
	case http.StatusBadRequest, http.StatusConflict, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		return refused
	case http.StatusInternalServerError:
		return failed
	}
	return unavailable
}

// answer is the result of one post.
type answer struct {
	verdict verdict
	status  int    // 0 when no HTTP answer came
	detail  string // the server's answer, or the network error
	// uncertain is true when the post may have reached the server although
	// no answer came (a timeout, a connection reset after sending).
	uncertain bool
}

// apiCall is the endpoint (relative to the base URL) and body of a record.
func apiCall(rec Record) (string, any, error) {
	switch rec.Kind {
	case KindRequest:
		return wire.LogRequestsPath, wire.LogRequest{CorrelationID: rec.CorrelationID, RequestPayload: asObject(rec.RequestPayload),
			VirtualHostName: rec.VirtualHostName, QueueName: rec.QueueName, RabbitMQUsername: rec.RabbitMQUsername,
			Hostname: rec.Hostname, ExchangeName: rec.ExchangeName}, nil
	case KindResponse:
		return wire.LogResponsesPath, wire.LogResponse{CorrelationID: rec.CorrelationID, ResponsePayload: asObject(rec.ResponsePayload),
			Traceback: rec.Traceback}, nil
	case KindProgress:
		return wire.LogProgressPath, wire.LogProgress{CorrelationID: rec.CorrelationID, Time: rec.Time, State: rec.State,
			Message: rec.Message, Percent: rec.Percent, Data: rec.Data}, nil
	}
	return "", nil, fmt.Errorf("unknown record kind %q", rec.Kind)
}

// asObject returns a payload that is a JSON object as it is, and wraps
// anything else as {"_raw": <the payload>}: the log server takes only
// objects. The consumer spools a request body that is not a JSON object
// as a JSON string of its text, so such a body arrives as
// {"_raw": "<the body as it came>"}; an expired request's null response
// as {"_raw": null}.
func asObject(b json.RawMessage) json.RawMessage {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		return b
	}
	if len(b) == 0 {
		b = json.RawMessage("null")
	}
	out := make([]byte, 0, len(b)+10)
	out = append(out, `{"_raw":`...)
	out = append(out, b...)
	return append(out, '}')
}

// post sends one record.
func (s *Shipper) post(ctx context.Context, rec Record) answer {
	path, body, err := apiCall(rec)
	if err != nil {
		return answer{verdict: refused, detail: err.Error()}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return answer{verdict: refused, detail: err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(s.opts.BaseURL, "/")+path, bytes.NewReader(b))
	if err != nil {
		return answer{verdict: unavailable, detail: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(wire.LogTokenHeader, s.opts.Token)
	resp, err := s.http.Do(req)
	if err != nil {
		var op *net.OpError
		notSent := errors.As(err, &op) && op.Op == "dial"
		return answer{verdict: unavailable, detail: err.Error(), uncertain: !notSent}
	}
	defer resp.Body.Close()
	detail, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
	return answer{verdict: classify(resp.StatusCode), status: resp.StatusCode,
		detail: fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(detail))}
}
