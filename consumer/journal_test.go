package consumer

import (
	"context"
	"testing"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship"
)

// journalKinds lists the kinds of the records journaled for one correlation id.
func journalKinds(j *memJournal, id string) (out []logship.Kind) {
	for _, r := range j.records() {
		if r.CorrelationID == id {
			out = append(out, r.Kind)
		}
	}
	return out
}

// TestRequeuedRequestIsJournaledOnce: a request that goes back to the
// queue (the consumer stopped while it waited for its lock) and is then
// delivered again and answered is journaled as one request and one
// response: the log server refuses a second request with the same
// correlation id.
func TestRequeuedRequestIsJournaledOnce(t *testing.T) {
	c := offline(t, "")
	j := &memJournal{}
	c.spool = j
	in := incoming{exchange: "dx_echo", correlationID: "c1", replyTo: "r", body: []byte(`{"n":1}`)}
	lock, _ := c.proveRequest(c.routes[in.exchange], in.body)
	unlock, err := c.locks.lock(context.Background(), lock)
	if err != nil {
		t.Fatal(err)
	}
	stopped, stop := context.WithCancel(context.Background())
	stop()
	if res := c.respond(stopped, context.Background(), &requestLog{base: &c.log}, in); !res.requeue {
		t.Fatalf("result = %+v, want requeue", res)
	}
	unlock()
	in.redelivered = true
	if res := c.respond(context.Background(), context.Background(), &requestLog{base: &c.log}, in); res.reply == nil {
		t.Fatalf("result = %+v, want a reply", res)
	}
	if got := journalKinds(j, "c1"); len(got) != 2 || got[0] != logship.KindRequest || got[1] != logship.KindResponse {
		t.Errorf("journaled %v, want [request response]", got)
	}
}

// TestRedeliveryAnsweredFromOutcomeIsNotJournaled: a request delivered
// again after it was answered is answered from its outcome and journals
// nothing more.
func TestRedeliveryAnsweredFromOutcomeIsNotJournaled(t *testing.T) {
	c := offline(t, t.TempDir())
	j := &memJournal{}
	c.spool = j
	in := incoming{exchange: "dx_echo", correlationID: "c2", replyTo: "r", body: []byte(`{"n":2}`)}
	ctx := context.Background()
	first := c.respond(ctx, ctx, &requestLog{base: &c.log}, in)
	in.redelivered = true
	again := c.respond(ctx, ctx, &requestLog{base: &c.log}, in)
	if again.reply == nil || string(again.reply) != string(first.reply) {
		t.Fatalf("redelivery answered %s, want %s", again.reply, first.reply)
	}
	if got := journalKinds(j, "c2"); len(got) != 2 {
		t.Errorf("journaled %v, want [request response]", got)
	}
}
