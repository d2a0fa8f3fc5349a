// Package handler runs the handler of an exchange: an executable started
// once per request (Exec), a pool of long-lived executable processes that
// speak the persistent handler protocol (Pool), or a Go function (Typed).
// All three are a Handler: the consumer gives it a validated request (a
// Call) and gets the whole response object back. Nothing here needs a
// broker.
package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/contract"
)

// Handler answers the requests of one exchange.
type Handler interface {
	// Contract describes the requests the handler takes and the responses it gives.
	Contract() *contract.Contract
	// Handle answers one validated request with the whole response object
	// (success, message, data) as JSON. A returned error, or a response that
	// breaks the envelope or the response schema, is answered as an
	// unexpected error. It is called for many requests at once.
	Handle(ctx context.Context, call *Call) (json.RawMessage, error)
	// Close releases what the handler holds (a pool's processes end after
	// their request). The consumer calls it once, when it stops serving; a
	// Handle that ignores its context may still be running then.
	Close() error
}

// Call is one request as a handler sees it.
type Call struct {
	// Exchange is the exchange the request was published to.
	Exchange string
	// CorrelationID is the caller's correlation id.
	CorrelationID string
	// VirtualHost is the RabbitMQ virtual host.
	VirtualHost string
	// Redelivered is true when the broker delivered the request before.
	Redelivered bool
	// Attempt counts the runs of the request: 1, then 2 after the handler
	// asked to retry later once (RetryLater), and so on.
	Attempt int
	// Deadline is the caller's deadline, or zero when it set none.
	Deadline time.Time
	// Body is the request: decrypted, with schema defaults applied, validated.
	Body json.RawMessage
}

// Error is an unexpected handler failure with the details that go to the
// log and to the log server's traceback, never to the caller.
type Error struct {
	// Reason says what went wrong, e.g. "exited with status 3".
	Reason string
	// ExitStatus is the handler process's exit status, or -1.
	ExitStatus int
	// Stderr is the tail of the handler's standard error.
	Stderr string
	// Err is the underlying error, if any.
	Err error
}

func (e *Error) Error() string {
	s := e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Traceback renders the details for the log server's traceback field.
func (e *Error) Traceback() string {
	s := e.Error()
	if e.ExitStatus >= 0 {
		s += fmt.Sprintf("\nexit status: %d", e.ExitStatus)
	}
	if e.Stderr != "" {
		s += "\nstderr (tail):\n" + e.Stderr
	}
	return s
}

// EncodesJSON reports whether h's responses are written by encoding/json
// (a Typed handler): valid, compact JSON, whose syntax needs no check.
func EncodesJSON(h Handler) bool {
	_, ok := h.(encodesJSON)
	return ok
}

// encodesJSON marks handlers whose responses encoding/json wrote.
type encodesJSON interface{ encodesJSON() }

// StopsWithContext reports whether h's Handle returns promptly once its
// context ends (it kills what it runs), so that its caller may run it
// without a goroutine of its own to watch the deadline.
func StopsWithContext(h Handler) bool {
	_, ok := h.(stopsWithContext)
	return ok
}

// stopsWithContext marks handlers whose Handle honours its context's end.
type stopsWithContext interface{ stopsWithContext() }
