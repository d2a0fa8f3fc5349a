package consumer

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/handler"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testbroker"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// TestQuorumQueueSurvivesNodeLoss: on a three-node cluster, a consumer of
// a quorum queue given every node consumes through the first; requests
// are sent through the third, with publisher confirms; the first node is
// killed while requests are in flight. The consumer moves on to the second node and every request is
// answered, none run twice.
func TestQuorumQueueSurvivesNodeLoss(t *testing.T) {
	nodes := testbroker.StartCluster(t, 3)
	var runs atomic.Int32
	handlers := map[string]handler.Handler{"dx_work": handler.Typed("count runs", func(ctx context.Context, _ *handler.Call, r lockRequest) (wire.Reply[lockRequest], error) {
		runs.Add(1)
		select { // some work, so that requests are in flight when the node stops
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
		}
		return wire.Reply[lockRequest]{Success: true, Message: "ran", Data: r}, nil
	})}
	h := start(t, setup{exchanges: []string{"dx_work"}, handlers: handlers, quorum: 5,
		vh: &testbroker.VHost{Name: "/"}, hosts: []string{nodes[0].Addr(), nodes[1].Addr(), nodes[2].Addr()}})
	testutil.WaitFor(t, "consuming through the first node", 30*time.Second, func() bool {
		return strings.Contains(h.logs.String(), fmt.Sprintf(`"node":%q,"queue"`, nodes[0].Addr()))
	})
	c := h.callerAt(nodes[2])
	// Publisher confirms: a request counts as sent once the cluster holds it.
	if err := c.Channel().Confirm(false); err != nil {
		t.Fatal(err)
	}
	const n = 60
	confirms := c.Channel().NotifyPublish(make(chan amqp.Confirmation, n))
	replies := make([]chan wire.Response, n)
	for i := range replies {
		_, replies[i] = c.Send("dx_work", h.queue(), mustJSON(t, lockRequest{Food: "f", N: i}), amqp.Publishing{DeliveryMode: amqp.Persistent})
	}
	for i := 0; i < n; i++ {
		select {
		case cf := <-confirms:
			if !cf.Ack {
				t.Fatalf("request %d not confirmed", cf.DeliveryTag)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%d of %d requests confirmed", i, n)
		}
	}
	testutil.WaitFor(t, "requests running", 30*time.Second, func() bool { return runs.Load() >= 10 })
	nodes[0].Kill()
	for i, w := range replies {
		r := c.Wait(w)
		if !r.Success || !strings.Contains(string(r.Data), fmt.Sprintf(`"n":%d}`, i)) {
			t.Fatalf("reply %d = %+v %s", i, r, r.Data)
		}
	}
	logs := h.logs.String()
	t.Logf("%d requests, %d runs, %d answered on a redelivery, %d connections lost", n, runs.Load(),
		strings.Count(logs, `"redelivered":true,"message":"request received"`)+strings.Count(logs, "answering from its first run"), strings.Count(logs, "connection lost"))
	if got := runs.Load(); got != n {
		t.Errorf("handler ran %d times for %d requests", got, n)
	}
	if !strings.Contains(h.logs.String(), fmt.Sprintf(`"node":%q,"queue"`, nodes[1].Addr())) {
		t.Errorf("the consumer did not move on to the second node:\n%s", h.logs.String())
	}
}
