package consumer

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/handler"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testrpc"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// progressSteps is how many progress updates the test handlers report,
// progressPace the time between two (more than progressInterval, so that
// none is coalesced).
const (
	progressSteps = 5
	progressPace  = 300 * time.Millisecond
)

// progressPy is a persistent handler, written with the Python helper,
// that reports progressSteps updates before its reply.
const progressPy = `#!/usr/bin/env python3
import sys, time
sys.path.insert(0, "PYTHONDIR")
from rabbitmq_consumer_handler import progress, reply, serve

def handle(request, meta):
    for i in range(1, STEPS + 1):
        progress("Building", "step %d" % i, i * 20, {"step": i})
        time.sleep(PACE)
    return reply(True, "Built", {"steps": STEPS})

serve(handle)
`

// progressGo is a Go handler that reports progressSteps updates before
// its reply.
func progressGo() handler.Handler {
	type req struct{}
	type resp struct {
		Steps int `json:"steps"`
	}
	return handler.Typed("reports progress", func(ctx context.Context, _ *handler.Call, _ req) (wire.Reply[resp], error) {
		for i := 1; i <= progressSteps; i++ {
			handler.Progress(ctx, wire.Progress{State: "Building", Message: fmt.Sprintf("step %d", i), Percent: wire.Percentage(float64(i * 20)), Data: json.RawMessage(fmt.Sprintf(`{"step":%d}`, i))})
			time.Sleep(progressPace) // the handler's work
		}
		return wire.Reply[resp]{Success: true, Message: "Built", Data: resp{Steps: progressSteps}}, nil
	})
}

// progressCall calls exchange as a caller that asks for progress: it
// returns the messages with its correlation id up to the first one not
// marked as progress (the reply), in the order they came.
func progressCall(t *testing.T, url, exchange, queue string) []amqp.Delivery {
	t.Helper()
	conn, err := amqp.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind(q.Name, q.Name, exchange, false, nil); err != nil {
		t.Fatal(err)
	}
	deliveries, err := ch.Consume(q.Name, "", true, true, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.NewString()
	err = ch.PublishWithContext(context.Background(), exchange, queue, false, false, amqp.Publishing{
		ContentType: wire.ContentType, ReplyTo: q.Name, CorrelationId: id,
		Headers: amqp.Table{wire.AcceptProgressHeader: int32(1)}, Body: []byte(`{}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []amqp.Delivery
	limit := time.After(60 * time.Second)
	for {
		select {
		case d := <-deliveries:
			if d.CorrelationId != id {
				t.Fatalf("a message with correlation id %q, want %q", d.CorrelationId, id)
			}
			got = append(got, d)
			if !wire.TrueHeader(d.Headers[wire.ProgressHeader]) {
				return got
			}
		case <-limit:
			t.Fatalf("no reply within 60s; %d messages", len(got))
		}
	}
}

// TestProgressThroughTheBroker: a persistent handler (Python helper) and a
// Go handler report 5 progress steps. A caller that asks for progress gets
// the 5 updates, in order, marked (header and type), then the reply; a
// caller that does not (the reference client, which takes the first
// message with its correlation id as the reply) gets only the reply.
func TestProgressThroughTheBroker(t *testing.T) {
	pythonDir, err := filepath.Abs("../python")
	if err != nil {
		t.Fatal(err)
	}
	handlers := t.TempDir()
	py := strings.NewReplacer("PYTHONDIR", pythonDir, "STEPS", fmt.Sprint(progressSteps), "PACE", fmt.Sprint(progressPace.Seconds())).Replace(progressPy)
	mustWrite(t, filepath.Join(handlers, "dx_progress_py", "handler"), py, 0o755)
	mustWrite(t, filepath.Join(handlers, "dx_progress_py", "contract.json"), `{"description":"progress","mode":"persistent","timeout_seconds":30,"request":{"type":"object"},"response":{"type":"object"}}`, 0o644)
	h := start(t, setup{
		exchanges:   []string{"dx_progress_py", "dx_progress_go"},
		handlers:    map[string]handler.Handler{"dx_progress_go": progressGo()},
		handlersDir: handlers,
	})
	for _, exchange := range []string{"dx_progress_py", "dx_progress_go"} {
		t.Run(exchange, func(t *testing.T) {
			t.Run("asks for progress", func(t *testing.T) {
				got := progressCall(t, h.vh.URL(), exchange, h.queue())
				if len(got) != progressSteps+1 {
					t.Fatalf("%d messages, want %d updates and the reply", len(got), progressSteps)
				}
				for i, d := range got[:progressSteps] {
					var p wire.Progress
					if err := json.Unmarshal(d.Body, &p); err != nil {
						t.Fatalf("update %d: %q: %v", i+1, d.Body, err)
					}
					want := fmt.Sprintf("step %d", i+1)
					if p.State != "Building" || p.Message != want || p.Percent == nil || *p.Percent != float64((i+1)*20) || string(p.Data) != fmt.Sprintf(`{"step":%d}`, i+1) {
						t.Errorf("update %d = %s, want %s at %d%%", i+1, d.Body, want, (i+1)*20)
					}
					if d.Type != wire.ProgressType {
						t.Errorf("update %d: type %q, want %q", i+1, d.Type, wire.ProgressType)
					}
				}
				var r wire.Response
				last := got[progressSteps]
				if err := json.Unmarshal(last.Body, &r); err != nil || !r.Success || r.Message != "Built" || last.Type == wire.ProgressType {
					t.Errorf("reply = %q (type %q), want the handler's success", last.Body, last.Type)
				}
			})
			t.Run("reference client", func(t *testing.T) {
				r, err := testrpc.ReferenceCall(h.vh.URL(), exchange, h.queue(), []byte(`{}`), 30*time.Second)
				if err != nil || !r.Success || r.Message != "Built" {
					t.Errorf("reference client's reply = %+v, %v; want the handler's success, not a progress update", r, err)
				}
			})
		})
	}
}

// TestThrottle: updates closer than the interval are coalesced, the
// latest wins; flush sends the one waiting and drops later ones; an
// update that waited is sent when its interval has passed.
func TestThrottle(t *testing.T) {
	p := func(s string) wire.Progress { return wire.Progress{State: s} }
	var mu sync.Mutex
	var sent []string
	var at []time.Time
	newThrottle := func(interval time.Duration) *throttle {
		mu.Lock()
		sent, at = nil, nil
		mu.Unlock()
		return &throttle{interval: interval, send: func(p wire.Progress) {
			mu.Lock()
			sent, at = append(sent, p.State), append(at, time.Now())
			mu.Unlock()
		}}
	}
	snapshot := func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(sent, ",")
	}

	th := newThrottle(time.Hour)
	for i := 1; i <= 10; i++ {
		th.report(p(fmt.Sprint(i)))
	}
	if got := snapshot(); got != "1" {
		t.Errorf("before flush: sent %s, want 1 (the first at once, the rest waiting)", got)
	}
	th.flush()
	th.report(p("after"))
	th.flush()
	if got := snapshot(); got != "1,10" {
		t.Errorf("after flush: sent %s, want 1,10 (the latest waiting one; none after flush)", got)
	}

	const interval = 50 * time.Millisecond
	th = newThrottle(interval)
	th.report(p("a"))
	th.report(p("b"))
	testutil.WaitFor(t, "a,b sent once the interval passed", 10*time.Second, func() bool { return snapshot() == "a,b" })
	th.flush()
	mu.Lock()
	gap := at[1].Sub(at[0])
	mu.Unlock()
	if gap < interval {
		t.Errorf("b sent %v after a, want at least %v", gap, interval)
	}
}
