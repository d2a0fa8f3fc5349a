package memory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// tick returns a clock that starts at t0 and advances a second per call.
func tick() func() time.Time {
	var mu sync.Mutex
	n := 0
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		n++
		return t0.Add(time.Duration(n-1) * time.Second)
	}
}

func req(id, vhost, exchange, host string) wire.LogRequest {
	return wire.LogRequest{
		CorrelationID: id, RequestPayload: json.RawMessage(`{"a":1,"b":[true]}`),
		VirtualHostName: vhost, QueueName: vhost, RabbitMQUsername: "guest",
		Hostname: host, ExchangeName: exchange,
	}
}

func resp(id, payload string, traceback *string) wire.LogResponse {
	return wire.LogResponse{CorrelationID: id, ResponsePayload: json.RawMessage(payload), Traceback: traceback}
}

func ptr(s string) *string { return &s }

func TestAddIdempotentAndConflicts(t *testing.T) {
	ctx := context.Background()
	s := New()
	differentPayload := req("c1", "trees", "dx", "h1")
	differentPayload.RequestPayload = json.RawMessage(`{"a":2}`)
	reordered := req("c1", "trees", "dx", "h1")
	reordered.RequestPayload = json.RawMessage(`{ "b": [true], "a": 1 }`)
	otherHost := req("c1", "trees", "dx", "h2")
	steps := []struct {
		name string
		add  func() error
		want error
	}{
		{"request", func() error { return s.AddRequest(ctx, req("c1", "trees", "dx", "h1")) }, nil},
		{"identical request again", func() error { return s.AddRequest(ctx, req("c1", "trees", "dx", "h1")) }, nil},
		{"same JSON, other spelling", func() error { return s.AddRequest(ctx, reordered) }, nil},
		{"other payload", func() error { return s.AddRequest(ctx, differentPayload) }, store.ErrConflict},
		{"other host", func() error { return s.AddRequest(ctx, otherHost) }, store.ErrConflict},
		{"response without request", func() error { return s.AddResponse(ctx, resp("nope", `{"success":true}`, nil)) }, store.ErrUnknownRequest},
		{"response", func() error { return s.AddResponse(ctx, resp("c1", `{"success":true}`, nil)) }, nil},
		{"identical response again", func() error { return s.AddResponse(ctx, resp("c1", `{"success":true}`, nil)) }, nil},
		{"other response payload", func() error { return s.AddResponse(ctx, resp("c1", `{"success":false}`, nil)) }, store.ErrConflict},
		{"response with a traceback", func() error { return s.AddResponse(ctx, resp("c1", `{"success":true}`, ptr("tb"))) }, store.ErrConflict},
	}
	for _, st := range steps {
		if err := st.add(); !errors.Is(err, st.want) {
			t.Errorf("%s: error %v, want %v", st.name, err, st.want)
		}
	}
	page, err := s.List(ctx, store.Filter{}, 0, 10)
	if err != nil || len(page.Pairs) != 1 {
		t.Fatalf("List: %d pairs, %v; want the one request stored once", len(page.Pairs), err)
	}
}

// fill stores six pairs, one per second from t0, IDs 1..6:
//
//	id corr   vhost  exchange host outcome
//	1  abc-1  trees  dx_a     h1   success
//	2  abc-2  trees  dx_b     h1   failure
//	3  abd-3  fruit  dx_a     h2   error
//	4  xyz-4  fruit  dx_b     h2   awaiting
//	5  abc-5  trees  dx_a     h2   failure (success false, empty traceback)
//	6  xyz-6  trees  dx_a     h1   awaiting
func fill(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	rows := []struct {
		r  wire.LogRequest
		rs *wire.LogResponse
	}{
		{req("abc-1", "trees", "dx_a", "h1"), &wire.LogResponse{ResponsePayload: json.RawMessage(`{"success":true}`)}},
		{req("abc-2", "trees", "dx_b", "h1"), &wire.LogResponse{ResponsePayload: json.RawMessage(`{"success":false}`)}},
		{req("abd-3", "fruit", "dx_a", "h2"), &wire.LogResponse{ResponsePayload: json.RawMessage(`{"success":false}`), Traceback: ptr("Traceback")}},
		{req("xyz-4", "fruit", "dx_b", "h2"), nil},
		{req("abc-5", "trees", "dx_a", "h2"), &wire.LogResponse{ResponsePayload: json.RawMessage(`{"success":false}`), Traceback: ptr("")}},
		{req("xyz-6", "trees", "dx_a", "h1"), nil},
	}
	for _, row := range rows {
		if err := s.AddRequest(ctx, row.r); err != nil {
			t.Fatal(err)
		}
		if row.rs != nil {
			row.rs.CorrelationID = row.r.CorrelationID
			if err := s.AddResponse(ctx, *row.rs); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func ids(p store.Page) []int64 {
	out := []int64{}
	for _, x := range p.Pairs {
		out = append(out, x.Request.ID)
	}
	return out
}

func TestListFilters(t *testing.T) {
	ctx := context.Background()
	// Each request and response takes a tick: request i is stored at
	// t0 + its position among the clock calls.
	s := NewWithClock(tick())
	fill(t, s)
	at := func(id int64) time.Time {
		p, _ := s.List(ctx, store.Filter{}, id+1, 1)
		return p.Pairs[0].Request.CreatedAt
	}
	tests := []struct {
		name   string
		f      store.Filter
		want   []int64
		counts map[store.Outcome]int64
	}{
		{"all", store.Filter{}, []int64{6, 5, 4, 3, 2, 1}, map[store.Outcome]int64{"awaiting": 2, "success": 1, "failure": 2, "error": 1}},
		{"exact id", store.Filter{CorrelationID: "abc-2"}, []int64{2}, map[store.Outcome]int64{"awaiting": 0, "success": 0, "failure": 1, "error": 0}},
		{"exact id is not a prefix", store.Filter{CorrelationID: "abc"}, []int64{}, nil},
		{"prefix", store.Filter{CorrelationID: "abc", CorrelationPrefix: true}, []int64{5, 2, 1}, nil},
		{"prefix ab", store.Filter{CorrelationID: "ab", CorrelationPrefix: true}, []int64{5, 3, 2, 1}, nil},
		{"vhost", store.Filter{VirtualHost: "fruit"}, []int64{4, 3}, nil},
		{"exchange", store.Filter{Exchange: "dx_b"}, []int64{4, 2}, nil},
		{"host", store.Filter{Hostname: "h2"}, []int64{5, 4, 3}, nil},
		{"outcome failure", store.Filter{Outcomes: []store.Outcome{store.OutcomeFailure}}, []int64{5, 2}, nil},
		{"outcome error or awaiting", store.Filter{Outcomes: []store.Outcome{store.OutcomeError, store.OutcomeAwaiting}}, []int64{6, 4, 3}, nil},
		{"combined", store.Filter{Exchange: "dx_a", Hostname: "h1", Outcomes: []store.Outcome{store.OutcomeSuccess}}, []int64{1}, map[store.Outcome]int64{"awaiting": 1, "success": 1, "failure": 0, "error": 0}},
		{"since is inclusive", store.Filter{Since: at(3)}, []int64{6, 5, 4, 3}, nil},
		{"until is exclusive", store.Filter{Until: at(3)}, []int64{2, 1}, nil},
		{"time range", store.Filter{Since: at(2), Until: at(5)}, []int64{4, 3, 2}, nil},
		{"after", store.Filter{After: 4}, []int64{6, 5}, nil},
		{"after and exchange", store.Filter{After: 2, Exchange: "dx_b"}, []int64{4}, nil},
		{"nothing", store.Filter{VirtualHost: "none"}, []int64{}, map[store.Outcome]int64{"awaiting": 0, "success": 0, "failure": 0, "error": 0}},
	}
	for _, tt := range tests {
		page, err := s.List(ctx, tt.f, 0, 100)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := ids(page); !reflect.DeepEqual(got, tt.want) || page.Next != 0 {
			t.Errorf("%s: ids %v next %d, want %v next 0", tt.name, got, page.Next, tt.want)
		}
		if tt.counts == nil {
			continue
		}
		counts, err := s.Counts(ctx, tt.f)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !reflect.DeepEqual(counts, tt.counts) {
			t.Errorf("%s: counts %v, want %v", tt.name, counts, tt.counts)
		}
	}
}

func TestListPaging(t *testing.T) {
	ctx := context.Background()
	s := New()
	fill(t, s)
	tests := []struct {
		f      store.Filter
		before int64
		limit  int
		want   []int64
		next   int64
	}{
		{store.Filter{}, 0, 2, []int64{6, 5}, 5},
		{store.Filter{}, 5, 2, []int64{4, 3}, 3},
		{store.Filter{}, 3, 2, []int64{2, 1}, 0},
		{store.Filter{}, 1, 2, []int64{}, 0},
		{store.Filter{}, 0, 6, []int64{6, 5, 4, 3, 2, 1}, 0},
		{store.Filter{}, 0, 5, []int64{6, 5, 4, 3, 2}, 2},
		{store.Filter{}, 100, 3, []int64{6, 5, 4}, 4},
		{store.Filter{Hostname: "h1"}, 0, 2, []int64{6, 2}, 2},
		{store.Filter{Hostname: "h1"}, 2, 2, []int64{1}, 0},
		{store.Filter{After: 2}, 0, 2, []int64{6, 5}, 5},
		{store.Filter{After: 2}, 5, 2, []int64{4, 3}, 0},
	}
	for _, tt := range tests {
		page, err := s.List(ctx, tt.f, tt.before, tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(page); !reflect.DeepEqual(got, tt.want) || page.Next != tt.next {
			t.Errorf("%+v before %d limit %d: ids %v next %d, want %v next %d", tt.f, tt.before, tt.limit, got, page.Next, tt.want, tt.next)
		}
	}
}

func TestPairFields(t *testing.T) {
	ctx := context.Background()
	s := NewWithClock(tick())
	fill(t, s)
	tests := []struct {
		corr     string
		outcome  store.Outcome
		duration time.Duration
		response bool
	}{
		{"abc-1", store.OutcomeSuccess, time.Second, true},
		{"abc-2", store.OutcomeFailure, time.Second, true},
		{"abd-3", store.OutcomeError, time.Second, true},
		{"xyz-4", store.OutcomeAwaiting, 0, false},
		{"abc-5", store.OutcomeFailure, time.Second, true},
	}
	for _, tt := range tests {
		p, ok, err := s.Get(ctx, tt.corr)
		if err != nil || !ok {
			t.Fatalf("Get(%s): ok %v, %v", tt.corr, ok, err)
		}
		if p.Outcome != tt.outcome || p.Duration != tt.duration || (p.Response != nil) != tt.response {
			t.Errorf("Get(%s): outcome %s duration %s response %v, want %s %s %v", tt.corr, p.Outcome, p.Duration, p.Response != nil, tt.outcome, tt.duration, tt.response)
		}
		if p.Request.CorrelationID != tt.corr || string(p.Request.RequestPayload) != `{"a":1,"b":[true]}` {
			t.Errorf("Get(%s): request %+v", tt.corr, p.Request)
		}
	}
	if _, ok, err := s.Get(ctx, "abc"); ok || err != nil {
		t.Errorf("Get(abc): ok %v, %v; want not found (no prefix match)", ok, err)
	}
	// What a caller gets is a copy.
	p, _, _ := s.Get(ctx, "abc-1")
	p.Request.RequestPayload[1] = 'X'
	p.Response.ResponsePayload[1] = 'X'
	if q, _, _ := s.Get(ctx, "abc-1"); string(q.Request.RequestPayload) != `{"a":1,"b":[true]}` || string(q.Response.ResponsePayload) != `{"success":true}` {
		t.Errorf("changing a returned pair changed the store: %s %s", q.Request.RequestPayload, q.Response.ResponsePayload)
	}
}

func TestClockSteppedBack(t *testing.T) {
	ctx := context.Background()
	times := []time.Time{t0, t0.Add(time.Hour), t0, t0.Add(2 * time.Hour)}
	i := 0
	s := NewWithClock(func() time.Time { i++; return times[i-1] })
	want := []time.Time{t0, t0.Add(time.Hour), t0.Add(time.Hour), t0.Add(2 * time.Hour)}
	for n, w := range want {
		id := fmt.Sprintf("c%d", n)
		if err := s.AddRequest(ctx, req(id, "v", "x", "h")); err != nil {
			t.Fatal(err)
		}
		if p, _, _ := s.Get(ctx, id); !p.Request.CreatedAt.Equal(w) {
			t.Errorf("request %d stored at %s, want %s (never before an earlier request)", n+1, p.Request.CreatedAt, w)
		}
	}
}

func TestPurge(t *testing.T) {
	ctx := context.Background()
	s := NewWithClock(tick())
	fill(t, s)
	p3, _, _ := s.Get(ctx, "abd-3")
	n, err := s.Purge(ctx, p3.Request.CreatedAt)
	if err != nil || n != 2 {
		t.Fatalf("Purge: %d, %v; want 2", n, err)
	}
	page, _ := s.List(ctx, store.Filter{}, 0, 100)
	if got := ids(page); !reflect.DeepEqual(got, []int64{6, 5, 4, 3}) {
		t.Errorf("after Purge: ids %v, want [6 5 4 3]", got)
	}
	if _, ok, _ := s.Get(ctx, "abc-1"); ok {
		t.Error("a purged pair is still found by Get")
	}
	// A purged correlation id may be stored again, with a new ID.
	if err := s.AddRequest(ctx, req("abc-1", "trees", "dx_a", "h1")); err != nil {
		t.Fatal(err)
	}
	if p, _, _ := s.Get(ctx, "abc-1"); p.Request.ID != 7 {
		t.Errorf("re-stored pair has ID %d, want 7", p.Request.ID)
	}
}

func TestClosed(t *testing.T) {
	ctx := context.Background()
	s := New()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	calls := map[string]error{
		"AddRequest":  s.AddRequest(ctx, req("c", "v", "x", "h")),
		"AddResponse": s.AddResponse(ctx, resp("c", `{}`, nil)),
	}
	_, calls["List"] = s.List(ctx, store.Filter{}, 0, 1)
	_, _, calls["Get"] = s.Get(ctx, "c")
	_, calls["Counts"] = s.Counts(ctx, store.Filter{})
	_, calls["Purge"] = s.Purge(ctx, t0)
	for name, err := range calls {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	s := New()
	const writers, each = 8, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range each {
				id := fmt.Sprintf("w%d-%d", w, i)
				if err := s.AddRequest(ctx, req(id, "trees", "dx", "h")); err != nil {
					t.Error(err)
					return
				}
				if err := s.AddResponse(ctx, resp(id, `{"success":true}`, nil)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range each {
				if _, err := s.List(ctx, store.Filter{Exchange: "dx"}, 0, 10); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.Counts(ctx, store.Filter{}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	counts, _ := s.Counts(ctx, store.Filter{})
	if counts[store.OutcomeSuccess] != writers*each {
		t.Errorf("counts %v, want %d successes", counts, writers*each)
	}
}
