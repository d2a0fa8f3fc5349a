package handler

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
)

// counts is an Observer that counts.
type counts struct{ started, ended, restarted atomic.Int64 }

func (c *counts) ProcessStarted()   { c.started.Add(1) }
func (c *counts) ProcessEnded()     { c.ended.Add(1) }
func (c *counts) HandlerRestarted() { c.restarted.Add(1) }

// TestPoolObserver: the observer sees the warm process start, a crashed one
// restarted and replaced, a recycled one end without a restart, and every
// process end at Close.
func TestPoolObserver(t *testing.T) {
	defer goleak.VerifyNone(t, ignoreSpawner)
	e, err := LoadExec(writeHandler(t, persistentScript, "0.5", `,"mode":"persistent","max_requests_per_process":2`), true)
	if err != nil {
		t.Fatal(err)
	}
	pl := NewPool(e, "v", "dx_p", 1, testBackoff, zerolog.Nop())
	var c counts
	pl.Observe(&c)
	if err := pl.Open(); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		body                     string
		fails                    bool
		started, ended, restarts int64
	}{
		{body: `{}`, started: 1},
		{body: `{"x":"crash"}`, fails: true, started: 2, ended: 1, restarts: 1},
		{body: `{}`, started: 2, ended: 1, restarts: 1},
		{body: `{}`, started: 3, ended: 2, restarts: 1}, // its second request: recycled, not restarted
	}
	for i, st := range steps {
		if _, err := call(pl, st.body); (err != nil) != st.fails {
			t.Fatalf("step %d %s: error %v", i, st.body, err)
		}
		testutil.WaitFor(t, "the observer's counts", 10*time.Second, func() bool {
			return c.started.Load() == st.started && c.ended.Load() == st.ended && c.restarted.Load() == st.restarts
		})
	}
	if err := pl.Close(); err != nil {
		t.Fatal(err)
	}
	if c.started.Load() != c.ended.Load() {
		t.Errorf("after Close: %d started, %d ended", c.started.Load(), c.ended.Load())
	}
}
