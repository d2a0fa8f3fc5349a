package handler

import (
	"context"

	"github.com/rs/zerolog"
)

// RequestLog makes the logger of one request. The consumer puts one into
// the context of every call (WithRequestLog); the logger is made only when
// a handler asks for it (Logger), so that calls that log nothing cost
// nothing.
type RequestLog interface {
	// Logger is the consumer's logger with the request's fields.
	Logger() zerolog.Logger
}

type requestLogKey struct{}

// WithRequestLog makes the context a handler runs in carry l.
func WithRequestLog(ctx context.Context, l RequestLog) context.Context {
	return context.WithValue(ctx, requestLogKey{}, l)
}

// Logger returns the logger for the request a handler's ctx belongs to:
// the consumer's log, every line with the virtual host, exchange and
// correlation id. Outside a request it returns the logger of
// zerolog.Ctx(ctx).
func Logger(ctx context.Context) zerolog.Logger {
	if l, ok := ctx.Value(requestLogKey{}).(RequestLog); ok {
		return l.Logger()
	}
	return *zerolog.Ctx(ctx)
}
