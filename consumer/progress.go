package consumer

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/handler"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// progressInterval is the least time between two progress updates of one
// request published to its caller, journaled and logged; updates in
// between are coalesced, the latest one wins.
const progressInterval = 200 * time.Millisecond

// throttle passes on a stream of progress updates at most one per
// interval, in order: an update that comes too soon waits, replaced by any
// later one, until the interval has passed. flush sends the one waiting
// and ends the stream. send is called with the throttle's lock held, so
// updates go out one at a time, in order.
type throttle struct {
	interval time.Duration
	send     func(wire.Progress)

	mu      sync.Mutex
	last    time.Time // when the last update was sent
	pending *wire.Progress
	timer   *time.Timer // set while an update waits
	closed  bool
}

// report passes p on now, or later when the last update was sent less
// than an interval ago.
func (t *throttle) report(p wire.Progress) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	since := time.Since(t.last)
	if t.timer == nil && since >= t.interval {
		t.sendLocked(p)
		return
	}
	t.pending = &p
	if t.timer == nil {
		t.timer = time.AfterFunc(t.interval-since, t.fire)
	}
}

// fire sends the update that waited for its interval.
func (t *throttle) fire() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.timer = nil
	if t.closed || t.pending == nil {
		return
	}
	p := *t.pending
	t.pending = nil
	t.sendLocked(p)
}

func (t *throttle) sendLocked(p wire.Progress) {
	t.last = time.Now()
	t.send(p)
}

// flush sends the update still waiting, if any, and drops every later one.
func (t *throttle) flush() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.closed = true
	if t.timer != nil {
		t.timer.Stop()
		t.timer = nil
	}
	if t.pending != nil {
		p := *t.pending
		t.pending = nil
		t.send(p)
	}
}

// withProgress returns ctx with the progress reporter of a request, and
// the function that sends the last update waiting and stops the updates:
// it must be called before the reply is published and journaled. The
// updates, at most one per progressInterval (the latest wins), are
// journaled (jr), logged, and published to a caller that asked for
// progress (wire.AcceptProgressHeader).
func (c *Consumer) withProgress(ctx context.Context, log *requestLog, in incoming, jr *runJournal) (context.Context, func()) {
	t := &throttle{interval: progressInterval, send: func(p wire.Progress) {
		shown := jr.progress(p)
		ev := log.Info().Str("state", shown.State).Str("message", shown.Message)
		if shown.Percent != nil {
			ev = ev.Float64("percent", *shown.Percent)
		}
		if in.acceptProgress {
			if err := c.publishProgress(in, p); err != nil {
				log.Warn().Err(err).Str("state", shown.State).Msg("cannot publish a progress update; dropped")
				return
			}
		}
		ev.Msg("progress")
	}}
	return handler.WithProgress(ctx, t.report), t.flush
}

// publishProgress publishes one progress update to the caller, as the
// reply goes (see publishTo), marked with wire.ProgressHeader and
// wire.ProgressType, transient.
func (c *Consumer) publishProgress(in incoming, p wire.Progress) error {
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return c.publishTo(in.exchange, in.replyTo, amqp.Publishing{
		ContentType:   wire.ContentType,
		CorrelationId: in.correlationID,
		Type:          wire.ProgressType,
		Headers:       amqp.Table{wire.ProgressHeader: int32(1)},
		DeliveryMode:  amqp.Transient,
		Body:          body,
	})
}
