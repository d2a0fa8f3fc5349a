package consumer

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/rs/zerolog"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/handler"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// returnRequest takes the queue's message and gives it back, n times, as
// a consumer that crashes on it would: each return counts as a delivery of
// the quorum queue's.
func returnRequest(t *testing.T, ch *amqp.Channel, queue string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		deadline := time.Now().Add(30 * time.Second)
		for {
			d, ok, err := ch.Get(queue, false)
			if err != nil {
				t.Fatalf("get from %s: %v", queue, err)
			}
			if ok {
				if got := deliveryCount(d.Headers); got != int64(i) {
					t.Fatalf("delivery %d has %s %d", i+1, deliveryCountHeader, got)
				}
				if err := d.Nack(false, true); err != nil {
					t.Fatal(err)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no message in %s within 30s", queue)
			}
			time.Sleep(10 * time.Millisecond) // polling the queue, with a deadline
		}
	}
}

// TestQuorumDeliveryLimit: on a quorum queue with delivery_limit 3, a
// request delivered 3 times without being settled (its consumer died each
// time) is not run again: its caller gets the unexpected error, it lands in
// the dead-letter queue, and one line with its correlation id is logged.
// One delivery fewer, it runs as usual.
func TestQuorumDeliveryLimit(t *testing.T) {
	const limit = 3
	tests := []struct {
		name       string
		returns    int
		wantRuns   int32
		deadLetter bool
	}{
		{"under the limit: runs", limit - 1, 1, false},
		{"at the limit: dead-lettered", limit, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var runs atomic.Int32
			handlers := map[string]handler.Handler{"dx_poison": handler.Typed("count runs", func(_ context.Context, _ *handler.Call, r lockRequest) (wire.Reply[lockRequest], error) {
				runs.Add(1)
				return wire.Reply[lockRequest]{Success: true, Message: "ran", Data: r}, nil
			})}
			// The first consumer declares the queues and goes.
			first := start(t, setup{exchanges: []string{"dx_poison"}, handlers: handlers, quorum: limit})
			if err := first.stop(); err != nil {
				t.Fatal(err)
			}
			c := first.caller(false)
			id, reply := c.Send("dx_poison", first.queue(), []byte(`{"food":"x","n":1}`), amqpPublishing())
			returnRequest(t, c.Channel(), first.queue(), tt.returns)

			second := start(t, setup{exchanges: []string{"dx_poison"}, handlers: handlers, quorum: limit, vh: first.vh})
			r := c.Wait(reply)
			dead := first.queue() + ".dead"
			if !tt.deadLetter {
				if !r.Success || runs.Load() != tt.wantRuns {
					t.Fatalf("reply %+v after %d runs; want success after %d", r, runs.Load(), tt.wantRuns)
				}
				if q, err := c.Channel().QueueDeclarePassive(dead, true, false, false, false, deadLetterArguments()); err != nil || q.Messages != 0 {
					t.Fatalf("dead-letter queue: %+v, %v; want empty", q, err)
				}
				return
			}
			if r.Success || r.Message != wire.UnexpectedFailure().Message || string(r.Data) != "null" {
				t.Errorf("reply = %+v %s, want the unexpected error", r, r.Data)
			}
			if n := runs.Load(); n != 0 {
				t.Errorf("handler ran %d times, want 0", n)
			}
			var d amqp.Delivery
			var ok bool
			deadline := time.Now().Add(30 * time.Second)
			for !ok && time.Now().Before(deadline) {
				var err error
				if d, ok, err = c.Channel().Get(dead, true); err != nil {
					t.Fatal(err)
				}
				if !ok {
					time.Sleep(10 * time.Millisecond) // polling the queue, with a deadline
				}
			}
			if !ok || d.CorrelationId != id || string(d.Body) != `{"food":"x","n":1}` {
				t.Fatalf("dead-letter queue %s holds %v %q %q; want the request %s", dead, ok, d.CorrelationId, d.Body, id)
			}
			if deaths, _ := d.Headers["x-death"].([]any); len(deaths) != 1 || deaths[0].(amqp.Table)["reason"] != "rejected" {
				t.Errorf("x-death = %v", d.Headers["x-death"])
			}
			var lines []string
			for _, l := range strings.Split(second.logs.String(), "\n") {
				if strings.Contains(l, id) {
					lines = append(lines, l)
				}
			}
			if len(lines) != 1 || !strings.Contains(lines[0], "over its delivery limit") || !strings.Contains(lines[0], `"deliveries":3`) || !strings.Contains(lines[0], `"replied":true`) {
				t.Errorf("log lines with the correlation id:\n%s", strings.Join(lines, "\n"))
			}
		})
	}
}

// TestQuorumOverClassicQueue: a queue that exists as a classic queue, now
// configured quorum, stops the consumer at once with one line saying what
// to do; the queue and its messages stay.
func TestQuorumOverClassicQueue(t *testing.T) {
	classic := start(t, setup{exchanges: []string{"dx_echo"}, handlers: map[string]handler.Handler{"dx_echo": handler.Typed("echo", echo)}})
	if err := classic.stop(); err != nil {
		t.Fatal(err)
	}
	cfg := classic.cfg
	v := cfg.VirtualHosts[classic.vh.Name]
	v.QueueType, v.DeliveryLimit, v.DeadLetterQueue = "quorum", 5, v.Queue+".dead"
	cfg.VirtualHosts[classic.vh.Name] = v
	c, err := New(Options{Config: cfg, VirtualHost: classic.vh.Name, Handlers: map[string]handler.Handler{"dx_echo": handler.Typed("echo", echo)}, Logger: zerolog.New(classic.logs)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = c.Run(ctx)
	var refused *BrokerRefusedError
	if !errors.As(err, &refused) {
		t.Fatalf("Run = %v, want a *BrokerRefusedError", err)
	}
	msg := err.Error()
	for _, want := range []string{"exists with another type than virtual_hosts." + classic.vh.Name + ".queue_type", "never deletes a queue", "rabbitmqctl delete_queue", "loses the messages"} {
		if !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
			t.Errorf("error %q: want one line containing %q", msg, want)
		}
	}
	if _, err := classic.caller(false).Channel().QueueDeclarePassive(v.Queue, true, false, false, false, nil); err != nil {
		t.Errorf("the classic queue is gone: %v", err)
	}
}

// TestQuorumDeliveryLimitWithoutReplyTo: a request over its delivery limit
// that has nobody to answer is journaled with the unexpected-error reply as
// its response, an object a log server takes (not null, which the
// reference log server refuses).
func TestQuorumDeliveryLimitWithoutReplyTo(t *testing.T) {
	const limit = 2
	handlers := map[string]handler.Handler{"dx_poison": handler.Typed("never runs", func(_ context.Context, _ *handler.Call, r lockRequest) (wire.Reply[lockRequest], error) {
		return wire.Reply[lockRequest]{Success: true, Message: "ran", Data: r}, nil
	})}
	first := start(t, setup{exchanges: []string{"dx_poison"}, handlers: handlers, quorum: limit})
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}
	c := first.caller(false)
	id, _ := c.Send("dx_poison", first.queue(), []byte(`{"food":"x","n":1}`), amqp.Publishing{ReplyTo: "-"})
	returnRequest(t, c.Channel(), first.queue(), limit)
	second := start(t, setup{exchanges: []string{"dx_poison"}, handlers: handlers, quorum: limit, vh: first.vh})
	var resp *logship.Record
	testutil.WaitFor(t, "the journaled response", 30*time.Second, func() bool {
		for _, r := range second.journal.records() {
			if r.Kind == logship.KindResponse && r.CorrelationID == id {
				resp = &r
				return true
			}
		}
		return false
	})
	var got wire.Response
	if err := json.Unmarshal(resp.ResponsePayload, &got); err != nil || got.Success || got.Message != wire.MessageUnexpectedError {
		t.Errorf("journaled response payload %s (%v), want the unexpected-error reply", resp.ResponsePayload, err)
	}
	if resp.Traceback == nil || !strings.Contains(*resp.Traceback, "delivery_limit 2") {
		t.Errorf("traceback %v, want the delivery limit named", resp.Traceback)
	}
}

// rejections records the rejections of deliveries, as a channel would.
type rejections struct{ n int }

func (r *rejections) Ack(uint64, bool) error        { return nil }
func (r *rejections) Nack(uint64, bool, bool) error { return nil }
func (r *rejections) Reject(uint64, bool) error {
	r.n++
	return nil
}

// TestOverDeliveryLimitAnsweredBefore: a request over its delivery limit
// whose run finished here before is answered from its outcome, not
// dead-lettered; one without an outcome is dead-lettered.
func TestOverDeliveryLimitAnsweredBefore(t *testing.T) {
	tests := []struct {
		name       string
		answered   bool
		deliveries int64
		dead       bool
	}{
		{"answered before, over the limit", true, 3, false},
		{"never answered, over the limit", false, 3, true},
		{"never answered, under the limit", false, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := offline(t, "")
			c.vh.QueueType, c.vh.DeliveryLimit, c.vh.DeadLetterQueue = config.QueueQuorum, 3, "q.dead"
			body := []byte(`{"n":1}`)
			key := outcomeKey("dx_echo", "c1", body)
			if tt.answered {
				o, _ := c.outcomes.begin(key)
				c.outcomes.finish(key, o, []byte(`{"success":true,"message":"echo","data":{"n":1}}`))
			}
			rej := &rejections{}
			d := amqp.Delivery{Acknowledger: rej, Exchange: "dx_echo", CorrelationId: "c1", ReplyTo: "r", Body: body,
				Headers: amqp.Table{deliveryCountHeader: tt.deliveries}}
			dead := c.overDeliveryLimit(d, &requestLog{base: &c.log})
			if dead != tt.dead || rej.n != map[bool]int{true: 1, false: 0}[tt.dead] {
				t.Errorf("dead-lettered %v (%d rejections), want %v", dead, rej.n, tt.dead)
			}
		})
	}
}
