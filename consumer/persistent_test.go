package consumer

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testbroker"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// durableCaller is a caller with a durable reply queue bound to the
// exchange, that publishes requests and fetches replies with basic.get.
type durableCaller struct {
	t     *testing.T
	ch    *amqp.Channel
	reply string
}

func newDurableCaller(t *testing.T, url, exchange string) *durableCaller {
	t.Helper()
	conn, err := amqp.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	c := &durableCaller{t: t, ch: ch, reply: "replies-kept"}
	if _, err := ch.QueueDeclare(c.reply, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind(c.reply, c.reply, exchange, false, nil); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *durableCaller) send(exchange, queue, id string, mode uint8) {
	c.t.Helper()
	err := c.ch.PublishWithContext(context.Background(), exchange, queue, false, false, amqp.Publishing{
		ContentType: wire.ContentType, CorrelationId: id, ReplyTo: c.reply, DeliveryMode: mode,
		Body: []byte(`{"favourite_food":"onion"}`),
	})
	if err != nil {
		c.t.Fatal(err)
	}
}

// next waits for the next reply in the reply queue.
func (c *durableCaller) next() amqp.Delivery {
	c.t.Helper()
	var d amqp.Delivery
	testutil.WaitFor(c.t, "a reply in "+c.reply, 30*time.Second, func() bool {
		got, ok, err := c.ch.Get(c.reply, true)
		if err != nil {
			c.t.Fatal(err)
		}
		d = got
		return ok
	})
	return d
}

// TestReplyIsPersistentWhenRequestIs: the reply keeps the request's
// delivery mode: persistent for a persistent request, transient otherwise.
func TestReplyIsPersistentWhenRequestIs(t *testing.T) {
	h := start(t, setup{exchanges: []string{"dx_example"}})
	c := newDurableCaller(t, h.vh.URL(), "dx_example")
	for _, tt := range []struct {
		request, want uint8
	}{{amqp.Persistent, amqp.Persistent}, {amqp.Transient, amqp.Transient}, {0, amqp.Transient}} {
		c.send("dx_example", h.queue(), "mode", tt.request)
		d := c.next()
		got := d.DeliveryMode
		if got == 0 {
			got = amqp.Transient
		}
		if got != tt.want || d.CorrelationId != "mode" {
			t.Errorf("request delivery mode %d: reply's %d (%s), want %d", tt.request, d.DeliveryMode, d.CorrelationId, tt.want)
		}
	}
}

// TestPersistentReplySurvivesBrokerRestart: the reply to a persistent
// request, waiting in the caller's durable reply queue, is still there
// after the broker restarts.
func TestPersistentReplySurvivesBrokerRestart(t *testing.T) {
	n := testbroker.StartNode(t)
	h := start(t, setup{exchanges: []string{"dx_example"}, node: n})
	c := newDurableCaller(t, n.URL(), "dx_example")
	c.send("dx_example", h.queue(), "kept", amqp.Persistent)
	testutil.WaitFor(t, "the reply to wait in the reply queue", 30*time.Second, func() bool {
		q, err := c.ch.QueueDeclarePassive(c.reply, true, false, false, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		return q.Messages == 1
	})
	n.Restart()
	c = &durableCaller{t: t, reply: c.reply}
	conn, err := amqp.Dial(n.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if c.ch, err = conn.Channel(); err != nil {
		t.Fatal(err)
	}
	d, ok, err := c.ch.Get(c.reply, true)
	if err != nil || !ok {
		t.Fatalf("after the restart, no reply in the durable reply queue (%v)", err)
	}
	var r wire.Response
	if err := json.Unmarshal(d.Body, &r); err != nil || d.CorrelationId != "kept" || !r.Success {
		t.Errorf("reply %s %q: %v", d.CorrelationId, d.Body, err)
	}
}
