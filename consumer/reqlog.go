package consumer

import (
	"github.com/rs/zerolog"
)

// requestLog logs for one request: each event carries the request's
// exchange and correlation id. Making one costs nothing, where a zerolog
// sub-logger (With) copies the logger's context into a new buffer for
// every request.
type requestLog struct {
	base          *zerolog.Logger
	handler       *zerolog.Logger // the handlers' logger; nil: base
	exchange, cid string
}

// Debug starts a debug event about the request.
func (l *requestLog) Debug() *zerolog.Event { return l.tag(l.base.Debug()) }

// Info starts an info event about the request.
func (l *requestLog) Info() *zerolog.Event { return l.tag(l.base.Info()) }

// Warn starts a warning about the request.
func (l *requestLog) Warn() *zerolog.Event { return l.tag(l.base.Warn()) }

// Error starts an error event about the request.
func (l *requestLog) Error() *zerolog.Event { return l.tag(l.base.Error()) }

func (l *requestLog) tag(e *zerolog.Event) *zerolog.Event {
	return e.Str("exchange", l.exchange).Str("correlation_id", l.cid)
}

// Logger implements handler.RequestLog: the logger a handler gets from
// handler.Logger(ctx).
func (l *requestLog) Logger() zerolog.Logger {
	base := l.base
	if l.handler != nil {
		base = l.handler
	}
	return base.With().Str("exchange", l.exchange).Str("correlation_id", l.cid).Logger()
}
