package consumer

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/handler"
)

// The names below were this package's before handlers got their own
// package; they stay so that existing custom binaries build. New code
// uses package handler.

// Handler is handler.Handler.
//
// Deprecated: use handler.Handler.
type Handler = handler.Handler

// Call is handler.Call.
//
// Deprecated: use handler.Call.
type Call = handler.Call

// Option is handler.Option.
//
// Deprecated: use handler.Option.
type Option = handler.Option

// TypedFunc is handler.TypedFunc.
//
// Deprecated: use handler.TypedFunc.
type TypedFunc[Req, Resp any] = handler.TypedFunc[Req, Resp]

// Typed is handler.Typed.
//
// Deprecated: use handler.Typed.
func Typed[Req, Resp any](description string, fn handler.TypedFunc[Req, Resp], opts ...handler.Option) handler.Handler {
	return handler.Typed(description, fn, opts...)
}

// WithLockAttribute is handler.WithLockAttribute.
//
// Deprecated: use handler.WithLockAttribute.
func WithLockAttribute(name string) handler.Option { return handler.WithLockAttribute(name) }

// WithTimeout is handler.WithTimeout.
//
// Deprecated: use handler.WithTimeout.
func WithTimeout(d time.Duration) handler.Option { return handler.WithTimeout(d) }

// WithFormatAssertion is handler.WithFormatAssertion.
//
// Deprecated: use handler.WithFormatAssertion.
func WithFormatAssertion() handler.Option { return handler.WithFormatAssertion() }

// WithExample is handler.WithExample.
//
// Deprecated: use handler.WithExample.
func WithExample(request, response any) handler.Option {
	return handler.WithExample(request, response)
}

// Logger is handler.Logger.
//
// Deprecated: use handler.Logger.
func Logger(ctx context.Context) zerolog.Logger { return handler.Logger(ctx) }
