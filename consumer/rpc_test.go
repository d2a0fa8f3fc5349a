package consumer

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fernet/fernet-go"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/contract"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/handler"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

func TestRPCExampleHandler(t *testing.T) {
	h := start(t, setup{exchanges: []string{"dx_example"}})
	for _, direct := range []bool{false, true} {
		t.Run(fmt.Sprintf("direct_reply_to=%v", direct), func(t *testing.T) {
			c := h.caller(direct)
			r := h.call(c, "dx_example", map[string]any{"favourite_food": "onion", "chance_percentage": 100})
			if !r.Success || r.Message != "Determined toleration" || string(r.Data) != `{"tolerable":false}` {
				t.Fatalf("reply = %+v (%s)", r, r.Data)
			}
		})
	}
	if !strings.Contains(h.logs.String(), `"stderr":"deciding for onion at 100%`) {
		t.Error("the handler's stderr is not in the log")
	}
}

type item struct {
	Name string `json:"name" jsonschema:"minLength=1"`
}

type orderRequest struct {
	Customer string `json:"customer"`
	Items    []item `json:"items"`
}

type orderResponse struct {
	Count int `json:"count"`
}

func countItems(_ context.Context, _ *handler.Call, req orderRequest) (wire.Reply[orderResponse], error) {
	return wire.Reply[orderResponse]{Success: true, Message: "counted", Data: orderResponse{Count: len(req.Items)}}, nil
}

func TestValidationFailures(t *testing.T) {
	h := start(t, setup{
		exchanges: []string{"dx_example", "dx_order"},
		handlers:  map[string]handler.Handler{"dx_order": handler.Typed("count items", countItems)},
	})
	c := h.caller(false)
	tests := []struct {
		name     string
		exchange string
		body     string
		want     []wire.ValidationError
	}{
		{"missing field", "dx_example", `{}`, []wire.ValidationError{{Location: []any{"favourite_food"}, Message: "field required", Type: "missing"}}},
		{"not in enum", "dx_example", `{"favourite_food":"kale"}`, []wire.ValidationError{{Location: []any{"favourite_food"}, Type: "enum"}}},
		{"not positive", "dx_example", `{"favourite_food":"onion","chance_percentage":0}`, []wire.ValidationError{{Location: []any{"chance_percentage"}, Type: "exclusiveMinimum"}}},
		{"wrong type", "dx_example", `{"favourite_food":"onion","chance_percentage":"20"}`, []wire.ValidationError{{Location: []any{"chance_percentage"}, Type: "type"}}},
		{"extra field", "dx_example", `{"favourite_food":"onion","colour":"red"}`, []wire.ValidationError{{Location: []any{"colour"}, Message: "extra field not permitted", Type: "extra_forbidden"}}},
		{"nested array", "dx_order", `{"customer":"c","items":[{"name":"a"},{"name":"b"},{"name":""}]}`, []wire.ValidationError{{Location: []any{"items", 2, "name"}, Type: "minLength"}}},
		{"nested missing", "dx_order", `{"customer":"c","items":[{}]}`, []wire.ValidationError{{Location: []any{"items", 0, "name"}, Message: "field required", Type: "missing"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.call(c, tt.exchange, []byte(tt.body))
			if r.Success || r.Message != wire.MessageValidationFailed {
				t.Fatalf("reply = %+v", r)
			}
			var data wire.ValidationErrors
			if err := json.Unmarshal(r.Data, &data); err != nil {
				t.Fatal(err)
			}
			if len(data.Errors) != len(tt.want) {
				t.Fatalf("errors = %+v, want %+v", data.Errors, tt.want)
			}
			for i, w := range tt.want {
				g := data.Errors[i]
				if fmt.Sprint(g.Location) != fmt.Sprint(w.Location) || g.Type != w.Type || (w.Message != "" && g.Message != w.Message) || g.Message == "" {
					t.Errorf("error %d = %+v, want %+v", i, g, w)
				}
				// Array indexes travel as JSON numbers.
				for j, l := range w.Location {
					if _, isInt := l.(int); isInt {
						if _, isNum := g.Location[j].(float64); !isNum {
							t.Errorf("location[%d] = %#v, want a number", j, g.Location[j])
						}
					}
				}
			}
		})
	}
	// Valid after all that: the consumer kept serving.
	if r := h.call(c, "dx_order", map[string]any{"customer": "c", "items": []any{map[string]any{"name": "x"}}}); !r.Success || string(r.Data) != `{"count":1}` {
		t.Fatalf("reply = %+v %s", r, r.Data)
	}
}

func TestBadInput(t *testing.T) {
	h := start(t, setup{exchanges: []string{"dx_example"}, maxBytes: 1 << 20})
	c := h.caller(false)
	big := []byte(`{"favourite_food":"onion","pad":"` + strings.Repeat("x", 5<<20) + `"}`)
	tests := []struct {
		name     string
		body     []byte
		pub      amqp.Publishing
		wantType string
	}{
		{"not JSON", []byte(`favourite_food=onion`), amqp.Publishing{}, "json_invalid"},
		{"truncated JSON", []byte(`{"favourite_food":`), amqp.Publishing{}, "json_invalid"},
		{"JSON array", []byte(`["onion"]`), amqp.Publishing{}, "object_type"},
		{"JSON string", []byte(`"onion"`), amqp.Publishing{}, "object_type"},
		{"empty body", nil, amqp.Publishing{}, "json_invalid"},
		{"many megabytes", big, amqp.Publishing{}, "too_large"},
		{"no correlation_id", []byte(`{"favourite_food":"onion"}`), amqp.Publishing{CorrelationId: "-"}, "missing_correlation_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, w := c.Send("dx_example", h.queue(), tt.body, tt.pub)
			if id == "" {
				c.Expect("", w) // no correlation id: the reply carries none either
			}
			r := c.Wait(w)
			var data wire.ValidationErrors
			_ = json.Unmarshal(r.Data, &data)
			if r.Success || r.Message != wire.MessageValidationFailed || len(data.Errors) != 1 || data.Errors[0].Type != tt.wantType {
				t.Fatalf("reply = %+v %s", r, r.Data)
			}
		})
	}
	t.Run("no reply_to", func(t *testing.T) {
		_, _ = c.Send("dx_example", h.queue(), []byte(`{"favourite_food":"onion"}`), amqp.Publishing{ReplyTo: "-", CorrelationId: "no-reply-to"})
		// Served in order with prefetch: the next call's reply proves the
		// consumer went on; the queue must then be empty (acked, not requeued).
		if r := h.call(c, "dx_example", map[string]any{"favourite_food": "orange", "chance_percentage": 100}); !r.Success {
			t.Fatalf("reply = %+v", r)
		}
		testutil.WaitFor(t, "the request without reply_to to be acknowledged and dropped", 30*time.Second, func() bool {
			return strings.Contains(h.logs.String(), "request has no reply_to property")
		})
		q, err := c.Channel().QueueDeclarePassive(h.queue(), true, false, false, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if q.Messages != 0 {
			t.Errorf("queue holds %d messages, want 0", q.Messages)
		}
	})
}

type secretRequest struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

type secretResponse struct {
	Length int    `json:"length"`
	Echo   string `json:"echo"`
}

func TestFernetDecryptionAndMasking(t *testing.T) {
	var key fernet.Key
	if err := key.Generate(); err != nil {
		t.Fatal(err)
	}
	var got atomic.Value
	h := start(t, setup{
		exchanges: []string{"dx_secret"},
		fernetKey: key.Encode(),
		handlers: map[string]handler.Handler{"dx_secret": handler.Typed("use a secret", func(_ context.Context, _ *handler.Call, r secretRequest) (wire.Reply[secretResponse], error) {
			got.Store(r)
			return wire.Reply[secretResponse]{Success: true, Message: "ok", Data: secretResponse{Length: len(r.Password), Echo: r.User}}, nil
		})},
	})
	tok, err := fernet.EncryptAndSign([]byte("hunter2-very-secret"), &key)
	if err != nil {
		t.Fatal(err)
	}
	var other fernet.Key
	_ = other.Generate()
	foreign, _ := fernet.EncryptAndSign([]byte("not for us"), &other)
	c := h.caller(true)
	r := h.call(c, "dx_secret", map[string]any{"user": string(foreign), "password": string(tok)})
	if !r.Success {
		t.Fatalf("reply = %+v %s", r, r.Data)
	}
	req := got.Load().(secretRequest)
	if req.Password != "hunter2-very-secret" {
		t.Errorf("handler got password %q, want it decrypted", req.Password)
	}
	if req.User != string(foreign) {
		t.Errorf("a token for another key must stay as it is; got %q", req.User)
	}
	if strings.Contains(h.logs.String(), "hunter2") {
		t.Error("the decrypted secret reached the log")
	}
	var sawRequest bool
	for _, rec := range h.journal.records() {
		if strings.Contains(string(rec.RequestPayload)+string(rec.ResponsePayload), "hunter2") {
			t.Errorf("the decrypted secret reached the journal: %+v", rec)
		}
		if rec.Kind == logship.KindRequest {
			sawRequest = true
			var p map[string]any
			_ = json.Unmarshal(rec.RequestPayload, &p)
			if p["password"] != Mask {
				t.Errorf("journal request payload = %s, want password masked", rec.RequestPayload)
			}
		}
	}
	if !sawRequest {
		t.Error("no request record in the journal")
	}
}

// TestFernetKeyRotation: during a rotation the consumer decrypts with every
// key of the list, the new one and the old one.
func TestFernetKeyRotation(t *testing.T) {
	var newKey, oldKey fernet.Key
	_ = newKey.Generate()
	_ = oldKey.Generate()
	var got atomic.Value
	h := start(t, setup{
		exchanges:  []string{"dx_secret"},
		fernetKeys: []string{newKey.Encode(), oldKey.Encode()},
		handlers: map[string]handler.Handler{"dx_secret": handler.Typed("use a secret", func(_ context.Context, _ *handler.Call, r secretRequest) (wire.Reply[secretResponse], error) {
			got.Store(r)
			return wire.Reply[secretResponse]{Success: true, Message: "ok"}, nil
		})},
	})
	c := h.caller(true)
	for name, k := range map[string]*fernet.Key{"new": &newKey, "old": &oldKey} {
		tok, err := fernet.EncryptAndSign([]byte("with the "+name+" key"), k)
		if err != nil {
			t.Fatal(err)
		}
		if r := h.call(c, "dx_secret", map[string]any{"user": "u", "password": string(tok)}); !r.Success {
			t.Fatalf("reply = %+v %s", r, r.Data)
		}
		if p := got.Load().(secretRequest).Password; p != "with the "+name+" key" {
			t.Errorf("a token of the %s key reached the handler as %q", name, p)
		}
	}
}

func TestJournalRecords(t *testing.T) {
	h := start(t, setup{exchanges: []string{"dx_example"}})
	c := h.caller(false)
	r := h.call(c, "dx_example", map[string]any{"favourite_food": "banana", "chance_percentage": 100})
	if !r.Success {
		t.Fatal(r)
	}
	recs := h.journal.records()
	if len(recs) != 2 || recs[0].Kind != logship.KindRequest || recs[1].Kind != logship.KindResponse || recs[0].CorrelationID != recs[1].CorrelationID {
		t.Fatalf("records = %+v", recs)
	}
	q := recs[0]
	if q.VirtualHostName != h.vh.Name || q.QueueName != h.queue() || q.ExchangeName != "dx_example" || q.RabbitMQUsername != "guest" || q.Hostname == "" {
		t.Errorf("request record = %+v", q)
	}
	if string(q.RequestPayload) != `{"chance_percentage":100,"favourite_food":"banana"}` {
		t.Errorf("request payload = %s", q.RequestPayload)
	}
	if recs[1].Traceback != nil {
		t.Errorf("traceback = %q, want none", *recs[1].Traceback)
	}
}

// tracker records how many calls run at once, overall and per key.
type tracker struct {
	mu      sync.Mutex
	now     map[string]int
	total   int
	max     map[string]int
	maxAll  int
	calls   int
	arrived chan string
}

func newTracker() *tracker {
	return &tracker{now: map[string]int{}, max: map[string]int{}, arrived: make(chan string, 100)}
}

func (tr *tracker) enter(key string) {
	tr.mu.Lock()
	tr.now[key]++
	tr.total++
	tr.calls++
	if tr.now[key] > tr.max[key] {
		tr.max[key] = tr.now[key]
	}
	if tr.total > tr.maxAll {
		tr.maxAll = tr.total
	}
	tr.mu.Unlock()
	tr.arrived <- key
}

func (tr *tracker) leave(key string) {
	tr.mu.Lock()
	tr.now[key]--
	tr.total--
	tr.mu.Unlock()
}

type lockRequest struct {
	Food string `json:"food"`
	N    int    `json:"n"`
}

type empty struct{}

// gated is a Go handler that records concurrency and waits for release.
func gated(tr *tracker, release chan struct{}, opts ...Option) Handler {
	return handler.Typed("gated", func(ctx context.Context, _ *handler.Call, r lockRequest) (wire.Reply[empty], error) {
		tr.enter(r.Food)
		defer tr.leave(r.Food)
		select {
		case <-release:
		case <-ctx.Done():
			return wire.Reply[empty]{}, ctx.Err()
		}
		return wire.Reply[empty]{Success: true, Message: "done"}, nil
	}, opts...)
}

func TestLocks(t *testing.T) {
	t.Run("different values run in parallel, same value never overlaps", func(t *testing.T) {
		tr := newTracker()
		release := make(chan struct{})
		h := start(t, setup{exchanges: []string{"dx_lock"}, prefetch: 10, handlers: map[string]handler.Handler{"dx_lock": gated(tr, release, handler.WithLockAttribute("food"))}})
		c := h.caller(false)
		var ws []chan wire.Response
		for i := 0; i < 3; i++ {
			for _, food := range []string{"onion", "orange"} {
				b, _ := json.Marshal(lockRequest{Food: food, N: i})
				_, w := c.Send("dx_lock", h.queue(), b, amqp.Publishing{})
				ws = append(ws, w)
			}
		}
		// Both values are inside the handler at once: proof of parallelism.
		seen := map[string]bool{}
		for len(seen) < 2 {
			select {
			case k := <-tr.arrived:
				seen[k] = true
			case <-time.After(30 * time.Second):
				t.Fatalf("different lock values did not run in parallel; entered: %v", seen)
			}
		}
		close(release)
		for _, w := range ws {
			if r := c.Wait(w); !r.Success {
				t.Fatalf("reply = %+v", r)
			}
		}
		if tr.max["onion"] != 1 || tr.max["orange"] != 1 || tr.maxAll != 2 || tr.calls != 6 {
			t.Errorf("max per value = %v, max overall = %d, calls = %d; want 1, 1, 2, 6", tr.max, tr.maxAll, tr.calls)
		}
	})
	t.Run("no lock attribute: one at a time", func(t *testing.T) {
		tr := newTracker()
		release := make(chan struct{}, 100)
		h := start(t, setup{exchanges: []string{"dx_nolock"}, prefetch: 10, handlers: map[string]handler.Handler{"dx_nolock": gated(tr, release)}})
		c := h.caller(false)
		var ws []chan wire.Response
		for i, food := range []string{"a", "b", "c", "d"} {
			b, _ := json.Marshal(lockRequest{Food: food, N: i})
			_, w := c.Send("dx_nolock", h.queue(), b, amqp.Publishing{})
			ws = append(ws, w)
		}
		for range ws {
			select {
			case <-tr.arrived:
			case <-time.After(30 * time.Second):
				t.Fatal("a request never started")
			}
			release <- struct{}{}
		}
		for _, w := range ws {
			if r := c.Wait(w); !r.Success {
				t.Fatalf("reply = %+v", r)
			}
		}
		if tr.maxAll != 1 {
			t.Errorf("max concurrent = %d, want 1", tr.maxAll)
		}
	})
}

func TestConcurrencyBoundedByPrefetch(t *testing.T) {
	tr := newTracker()
	release := make(chan struct{})
	h := start(t, setup{exchanges: []string{"dx_many"}, prefetch: 3, handlers: map[string]handler.Handler{"dx_many": gated(tr, release, handler.WithLockAttribute("n"))}})
	c := h.caller(false)
	var ws []chan wire.Response
	for i := 0; i < 10; i++ {
		b, _ := json.Marshal(lockRequest{Food: fmt.Sprint(i), N: i})
		_, w := c.Send("dx_many", h.queue(), b, amqp.Publishing{})
		ws = append(ws, w)
	}
	for i := 0; i < 3; i++ {
		select {
		case <-tr.arrived:
		case <-time.After(30 * time.Second):
			t.Fatalf("only %d requests started, want 3", i)
		}
	}
	// Three are in; no fourth may start while they hold their slots.
	if n := h.c.InFlight(); n > 3 {
		t.Errorf("in flight = %d while 3 run, want at most 3", n)
	}
	close(release)
	for _, w := range ws {
		if r := c.Wait(w); !r.Success {
			t.Fatalf("reply = %+v", r)
		}
	}
	if tr.maxAll != 3 || tr.calls != 10 {
		t.Errorf("max concurrent = %d, calls = %d; want 3, 10", tr.maxAll, tr.calls)
	}
}

func TestMockMode(t *testing.T) {
	dir := t.TempDir()
	// Mock mode needs contracts only: no handler executables at all.
	mustWrite(t, dir+"/dx_example/contract.json", readFile(t, exampleHandlers+"/dx_example/contract.json"), 0o644)
	mustWrite(t, dir+"/dx_gen/contract.json", `{"description":"d","lock_attribute":null,
		"request":{"type":"object"},
		"response":{"type":"object","required":["id","tags","state"],"properties":{"id":{"type":"integer","minimum":7},"tags":{"type":"array","items":{"type":"string"},"minItems":2},"state":{"enum":["up","down"]}}}}`, 0o644)
	h := start(t, setup{exchanges: []string{"dx_example", "dx_gen"}, handlersDir: dir, mock: true})
	c := h.caller(false)
	tests := []struct {
		name, exchange string
		body           any
		want           wire.Response
	}{
		{"matching example", "dx_example", map[string]any{"favourite_food": "banana"}, wire.Response{Success: true, Message: "Determined toleration", Data: json.RawMessage(`{"tolerable":true}`)}},
		{"first example otherwise", "dx_example", map[string]any{"favourite_food": "orange"}, wire.Response{Success: true, Message: "Determined toleration", Data: json.RawMessage(`{"tolerable":false}`)}},
		{"generated from the schema", "dx_gen", map[string]any{}, wire.Response{Success: true, Message: contract.MockMessage, Data: json.RawMessage(`{"id":7,"state":"up","tags":["string","string"]}`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.call(c, tt.exchange, tt.body)
			if !reflect.DeepEqual(normalizeResp(r), normalizeResp(tt.want)) {
				t.Errorf("reply = %+v %s, want %+v %s", r, r.Data, tt.want, tt.want.Data)
			}
		})
	}
	if r := h.call(c, "dx_example", map[string]any{"favourite_food": "kale"}); r.Message != wire.MessageValidationFailed {
		t.Errorf("mock mode must still validate; reply = %+v", r)
	}
}

func normalizeResp(r wire.Response) any {
	var d any
	_ = json.Unmarshal(r.Data, &d)
	return []any{r.Success, r.Message, d}
}
