// Package storetest is the conformance suite of store.Store: every
// implementation (SQLite, PostgreSQL, the in-memory fake) runs it.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// Opener opens an empty store whose records are stamped by now; the store
// is closed by the suite.
type Opener func(t *testing.T, now func() time.Time) store.Store

// Epoch is where the suite's clocks start.
var Epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Run runs the whole suite against the stores open makes.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store, *Clock)
	}{
		{"RequestRoundTrip", testRequestRoundTrip},
		{"IdempotentRequest", testIdempotentRequest},
		{"ResponseOutcomes", testResponseOutcomes},
		{"IdempotentResponse", testIdempotentResponse},
		{"UnknownRequest", testUnknownRequest},
		{"AnyCorrelationID", testAnyCorrelationID},
		{"ListPaging", testListPaging},
		{"Filters", testFilters},
		{"ClockSteppedBack", testClockSteppedBack},
		{"Purge", testPurge},
		{"ConcurrentRepeats", testConcurrentRepeats},
		{"ProgressRoundTrip", testProgressRoundTrip},
		{"IdempotentProgress", testIdempotentProgress},
		{"PurgeProgress", testPurgeProgress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := NewClock(Epoch)
			s := open(t, clock.Now)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			})
			tt.fn(t, s, clock)
		})
	}
}

// Request is a request record of the suite.
func Request(id, vhost, exchange, host string) wire.LogRequest {
	return wire.LogRequest{CorrelationID: id, RequestPayload: json.RawMessage(fmt.Sprintf(`{"id": %q, "password": "*****"}`, id)),
		VirtualHostName: vhost, QueueName: "q-" + vhost, RabbitMQUsername: "guest", Hostname: host, ExchangeName: exchange}
}

// Response is a response record of the suite with the given outcome
// (not awaiting).
func Response(id string, o store.Outcome) wire.LogResponse {
	r := wire.LogResponse{CorrelationID: id}
	switch o {
	case store.OutcomeSuccess:
		r.ResponsePayload = json.RawMessage(`{"success":true,"message":"ok","data":{"n":1}}`)
	case store.OutcomeFailure:
		r.ResponsePayload = json.RawMessage(`{"success":false,"message":"no such tree","data":null}`)
	case store.OutcomeError:
		tb := "Traceback (most recent call last):\n  exit status 3"
		r.ResponsePayload = json.RawMessage(`{"success":false,"message":"An unexpected error occurred","data":null}`)
		r.Traceback = &tb
	}
	return r
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

func mustAddRequest(t *testing.T, s store.Store, r wire.LogRequest) {
	t.Helper()
	if err := s.AddRequest(ctx(t), r); err != nil {
		t.Fatalf("AddRequest(%q): %v", r.CorrelationID, err)
	}
}

func mustAddResponse(t *testing.T, s store.Store, r wire.LogResponse) {
	t.Helper()
	if err := s.AddResponse(ctx(t), r); err != nil {
		t.Fatalf("AddResponse(%q): %v", r.CorrelationID, err)
	}
}

func mustGet(t *testing.T, s store.Store, id string) store.Pair {
	t.Helper()
	p, ok, err := s.Get(ctx(t), id)
	if err != nil || !ok {
		t.Fatalf("Get(%q) = ok %v, %v", id, ok, err)
	}
	return p
}

// jsonEqual tells whether two JSON texts hold the same value.
func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}

func testRequestRoundTrip(t *testing.T, s store.Store, clock *Clock) {
	req := Request("rt-1", "trees", "dx_tree", "h1")
	mustAddRequest(t, s, req)
	p := mustGet(t, s, "rt-1")
	got := p.Request.LogRequest
	if !jsonEqual(got.RequestPayload, req.RequestPayload) {
		t.Errorf("request_payload = %s, want %s", got.RequestPayload, req.RequestPayload)
	}
	got.RequestPayload, req.RequestPayload = nil, nil
	if fmt.Sprint(got) != fmt.Sprint(req) {
		t.Errorf("request = %+v, want %+v", got, req)
	}
	if p.Outcome != store.OutcomeAwaiting || p.Response != nil || p.Duration != 0 {
		t.Errorf("before its response: outcome %s, response %v, duration %v", p.Outcome, p.Response, p.Duration)
	}
	if !p.Request.CreatedAt.Equal(Epoch) || p.Request.ID <= 0 {
		t.Errorf("created_at %v (want %v), id %d", p.Request.CreatedAt, Epoch, p.Request.ID)
	}
	clock.Advance(1500 * time.Millisecond)
	mustAddResponse(t, s, Response("rt-1", store.OutcomeSuccess))
	p = mustGet(t, s, "rt-1")
	if p.Response == nil || p.Outcome != store.OutcomeSuccess || p.Duration != 1500*time.Millisecond {
		t.Fatalf("after its response: %+v", p)
	}
	if !jsonEqual(p.Response.ResponsePayload, Response("rt-1", store.OutcomeSuccess).ResponsePayload) || p.Response.Traceback != nil {
		t.Errorf("response = %s, traceback %v", p.Response.ResponsePayload, p.Response.Traceback)
	}
	if _, ok, err := s.Get(ctx(t), "rt-2"); ok || err != nil {
		t.Errorf("Get of an unknown id: ok %v, %v", ok, err)
	}
}

func testIdempotentRequest(t *testing.T, s store.Store, _ *Clock) {
	req := Request("idem-1", "trees", "dx_tree", "h1")
	mustAddRequest(t, s, req)
	// The same record again, with its payload differently spaced (a JSON
	// value, not a text): accepted, nothing added.
	again := req
	again.RequestPayload = json.RawMessage(`{ "id" : "idem-1" , "password" : "*****" }`)
	if err := s.AddRequest(ctx(t), again); err != nil {
		t.Errorf("an identical repeat: %v, want nil", err)
	}
	changes := []func(*wire.LogRequest){
		func(r *wire.LogRequest) { r.RequestPayload = json.RawMessage(`{"id":"other"}`) },
		func(r *wire.LogRequest) { r.VirtualHostName = "other" },
		func(r *wire.LogRequest) { r.QueueName = "other" },
		func(r *wire.LogRequest) { r.RabbitMQUsername = "other" },
		func(r *wire.LogRequest) { r.Hostname = "other" },
		func(r *wire.LogRequest) { r.ExchangeName = "other" },
	}
	for i, change := range changes {
		r := req
		change(&r)
		if err := s.AddRequest(ctx(t), r); !errors.Is(err, store.ErrConflict) {
			t.Errorf("change %d: %v, want ErrConflict", i, err)
		}
	}
	page, err := s.List(ctx(t), store.Filter{}, 0, 10)
	if err != nil || len(page.Pairs) != 1 {
		t.Errorf("List after repeats: %d pairs, %v; want 1", len(page.Pairs), err)
	}
}

func testResponseOutcomes(t *testing.T, s store.Store, _ *Clock) {
	for _, o := range []store.Outcome{store.OutcomeSuccess, store.OutcomeFailure, store.OutcomeError} {
		id := "outcome-" + string(o)
		mustAddRequest(t, s, Request(id, "v", "x", "h"))
		mustAddResponse(t, s, Response(id, o))
		p := mustGet(t, s, id)
		if p.Outcome != o {
			t.Errorf("%s: outcome %s", id, p.Outcome)
		}
		want := Response(id, o).Traceback
		if (p.Response.Traceback == nil) != (want == nil) || (want != nil && *p.Response.Traceback != *want) {
			t.Errorf("%s: traceback %v, want %v", id, p.Response.Traceback, want)
		}
	}
	// A traceback that is empty is stored as given: not an error.
	empty := ""
	mustAddRequest(t, s, Request("outcome-empty-tb", "v", "x", "h"))
	mustAddResponse(t, s, wire.LogResponse{CorrelationID: "outcome-empty-tb", ResponsePayload: json.RawMessage(`{"success":false}`), Traceback: &empty})
	if p := mustGet(t, s, "outcome-empty-tb"); p.Outcome != store.OutcomeFailure || p.Response.Traceback == nil || *p.Response.Traceback != "" {
		t.Errorf("empty traceback: %+v", p)
	}
}

func testIdempotentResponse(t *testing.T, s store.Store, _ *Clock) {
	mustAddRequest(t, s, Request("r-1", "v", "x", "h"))
	resp := Response("r-1", store.OutcomeError)
	mustAddResponse(t, s, resp)
	if err := s.AddResponse(ctx(t), resp); err != nil {
		t.Errorf("an identical repeat: %v", err)
	}
	other := "another traceback"
	for i, r := range []wire.LogResponse{
		Response("r-1", store.OutcomeSuccess),
		{CorrelationID: "r-1", ResponsePayload: resp.ResponsePayload},
		{CorrelationID: "r-1", ResponsePayload: resp.ResponsePayload, Traceback: &other},
	} {
		if err := s.AddResponse(ctx(t), r); !errors.Is(err, store.ErrConflict) {
			t.Errorf("change %d: %v, want ErrConflict", i, err)
		}
	}
	if p := mustGet(t, s, "r-1"); p.Outcome != store.OutcomeError {
		t.Errorf("the first response must stay: %+v", p)
	}
}

func testUnknownRequest(t *testing.T, s store.Store, _ *Clock) {
	if err := s.AddResponse(ctx(t), Response("nobody", store.OutcomeSuccess)); !errors.Is(err, store.ErrUnknownRequest) {
		t.Errorf("a response without its request: %v, want ErrUnknownRequest", err)
	}
}

// awkwardIDs are correlation ids the store keeps as they are: not UUIDs,
// with LIKE's and SQL's special characters, non-ASCII, upper case.
var awkwardIDs = []string{
	"5b6f7c0e-3f4a-4b8e-9c1d-2e3f4a5b6c7d", "5B6F7C0E-3F4A-4B8E-9C1D-2E3F4A5B6C7D", "order-17",
	"50%_off", "it's; DROP TABLE rpc_pairs; --", "ünïcödé/✓", "a b\tc", `back\slash`, "x",
}

func testAnyCorrelationID(t *testing.T, s store.Store, _ *Clock) {
	for _, id := range awkwardIDs {
		mustAddRequest(t, s, Request(id, "v", "x", "h"))
		mustAddResponse(t, s, Response(id, store.OutcomeSuccess))
	}
	for _, id := range awkwardIDs {
		if p := mustGet(t, s, id); p.Request.CorrelationID != id || p.Outcome != store.OutcomeSuccess {
			t.Errorf("%q: %+v", id, p)
		}
		page, err := s.List(ctx(t), store.Filter{CorrelationID: id}, 0, 10)
		if err != nil || len(page.Pairs) != 1 || page.Pairs[0].Request.CorrelationID != id {
			t.Errorf("exact search %q: %v, %v", id, ids(page.Pairs), err)
		}
	}
	// Prefixes match byte for byte: no wildcards, case-sensitive.
	for prefix, want := range map[string][]string{
		"50%":    {"50%_off"},
		"5b":     {"5b6f7c0e-3f4a-4b8e-9c1d-2e3f4a5b6c7d"},
		"5B":     {"5B6F7C0E-3F4A-4B8E-9C1D-2E3F4A5B6C7D"},
		"%":      nil,
		"_":      nil,
		"ünï":    {"ünïcödé/✓"},
		"it's; ": {"it's; DROP TABLE rpc_pairs; --"},
		"back\\": {`back\slash`},
	} {
		page, err := s.List(ctx(t), store.Filter{CorrelationID: prefix, CorrelationPrefix: true}, 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		got := ids(page.Pairs)
		sort.Strings(got)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("prefix %q: %q, want %q", prefix, got, want)
		}
	}
}

func ids(ps []store.Pair) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Request.CorrelationID)
	}
	return out
}

func testListPaging(t *testing.T, s store.Store, clock *Clock) {
	const n = 23
	for i := 0; i < n; i++ {
		mustAddRequest(t, s, Request(fmt.Sprintf("page-%02d", i), "v", "x", "h"))
		clock.Advance(time.Second)
	}
	var got []string
	var lastID int64
	before := int64(0)
	for pages := 0; ; pages++ {
		if pages > n {
			t.Fatal("paging does not end")
		}
		page, err := s.List(ctx(t), store.Filter{}, before, 5)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.Pairs {
			if lastID != 0 && p.Request.ID >= lastID {
				t.Errorf("not newest first: id %d after %d", p.Request.ID, lastID)
			}
			lastID = p.Request.ID
			got = append(got, p.Request.CorrelationID)
		}
		if page.Next == 0 {
			if len(page.Pairs) > 5 {
				t.Errorf("page of %d", len(page.Pairs))
			}
			break
		}
		if len(page.Pairs) != 5 || page.Next != page.Pairs[4].Request.ID {
			t.Errorf("a page with a next page: %d pairs, next %d", len(page.Pairs), page.Next)
		}
		before = page.Next
	}
	if len(got) != n || got[0] != fmt.Sprintf("page-%02d", n-1) || got[n-1] != "page-00" {
		t.Errorf("paged through %d pairs: %v", len(got), got)
	}
	// An exactly full last page has no next page.
	page, err := s.List(ctx(t), store.Filter{}, 0, n)
	if err != nil || len(page.Pairs) != n || page.Next != 0 {
		t.Errorf("List(limit %d) = %d pairs, next %d, %v", n, len(page.Pairs), page.Next, err)
	}
	// An empty result is an empty list, not nil (JSON [] not null).
	page, err = s.List(ctx(t), store.Filter{Exchange: "none"}, 0, 5)
	if err != nil || page.Pairs == nil || len(page.Pairs) != 0 || page.Next != 0 {
		t.Errorf("empty List = %#v, %v", page, err)
	}
}

// record is one pair of the filter test, as the oracle sees it.
type record struct {
	id, vhost, exchange, host string
	outcome                   store.Outcome
	at                        time.Time
	seq                       int64
}

func (r record) matches(f store.Filter, outcomes bool) bool {
	switch {
	case f.CorrelationID != "" && f.CorrelationPrefix && !strings.HasPrefix(r.id, f.CorrelationID),
		f.CorrelationID != "" && !f.CorrelationPrefix && r.id != f.CorrelationID,
		f.VirtualHost != "" && r.vhost != f.VirtualHost,
		f.Exchange != "" && r.exchange != f.Exchange,
		f.Hostname != "" && r.host != f.Hostname,
		!f.Since.IsZero() && r.at.Before(f.Since),
		!f.Until.IsZero() && !r.at.Before(f.Until),
		f.After != 0 && r.seq <= f.After:
		return false
	}
	if !outcomes || len(f.Outcomes) == 0 {
		return true
	}
	for _, o := range f.Outcomes {
		if o == r.outcome {
			return true
		}
	}
	return false
}

func testFilters(t *testing.T, s store.Store, clock *Clock) {
	vhosts := []string{"trees", "fruit"}
	exchanges := []string{"dx_tree", "dx_apple", "dx_pear"}
	hosts := []string{"h1", "h2"}
	var recs []record
	for i := 0; i < 96; i++ {
		r := record{id: fmt.Sprintf("f%02x-%d", i*37%256, i), vhost: vhosts[i%2], exchange: exchanges[i%3], host: hosts[i/7%2],
			outcome: store.Outcomes[i/3%4], at: clock.Now()}
		mustAddRequest(t, s, Request(r.id, r.vhost, r.exchange, r.host))
		if r.outcome != store.OutcomeAwaiting {
			mustAddResponse(t, s, Response(r.id, r.outcome))
		}
		r.seq = mustGet(t, s, r.id).Request.ID
		recs = append(recs, r)
		clock.Advance(time.Minute)
	}
	at := func(i int) time.Time { return Epoch.Add(time.Duration(i) * time.Minute) }
	filters := []store.Filter{
		{},
		{VirtualHost: "trees"},
		{Exchange: "dx_apple"},
		{Hostname: "h2"},
		{Outcomes: []store.Outcome{store.OutcomeError}},
		{Outcomes: []store.Outcome{store.OutcomeFailure, store.OutcomeAwaiting}},
		{VirtualHost: "fruit", Exchange: "dx_pear"},
		{VirtualHost: "fruit", Exchange: "dx_pear", Hostname: "h1", Outcomes: []store.Outcome{store.OutcomeSuccess}},
		{Exchange: "dx_tree", Outcomes: []store.Outcome{store.OutcomeError, store.OutcomeFailure}},
		{Hostname: "h1", Outcomes: []store.Outcome{store.OutcomeAwaiting}},
		{Since: at(10), Until: at(50)},
		{Since: at(90)},
		{Until: at(3)},
		{Since: at(20), Until: at(80), Exchange: "dx_apple", Outcomes: []store.Outcome{store.OutcomeSuccess}},
		{CorrelationID: "f2", CorrelationPrefix: true},
		{CorrelationID: "f2", CorrelationPrefix: true, VirtualHost: "trees"},
		{CorrelationID: recs[40].id},
		{CorrelationID: recs[40].id, Exchange: "dx_none"},
		{After: recs[80].seq},
		{After: recs[60].seq, Hostname: "h2", Outcomes: []store.Outcome{store.OutcomeError}},
		{VirtualHost: "nowhere"},
	}
	for _, f := range filters {
		var want []string
		wantCounts := map[store.Outcome]int64{}
		for _, o := range store.Outcomes {
			wantCounts[o] = 0
		}
		for i := len(recs) - 1; i >= 0; i-- {
			if recs[i].matches(f, true) {
				want = append(want, recs[i].id)
			}
			if recs[i].matches(f, false) {
				wantCounts[recs[i].outcome]++
			}
		}
		var got []string
		before := int64(0)
		for {
			page, err := s.List(ctx(t), f, before, 7)
			if err != nil {
				t.Fatalf("%+v: %v", f, err)
			}
			got = append(got, ids(page.Pairs)...)
			if page.Next == 0 {
				break
			}
			before = page.Next
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("filter %+v:\n got %v\nwant %v", f, got, want)
		}
		counts, err := s.Counts(ctx(t), f)
		if err != nil {
			t.Fatalf("Counts(%+v): %v", f, err)
		}
		if fmt.Sprint(counts) != fmt.Sprint(wantCounts) {
			t.Errorf("Counts(%+v) = %v, want %v", f, counts, wantCounts)
		}
	}
}

func testClockSteppedBack(t *testing.T, s store.Store, clock *Clock) {
	clock.Advance(time.Hour)
	mustAddRequest(t, s, Request("later", "v", "x", "h"))
	clock.Advance(-time.Hour)
	mustAddRequest(t, s, Request("after-the-step", "v", "x", "h"))
	clock.Advance(2 * time.Hour)
	mustAddRequest(t, s, Request("caught-up", "v", "x", "h"))
	if got := mustGet(t, s, "after-the-step").Request.CreatedAt; !got.Equal(Epoch.Add(time.Hour)) {
		t.Errorf("a request stored after the clock stepped back: created_at %v, want the newest stored (%v)", got, Epoch.Add(time.Hour))
	}
	for _, tt := range []struct {
		f    store.Filter
		want string
	}{
		{store.Filter{Since: Epoch.Add(time.Hour)}, "caught-up after-the-step later"},
		{store.Filter{Since: Epoch.Add(time.Hour + time.Second)}, "caught-up"},
		{store.Filter{Until: Epoch.Add(time.Hour)}, ""},
		{store.Filter{Until: Epoch.Add(2 * time.Hour)}, "after-the-step later"},
		{store.Filter{Since: Epoch.Add(3 * time.Hour)}, ""},
	} {
		page, err := s.List(ctx(t), tt.f, 0, 10)
		if got := strings.Join(ids(page.Pairs), " "); err != nil || got != tt.want {
			t.Errorf("%+v: %q, %v; want %q", tt.f, got, err, tt.want)
		}
	}
}

func testPurge(t *testing.T, s store.Store, clock *Clock) {
	for i := 0; i < 10; i++ {
		id := fmt.Sprintf("purge-%d", i)
		mustAddRequest(t, s, Request(id, "v", "x", "h"))
		if i%2 == 0 {
			mustAddResponse(t, s, Response(id, store.OutcomeSuccess))
		}
		clock.Advance(24 * time.Hour)
	}
	// Requests 0..3 are older than the cutoff.
	n, err := s.Purge(ctx(t), Epoch.Add(4*24*time.Hour))
	if err != nil || n != 4 {
		t.Fatalf("Purge = %d, %v; want 4", n, err)
	}
	page, err := s.List(ctx(t), store.Filter{}, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ids(page.Pairs), " "); got != "purge-9 purge-8 purge-7 purge-6 purge-5 purge-4" {
		t.Errorf("left after purge: %s", got)
	}
	counts, err := s.Counts(ctx(t), store.Filter{})
	if err != nil || counts[store.OutcomeSuccess] != 3 || counts[store.OutcomeAwaiting] != 3 {
		t.Errorf("counts after purge: %v, %v", counts, err)
	}
	if n, err := s.Purge(ctx(t), Epoch.Add(4*24*time.Hour)); err != nil || n != 0 {
		t.Errorf("second Purge = %d, %v; want 0", n, err)
	}
	// A purged request's response is unknown now.
	if err := s.AddResponse(ctx(t), Response("purge-1", store.OutcomeSuccess)); !errors.Is(err, store.ErrUnknownRequest) {
		t.Errorf("response of a purged request: %v", err)
	}
}

func testConcurrentRepeats(t *testing.T, s store.Store, _ *Clock) {
	const workers, records = 8, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers*records*2)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < records; i++ {
				id := fmt.Sprintf("conc-%d", i)
				if err := s.AddRequest(context.Background(), Request(id, "v", "x", "h")); err != nil {
					errs <- fmt.Errorf("request %s: %w", id, err)
				}
				if err := s.AddResponse(context.Background(), Response(id, store.OutcomeFailure)); err != nil {
					errs <- fmt.Errorf("response %s: %w", id, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	counts, err := s.Counts(ctx(t), store.Filter{})
	if err != nil || counts[store.OutcomeFailure] != records || counts[store.OutcomeAwaiting] != 0 {
		t.Errorf("after concurrent repeats: %v, %v", counts, err)
	}
}
