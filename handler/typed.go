package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/contract"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// Option sets a part of a Go handler's contract.
type Option func(*contract.Contract)

// WithLockAttribute makes requests with the same value of the named request
// attribute run one at a time (and requests with different values in
// parallel). Without it, requests on the exchange run one at a time.
func WithLockAttribute(name string) Option {
	return func(c *contract.Contract) { c.LockAttribute = name }
}

// WithTimeout bounds one run of the handler.
func WithTimeout(d time.Duration) Option {
	return func(c *contract.Contract) { c.TimeoutSeconds = d.Seconds() }
}

// WithFormatAssertion asserts the format keyword of the derived schemas
// (struct tags such as `jsonschema:"format=email"`), as "format_assertion":
// true does in a contract.json.
func WithFormatAssertion() Option {
	return func(c *contract.Contract) { c.FormatAssertion = true }
}

// WithExample adds a request/response example; mock mode answers from it.
func WithExample(request, response any) Option {
	return func(c *contract.Contract) {
		c.Examples = append(c.Examples, contract.Example{Request: mustJSON(request), Response: mustJSON(response)})
	}
}

// TypedFunc is the function of a Go handler: it gets the request decoded
// into Req and returns the response envelope with typed data. An error is
// answered as an unexpected error.
type TypedFunc[Req, Resp any] func(ctx context.Context, call *Call, req Req) (wire.Reply[Resp], error)

// Typed makes a Handler from a Go function. The request and response JSON
// Schemas are derived from Req and Resp (struct tags `json` and
// `jsonschema`, see github.com/invopop/jsonschema); a panic in fn is
// recovered and answered as an unexpected error.
func Typed[Req, Resp any](description string, fn TypedFunc[Req, Resp], opts ...Option) Handler {
	c := &contract.Contract{
		Description: description,
		Request:     contract.SchemaOf[Req](),
		Response:    contract.SchemaOf[Resp](),
	}
	for _, o := range opts {
		o(c)
	}
	return &typed[Req, Resp]{contract: c, fn: fn}
}

type typed[Req, Resp any] struct {
	contract *contract.Contract
	fn       TypedFunc[Req, Resp]
}

func (h *typed[Req, Resp]) Contract() *contract.Contract { return h.contract }

func (h *typed[Req, Resp]) encodesJSON() {}

// Close implements Handler; a Go handler holds nothing.
func (h *typed[Req, Resp]) Close() error { return nil }

func (h *typed[Req, Resp]) Handle(ctx context.Context, call *Call) (out json.RawMessage, err error) {
	defer func() {
		if p := recover(); p != nil {
			out = nil
			err = &Error{Reason: fmt.Sprintf("handler panicked: %v", p), ExitStatus: -1, Stderr: string(debug.Stack())}
		}
	}()
	var req Req
	if err := contract.DecodeInto(call.Body, &req); err != nil {
		return nil, &Error{Reason: "cannot decode request into the handler's type", ExitStatus: -1, Err: err}
	}
	reply, err := h.fn(ctx, call, req)
	if err != nil {
		return nil, err
	}
	return json.Marshal(reply)
}

// mustJSON encodes an example given as a Go value; a value that cannot be
// encoded is a programming error, found at start-up.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("handler: cannot encode an example: %v", err))
	}
	return b
}
