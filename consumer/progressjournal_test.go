package consumer

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fernet/fernet-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/handler"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// journalOf is the records journaled for one correlation id, the
// request's found by its payload's "user".
func journalOf(j *memJournal, user string) []logship.Record {
	var id string
	var out []logship.Record
	for _, r := range j.records() {
		if id == "" && r.Kind == logship.KindRequest && strings.Contains(string(r.RequestPayload), `"user":"`+user+`"`) {
			id = r.CorrelationID
		}
		if id != "" && r.CorrelationID == id {
			out = append(out, r)
		}
	}
	return out
}

func kindsOf(recs []logship.Record) string {
	var k []string
	for _, r := range recs {
		k = append(k, string(r.Kind))
	}
	return strings.Join(k, " ")
}

// TestProgressIsJournaled: every progress update a handler reports is
// journaled for the log server, whether or not the caller asked for
// progress: the request record first, at the first update, while the
// handler still runs (the log server shows the action live), then each
// update, its decrypted values masked, then the response. A handler
// flooding updates is held to one record per progressInterval.
func TestProgressIsJournaled(t *testing.T) {
	var key fernet.Key
	if err := key.Generate(); err != nil {
		t.Fatal(err)
	}
	const secret = "hunter2-very-secret"
	release := make(chan struct{})
	var flooded atomic.Int64
	h := start(t, setup{
		exchanges: []string{"dx_slow", "dx_flood"},
		fernetKey: key.Encode(),
		handlers: map[string]handler.Handler{
			"dx_slow": handler.Typed("reports progress", func(ctx context.Context, _ *handler.Call, r secretRequest) (wire.Reply[secretResponse], error) {
				handler.Progress(ctx, wire.Progress{State: "Starting", Message: "logging in with " + r.Password})
				<-release
				time.Sleep(progressPace) // the handler's work
				handler.Progress(ctx, wire.Progress{State: "Copying", Message: "half", Percent: wire.Percentage(50), Data: json.RawMessage(`{"password":"` + r.Password + `","n":1}`)})
				time.Sleep(progressPace)
				handler.Progress(ctx, wire.Progress{State: "Done", Percent: wire.Percentage(100)})
				return wire.Reply[secretResponse]{Success: true, Message: "ok"}, nil
			}),
			"dx_flood": handler.Typed("floods progress", func(ctx context.Context, _ *handler.Call, _ secretRequest) (wire.Reply[secretResponse], error) {
				until := time.Now().Add(3 * progressInterval)
				for i := 0; time.Now().Before(until); i++ {
					handler.Progress(ctx, wire.Progress{State: "Flooding", Message: fmt.Sprint(i)})
					flooded.Store(int64(i + 1))
				}
				return wire.Reply[secretResponse]{Success: true, Message: "ok"}, nil
			}),
		},
	})
	tok, err := fernet.EncryptAndSign([]byte(secret), &key)
	if err != nil {
		t.Fatal(err)
	}
	c := h.caller(false) // a caller that does not ask for progress
	replied := make(chan wire.Response, 1)
	go func() { replied <- h.call(c, "dx_slow", map[string]any{"user": "slow", "password": string(tok)}) }()
	testutil.WaitFor(t, "the request and its first update journaled while the handler runs", 30*time.Second, func() bool {
		return kindsOf(journalOf(h.journal, "slow")) == "request progress"
	})
	close(release)
	if r := <-replied; !r.Success {
		t.Fatalf("reply = %+v", r)
	}
	testutil.WaitFor(t, "the response journaled", 30*time.Second, func() bool {
		return strings.HasSuffix(kindsOf(journalOf(h.journal, "slow")), "response")
	})
	recs := journalOf(h.journal, "slow")
	if got := kindsOf(recs); got != "request progress progress progress response" {
		t.Fatalf("journaled %s, want request, 3 progress, response", got)
	}
	var got []string
	for i, r := range recs[1:4] {
		pct := "-"
		if r.Percent != nil {
			pct = fmt.Sprint(*r.Percent)
		}
		got = append(got, fmt.Sprintf("%s|%s|%s|%s", r.State, r.Message, pct, r.Data))
		if prev := recs[i]; i > 0 && !r.Time.After(prev.Time) {
			t.Errorf("progress %d at %v, not after the one before (%v)", i+1, r.Time, prev.Time)
		}
	}
	want := []string{"Starting|logging in with " + Mask + "|-|", `Copying|half|50|{"n":1,"password":"` + Mask + `"}`, "Done||100|"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("progress records:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if recs[0].Repeat {
		t.Error("a first run's request record is marked repeat")
	}
	for _, r := range h.journal.records() {
		if b, _ := json.Marshal(r); strings.Contains(string(b), secret) {
			t.Errorf("the decrypted secret reached the journal: %s", b)
		}
	}
	if strings.Contains(h.logs.String(), secret) {
		t.Error("the decrypted secret reached the log")
	}

	start := time.Now()
	if r := h.call(c, "dx_flood", map[string]any{"user": "flood", "password": "x"}); !r.Success {
		t.Fatalf("reply = %+v", r)
	}
	took := time.Since(start)
	testutil.WaitFor(t, "the flood's response journaled", 30*time.Second, func() bool {
		return strings.HasSuffix(kindsOf(journalOf(h.journal, "flood")), "response")
	})
	n := strings.Count(kindsOf(journalOf(h.journal, "flood")), "progress")
	// One at once, one per interval after, and the last at the end.
	if limit := int(took/progressInterval) + 2; n < 2 || n > limit {
		t.Errorf("a flood of updates over %v journaled %d progress records, want 2 to %d", took, n, limit)
	}
	t.Logf("a flood of %d updates over %v journaled %d progress records", flooded.Load(), took, n)
}

// TestRequeuedAfterProgressIsMarkedRepeat: a request whose first run
// reported progress (journaling the request) and was killed by a forced
// stop is journaled again when it runs again, marked repeat, so that the
// shipper takes the log server's refusal of the duplicate as "already
// there"; a first run's request is not marked.
func TestRequeuedAfterProgressIsMarkedRepeat(t *testing.T) {
	c := offline(t, "")
	j := &memJournal{}
	c.spool = j
	c.routes["dx_echo"].handler = handler.Typed("progress, then waits on a first run", func(ctx context.Context, call *handler.Call, r benchRequest) (wire.Reply[benchRequest], error) {
		handler.Progress(ctx, wire.Progress{State: "Started"})
		if !call.Redelivered {
			<-ctx.Done()
			return wire.Reply[benchRequest]{}, ctx.Err()
		}
		return wire.Reply[benchRequest]{Success: true, Message: "echo", Data: r}, nil
	})
	in := incoming{exchange: "dx_echo", correlationID: "c1", replyTo: "r", body: []byte(`{"n":1}`)}
	aborted, abort := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() { done <- c.respond(context.Background(), aborted, &requestLog{base: &c.log}, in) }()
	testutil.WaitFor(t, "the first run's progress journaled", 30*time.Second, func() bool {
		return kindsOf(j.records()) == "request progress"
	})
	abort()
	if res := <-done; !res.requeue {
		t.Fatalf("result = %+v, want requeue", res)
	}
	in.redelivered = true
	if res := c.respond(context.Background(), context.Background(), &requestLog{base: &c.log}, in); res.reply == nil {
		t.Fatalf("result = %+v, want a reply", res)
	}
	recs := j.records()
	if got := kindsOf(recs); got != "request progress request progress response" {
		t.Fatalf("journaled %s", got)
	}
	if recs[0].Repeat || !recs[2].Repeat {
		t.Errorf("repeat marks: first run %v, second run %v; want false, true", recs[0].Repeat, recs[2].Repeat)
	}
}
