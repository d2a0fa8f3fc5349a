package consumer

import (
	"context"

	"github.com/rs/zerolog"
)

// requestLog logs for one request: each event carries the request's
// exchange and correlation id. Making one costs nothing, where a zerolog
// sub-logger (With) copies the logger's context into a new buffer for
// every request.
type requestLog struct {
	base          *zerolog.Logger
	exchange, cid string
}

// Info starts an info event about the request.
func (l *requestLog) Info() *zerolog.Event { return l.tag(l.base.Info()) }

// Warn starts a warning about the request.
func (l *requestLog) Warn() *zerolog.Event { return l.tag(l.base.Warn()) }

// Error starts an error event about the request.
func (l *requestLog) Error() *zerolog.Event { return l.tag(l.base.Error()) }

func (l *requestLog) tag(e *zerolog.Event) *zerolog.Event {
	return e.Str("exchange", l.exchange).Str("correlation_id", l.cid)
}

type requestLogKey struct{}

// withRequestLog makes the context a handler runs in.
func withRequestLog(ctx context.Context, l *requestLog) context.Context {
	return context.WithValue(ctx, requestLogKey{}, l)
}

// Logger returns the logger for the request a handler's ctx belongs to:
// the consumer's log, every line with the virtual host, exchange and
// correlation id. Outside a request it returns the logger of
// zerolog.Ctx(ctx).
func Logger(ctx context.Context) zerolog.Logger {
	if l, ok := ctx.Value(requestLogKey{}).(*requestLog); ok {
		return l.base.With().Str("exchange", l.exchange).Str("correlation_id", l.cid).Logger()
	}
	return *zerolog.Ctx(ctx)
}
