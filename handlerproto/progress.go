package handlerproto

import (
	"bufio"
	"context"
	"encoding/json"
	"sync"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// progressKey is the context key of the request's progress line writer.
type progressKey struct{}

// progressLines writes the progress lines of one request, until its
// response is written.
type progressLines struct {
	mu            sync.Mutex
	w             *bufio.Writer
	correlationID string
	done          bool // the response is written: later updates are dropped
}

// Progress reports a progress update of the request whose handler runs
// under ctx: a progress line, {"correlation_id": ..., "progress": {...}},
// written at once. The consumer passes it on to a caller that asked for
// progress (rate-limited, the latest update wins) and drops it otherwise.
// It may be called from any goroutine while the handler runs; after the
// handler returned, or with a ctx not given by Serve, it does nothing.
func Progress(ctx context.Context, p wire.Progress) {
	pl, ok := ctx.Value(progressKey{}).(*progressLines)
	if !ok {
		return
	}
	b, err := json.Marshal(struct {
		CorrelationID string        `json:"correlation_id"`
		Progress      wire.Progress `json:"progress"`
	}{pl.correlationID, p})
	if err != nil {
		return // Data that is not JSON: nothing to report
	}
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if pl.done {
		return
	}
	_, _ = pl.w.Write(append(b, '\n'))
	_ = pl.w.Flush()
}

// finish writes the response line after which no progress line may come.
func (pl *progressLines) finish(line []byte) error {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	pl.done = true
	if _, err := pl.w.Write(line); err != nil {
		return err
	}
	return pl.w.Flush()
}
