//go:build brokerrestart

// The broker restart test stops the shared RabbitMQ application, so it runs
// alone, after the rest of the suite (make test runs it with -tags
// brokerrestart).

package e2e

import (
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testbroker"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testrpc"
)

func TestBrokerRestart(t *testing.T) {
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
	var c *testrpc.Caller
	waitFor(t, "the broker to accept a caller", func() bool {
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
