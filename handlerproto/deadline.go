package handlerproto

import (
	"context"
	"sync"
	"time"
)

// deadlineCtx is a context with the caller's deadline whose timer starts
// only when something waits on it (Done, Err, Value, a child context):
// most handlers only read the deadline, if that, and a timer per request
// costs more than the rest of the framing.
type deadlineCtx struct {
	parent   context.Context
	deadline time.Time
	once     sync.Once
	inner    context.Context // context.WithDeadline(parent, deadline), once started
	cancel   context.CancelFunc
}

// withDeadline is parent with deadline d; stop releases it.
func withDeadline(parent context.Context, d time.Time) *deadlineCtx {
	return &deadlineCtx{parent: parent, deadline: d}
}

// closed is the Done channel of a context stopped before it started.
var closed = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// started is the context with its timer, started at the first call; nil
// when stopped before any call.
func (c *deadlineCtx) started() context.Context {
	c.once.Do(func() { c.inner, c.cancel = context.WithDeadline(c.parent, c.deadline) })
	return c.inner
}

// stop ends the context once its request is answered: canceled, as by
// the cancel function of context.WithDeadline.
func (c *deadlineCtx) stop() {
	c.once.Do(func() {}) // never started: nothing starts it after this
	if c.cancel != nil {
		c.cancel()
	}
}

// Deadline implements context.Context: the earlier of the parent's and
// the caller's.
func (c *deadlineCtx) Deadline() (time.Time, bool) {
	if d, ok := c.parent.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

// Done implements context.Context.
func (c *deadlineCtx) Done() <-chan struct{} {
	if ctx := c.started(); ctx != nil {
		return ctx.Done()
	}
	return closed
}

// Err implements context.Context.
func (c *deadlineCtx) Err() error {
	if ctx := c.started(); ctx != nil {
		return ctx.Err()
	}
	return context.Canceled
}

// Value implements context.Context, through the started context so that
// context.Cause and child contexts see its cancellation.
func (c *deadlineCtx) Value(key any) any {
	if ctx := c.started(); ctx != nil {
		return ctx.Value(key)
	}
	return c.parent.Value(key)
}
