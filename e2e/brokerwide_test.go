//go:build brokerwide

// These tests change the whole shared broker (they stop it, or change its
// settings), so they run alone, after the rest of the suite: make test runs
// them with -tags brokerwide.

package e2e

import (
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testbroker"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testrpc"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
)

func TestBrokerwideRestart(t *testing.T) {
	w := newWorld(t, 5)
	p := w.start()
	p.waitLog(t, `"message":"consuming"`)
	if r := testrpc.New(t, w.vh.URL(), true).Call("dx_record", w.queue, map[string]int{"n": 0}); !r.Success {
		t.Fatalf("reply = %+v", r)
	}
	testbroker.StopApp(t)
	p.waitLog(t, "connection lost; reconnecting")
	time.Sleep(5 * time.Second) // the outage being simulated, not a synchronisation
	testbroker.StartApp(t)
	back := time.Now()
	// Exchanges are not durable (as the reference declares them): the
	// broker's restart dropped them, and they are back once the consumer has
	// declared its topology again. A call published before that is unroutable.
	testutil.WaitFor(t, "the consumer to consume again", 60*time.Second, func() bool {
		return strings.Count(p.stderr.String(), `"message":"consuming"`) >= 2
	})
	var c *testrpc.Caller
	testutil.WaitFor(t, "the broker to accept a caller", 60*time.Second, func() bool {
		conn, err := amqp.Dial(w.vh.URL())
		if err != nil {
			return false
		}
		_ = conn.Close()
		c = testrpc.New(t, w.vh.URL(), true)
		return true
	})
	r := c.Call("dx_record", w.queue, map[string]int{"n": 1})
	took := time.Since(back)
	t.Logf("served again %v after the broker's return", took)
	if !r.Success || took > 10*time.Second {
		t.Errorf("reply %+v after %v; want success within 10s", r, took)
	}
	select {
	case <-p.done:
		t.Fatalf("the consumer exited with status %d; it must survive in the same process", p.code)
	default:
	}
	checkOnce(t, w, 2)
}

// setBrokerEnv sets a rabbit application setting for the test's duration.
func setBrokerEnv(t *testing.T, key, value string) {
	t.Helper()
	old := strings.TrimSpace(testbroker.Ctl(t, "eval", "application:get_env(rabbit, "+key+")."))
	t.Cleanup(func() {
		if strings.HasPrefix(old, "{ok,") {
			testbroker.Ctl(t, "eval", "application:set_env(rabbit, "+key+", "+strings.TrimSuffix(strings.TrimPrefix(old, "{ok,"), "}")+").")
		} else {
			testbroker.Ctl(t, "eval", "application:unset_env(rabbit, "+key+").")
		}
	})
	testbroker.Ctl(t, "eval", "application:set_env(rabbit, "+key+", "+value+").")
}

// TestBrokerwideConsumerTimeout: a handler that runs longer than the broker's
// consumer_timeout makes the broker close the channel; the consumer
// recovers, and the redelivered request is answered from the first run
// without running the handler again.
func TestBrokerwideConsumerTimeout(t *testing.T) {
	setBrokerEnv(t, "channel_tick_interval", "200")
	setBrokerEnv(t, "consumer_timeout", "1000")
	w := newWorld(t, 2)
	p := w.start("HANDLER_SLEEP=3")
	p.waitLog(t, `"message":"consuming"`)
	c := testrpc.New(t, w.vh.URL(), true)
	r := c.Call("dx_record", w.queue, map[string]int{"n": 1})
	if !r.Success {
		t.Fatalf("reply = %+v", r)
	}
	p.waitLog(t, "PRECONDITION_FAILED")
	p.waitLog(t, "answering from its first run")
	checkOnce(t, w, 1)
}
