// Package testrpc is a minimal RPC caller for tests, speaking the wire
// contract directly with amqp091-go: a reply queue bound to each request
// exchange (the reference client's way) or direct reply-to.
package testrpc

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// Caller makes RPC calls on one virtual host.
type Caller struct {
	t       testing.TB
	conn    *amqp.Connection
	ch      *amqp.Channel
	replyTo string
	direct  bool
	mu      sync.Mutex
	waiting map[string]chan wire.Response
	bound   map[string]bool
}

// New connects a caller to the virtual host at url; it is closed when the test ends.
func New(t testing.TB, url string, direct bool) *Caller {
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
	c := &Caller{t: t, conn: conn, ch: ch, direct: direct, waiting: map[string]chan wire.Response{}, bound: map[string]bool{}}
	var deliveries <-chan amqp.Delivery
	if direct {
		c.replyTo = wire.DirectReplyTo
		deliveries, err = ch.Consume(c.replyTo, "", true, false, false, false, nil)
	} else {
		q, qerr := ch.QueueDeclare("", false, true, true, false, nil)
		if qerr != nil {
			t.Fatal(qerr)
		}
		c.replyTo = q.Name
		deliveries, err = ch.Consume(q.Name, "", true, true, false, false, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for d := range deliveries {
			var r wire.Response
			if err := json.Unmarshal(d.Body, &r); err != nil {
				r = wire.Response{Message: "UNPARSABLE REPLY: " + string(d.Body)}
			}
			c.mu.Lock()
			w := c.waiting[d.CorrelationId]
			delete(c.waiting, d.CorrelationId)
			c.mu.Unlock()
			if w != nil {
				w <- r
			}
		}
	}()
	return c
}

// Channel is the caller's AMQP channel, for inspecting queues.
func (c *Caller) Channel() *amqp.Channel { return c.ch }

// Send publishes a request and returns its correlation id and the channel
// its reply arrives on. In pub, ReplyTo or CorrelationId "-" means none.
func (c *Caller) Send(exchange, routingKey string, body []byte, pub amqp.Publishing) (string, chan wire.Response) {
	c.t.Helper()
	c.mu.Lock()
	if !c.direct && !c.bound[exchange] {
		c.bound[exchange] = true
		c.mu.Unlock()
		if err := c.ch.QueueBind(c.replyTo, c.replyTo, exchange, false, nil); err != nil {
			c.t.Fatal(err)
		}
		c.mu.Lock()
	}
	if pub.CorrelationId == "" {
		pub.CorrelationId = uuid.NewString() // as the reference client's

	}
	if pub.ReplyTo == "" {
		pub.ReplyTo = c.replyTo
	}
	if pub.ReplyTo == "-" {
		pub.ReplyTo = ""
	}
	if pub.CorrelationId == "-" {
		pub.CorrelationId = ""
	}
	pub.ContentType = wire.ContentType
	pub.Body = body
	w := make(chan wire.Response, 1)
	c.waiting[pub.CorrelationId] = w
	c.mu.Unlock()
	if err := c.ch.PublishWithContext(context.Background(), exchange, routingKey, false, false, pub); err != nil {
		c.t.Fatal(err)
	}
	return pub.CorrelationId, w
}

// Call makes one RPC (body: []byte or a value to marshal) and waits for its reply.
func (c *Caller) Call(exchange, routingKey string, body any) wire.Response {
	c.t.Helper()
	b, ok := body.([]byte)
	if !ok {
		b, _ = json.Marshal(body)
	}
	_, w := c.Send(exchange, routingKey, b, amqp.Publishing{})
	return c.Wait(w)
}

// Wait waits up to a minute for a reply.
func (c *Caller) Wait(w chan wire.Response) wire.Response {
	c.t.Helper()
	select {
	case r := <-w:
		return r
	case <-time.After(60 * time.Second):
		c.t.Fatal("no reply within 60s")
		return wire.Response{}
	}
}

// Expect makes the reply of correlation id "" (a request sent without one)
// arrive on w.
func (c *Caller) Expect(id string, w chan wire.Response) {
	c.mu.Lock()
	c.waiting[id] = w
	c.mu.Unlock()
}
