package handlerproto

import (
	"context"
	"errors"
	"testing"
	"time"
)

type ctxKey struct{}

// TestDeadlineCtx: the lazy context behaves as context.WithDeadline's.
func TestDeadlineCtx(t *testing.T) {
	parent := context.WithValue(context.Background(), ctxKey{}, "v")
	t.Run("passes", func(t *testing.T) {
		c := withDeadline(parent, time.Now().Add(20*time.Millisecond))
		defer c.stop()
		if d, ok := c.Deadline(); !ok || d != c.deadline {
			t.Errorf("Deadline = %v, %v", d, ok)
		}
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("Done not closed 5 s after the deadline")
		}
		if !errors.Is(c.Err(), context.DeadlineExceeded) || !errors.Is(context.Cause(c), context.DeadlineExceeded) {
			t.Errorf("Err = %v, Cause = %v, want DeadlineExceeded", c.Err(), context.Cause(c))
		}
		if c.Value(ctxKey{}) != "v" {
			t.Errorf("Value = %v, want the parent's", c.Value(ctxKey{}))
		}
	})
	t.Run("child canceled with it", func(t *testing.T) {
		c := withDeadline(parent, time.Now().Add(time.Hour))
		child, cancel := context.WithCancel(c)
		defer cancel()
		c.stop()
		select {
		case <-child.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("a child of the context not canceled when the request ended")
		}
	})
	t.Run("stopped unstarted", func(t *testing.T) {
		c := withDeadline(parent, time.Now().Add(time.Hour))
		if err := c.Err(); err != nil {
			t.Fatalf("Err before the deadline = %v", err)
		}
		c = withDeadline(parent, time.Now().Add(time.Hour))
		c.stop()
		<-c.Done()
		if !errors.Is(c.Err(), context.Canceled) || c.Value(ctxKey{}) != "v" {
			t.Errorf("after stop: Err = %v, Value = %v; want Canceled, the parent's value", c.Err(), c.Value(ctxKey{}))
		}
	})
	t.Run("parent's deadline earlier", func(t *testing.T) {
		early := time.Now().Add(time.Minute)
		p, cancel := context.WithDeadline(parent, early)
		defer cancel()
		c := withDeadline(p, time.Now().Add(time.Hour))
		defer c.stop()
		if d, _ := c.Deadline(); !d.Equal(early) {
			t.Errorf("Deadline = %v, want the parent's %v", d, early)
		}
	})
}
