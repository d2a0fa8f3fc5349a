package consumer

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/handler"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

func echo(_ context.Context, _ *handler.Call, r lockRequest) (wire.Reply[lockRequest], error) {
	return wire.Reply[lockRequest]{Success: true, Message: "echo", Data: r}, nil
}

func TestGoHandlerPanicIsAnUnexpectedError(t *testing.T) {
	h := start(t, setup{exchanges: []string{"dx_panic"}, handlers: map[string]handler.Handler{
		"dx_panic": handler.Typed("panics", func(_ context.Context, _ *handler.Call, r lockRequest) (wire.Reply[empty], error) {
			if r.N == 1 {
				panic("boom: nil map")
			}
			return wire.Reply[empty]{Success: true, Message: "fine"}, nil
		}),
	}})
	c := h.caller(false)
	if r := h.call(c, "dx_panic", lockRequest{N: 1}); r.Success || r.Message != wire.MessageUnexpectedError {
		t.Fatalf("reply = %+v", r)
	}
	if !strings.Contains(h.logs.String(), "handler panicked: boom: nil map") {
		t.Error("the panic is not in the log")
	}
	if r := h.call(c, "dx_panic", lockRequest{N: 2}); !r.Success {
		t.Fatalf("the consumer must keep serving after a panic; reply = %+v", r)
	}
}

func TestQueueDeletedConsumerCancelled(t *testing.T) {
	h := start(t, setup{exchanges: []string{"dx_echo"}, handlers: map[string]handler.Handler{"dx_echo": handler.Typed("echo", echo)}})
	c := h.caller(false)
	if r := h.call(c, "dx_echo", lockRequest{N: 1}); !r.Success {
		t.Fatal(r)
	}
	from := len(h.notified.all())
	if _, err := c.Channel().QueueDelete(h.queue(), false, false, false); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "the consumer to notice its cancellation", 30*time.Second, func() bool {
		return strings.Contains(h.logs.String(), "the broker cancelled consumer")
	})
	// It declares the queue again and serves.
	testutil.WaitFor(t, "consuming again", 30*time.Second, func() bool {
		for _, s := range h.notified.all()[from:] {
			if strings.HasPrefix(s, "STATUS=consuming") {
				return true
			}
		}
		return false
	})
	if r := h.call(c, "dx_echo", lockRequest{N: 2}); !r.Success {
		t.Fatal(r)
	}
}

func TestWedgedDispatcherStopsWatchdogPings(t *testing.T) {
	wedge := make(chan struct{})
	var wedged atomic.Bool
	h := start(t, setup{
		exchanges: []string{"dx_echo"},
		handlers:  map[string]handler.Handler{"dx_echo": handler.Typed("echo", echo)},
		before: func(c *Consumer) {
			c.testHookDispatch = func() {
				if wedged.Load() {
					<-wedge
				}
			}
		},
	})
	pings := make(chan struct{}, 1000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wdDone := make(chan struct{})
	go func() {
		defer close(wdDone)
		h.c.Watchdog(ctx, 20*time.Millisecond, func() { pings <- struct{}{} })
	}()
	for i := 0; i < 3; i++ {
		select {
		case <-pings:
		case <-time.After(30 * time.Second):
			t.Fatal("no watchdog ping from a healthy consumer")
		}
	}
	wedged.Store(true)
	c := h.caller(false)
	c.Send("dx_echo", h.queue(), []byte(`{"food":"x","n":1}`), amqpPublishing())
	testutil.WaitFor(t, "the dispatcher to report unhealthy", 30*time.Second, func() bool {
		return strings.Contains(h.logs.String(), "unhealthy: not pinging the watchdog")
	})
	// Drain pings sent before the wedge, then none may come.
	for len(pings) > 0 {
		<-pings
	}
	select {
	case <-pings:
		t.Fatal("a wedged dispatcher must not ping the watchdog")
	case <-time.After(200 * time.Millisecond): // ten ping intervals
	}
	wedged.Store(false)
	close(wedge)
	select {
	case <-pings:
	case <-time.After(30 * time.Second):
		t.Fatal("pings did not resume once the dispatcher recovered")
	}
	cancel()
	<-wdDone
}

func TestStartStopCyclesLeakNoGoroutines(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	handlers, _ := persistentWorld(t, "30", "")
	for i := 0; i < 3; i++ {
		t.Run(fmt.Sprint("cycle ", i), func(t *testing.T) {
			h := start(t, setup{exchanges: []string{"dx_echo", "dx_p"}, handlersDir: handlers, handlers: map[string]handler.Handler{"dx_echo": handler.Typed("echo", echo)}})
			c := h.caller(true)
			if r := h.call(c, "dx_echo", lockRequest{N: i}); !r.Success {
				t.Fatal(r)
			}
			pidOf(t, h.call(c, "dx_p", map[string]any{"n": i})) // a persistent pool's process
			if err := h.stop(); err != nil {
				t.Fatalf("stop: %v", err)
			}
		})
	}
	// The thread that starts every handler process stays, by design, once
	// the first started.
	goleak.VerifyNone(t, ignore, goleak.IgnoreTopFunction("github.com/rabbitmq-consumer/rabbitmq-consumer/handler.spawner"))
}
