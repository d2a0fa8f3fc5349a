package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// Progress is a progress update of the suite, n seconds after Epoch (and
// 7 microseconds, which every store keeps).
func Progress(id string, n int, state, message string, percent *float64, data string) wire.LogProgress {
	p := wire.LogProgress{CorrelationID: id, Time: Epoch.Add(time.Duration(n)*time.Second + 7*time.Microsecond),
		State: state, Message: message, Percent: percent}
	if data != "" {
		p.Data = json.RawMessage(data)
	}
	return p
}

func mustAddProgress(t *testing.T, s store.Store, p wire.LogProgress) {
	t.Helper()
	if err := s.AddProgress(ctx(t), p); err != nil {
		t.Fatalf("AddProgress(%q, %v): %v", p.CorrelationID, p.Time, err)
	}
}

// progressLine shows an update for comparison.
func progressLine(p store.Progress) string {
	pct := "-"
	if p.Percent != nil {
		pct = fmt.Sprint(*p.Percent)
	}
	data := "-"
	if p.Data != nil {
		var v any
		_ = json.Unmarshal(p.Data, &v)
		b, _ := json.Marshal(v)
		data = string(b)
	}
	return fmt.Sprintf("%s %s %s %q %s %s", p.CorrelationID, p.Time.UTC().Format(time.RFC3339Nano), p.State, p.Message, pct, data)
}

func progressLines(t *testing.T, s store.Store, id string) []string {
	t.Helper()
	ps, err := s.Progress(ctx(t), id)
	if err != nil {
		t.Fatalf("Progress(%q): %v", id, err)
	}
	if ps == nil {
		t.Errorf("Progress(%q) = nil; want an empty slice", id)
	}
	out := []string{}
	for _, p := range ps {
		out = append(out, progressLine(p))
	}
	return out
}

func testProgressRoundTrip(t *testing.T, s store.Store, clock *Clock) {
	mustAddRequest(t, s, Request("prog", "v", "x", "h"))
	mustAddRequest(t, s, Request("other", "v", "x", "h"))
	if got := progressLines(t, s, "prog"); len(got) != 0 {
		t.Errorf("progress before any: %v", got)
	}
	half := 50.5
	// Posted out of order (the third first): returned by time.
	mustAddProgress(t, s, Progress("prog", 3, "Done", "all <done> & \"quoted\"", wire.Percentage(100), `{"b": 2, "a": [1, "x"]}`))
	clock.Advance(time.Second)
	mustAddProgress(t, s, Progress("prog", 1, "Building", "step 1 of 2", nil, ""))
	mustAddProgress(t, s, Progress("prog", 2, "Building", "", &half, "null"))
	mustAddProgress(t, s, Progress("other", 1, "Other", "", nil, ""))
	want := []string{
		`prog 2026-03-01T12:00:01.000007Z Building "step 1 of 2" - -`,
		`prog 2026-03-01T12:00:02.000007Z Building "" 50.5 -`,
		`prog 2026-03-01T12:00:03.000007Z Done "all <done> & \"quoted\"" 100 {"a":[1,"x"],"b":2}`,
	}
	if got := progressLines(t, s, "prog"); !slices.Equal(got, want) {
		t.Errorf("progress =\n%q\nwant\n%q", got, want)
	}
	ps, err := s.Progress(ctx(t), "prog")
	if err != nil || len(ps) != 3 {
		t.Fatalf("Progress = %d, %v", len(ps), err)
	}
	if !ps[0].CreatedAt.Equal(Epoch.Add(time.Second)) || !ps[2].CreatedAt.Equal(Epoch) {
		t.Errorf("created at %v, %v; want the store's clock", ps[0].CreatedAt, ps[2].CreatedAt)
	}
	if got := progressLines(t, s, "none"); len(got) != 0 {
		t.Errorf("progress of an unknown id: %v", got)
	}
}

func testIdempotentProgress(t *testing.T, s store.Store, _ *Clock) {
	mustAddRequest(t, s, Request("idem", "v", "x", "h"))
	p := Progress("idem", 1, "Copying", "file 1", wire.Percentage(10), `{"file": "a"}`)
	mustAddProgress(t, s, p)
	again := p
	again.Time = p.Time.In(time.FixedZone("CET", 3600))
	again.Data = json.RawMessage(`{ "file" : "a" }`)
	if err := s.AddProgress(ctx(t), again); err != nil {
		t.Errorf("identical repeat: %v", err)
	}
	for name, change := range map[string]func(*wire.LogProgress){
		"state":   func(p *wire.LogProgress) { p.State = "Other" },
		"message": func(p *wire.LogProgress) { p.Message = "file 2" },
		"percent": func(p *wire.LogProgress) { p.Percent = nil },
		"data":    func(p *wire.LogProgress) { p.Data = json.RawMessage(`{"file": "b"}`) },
	} {
		d := p
		change(&d)
		if err := s.AddProgress(ctx(t), d); !errors.Is(err, store.ErrConflict) {
			t.Errorf("a different update (%s) at the same time: %v; want ErrConflict", name, err)
		}
	}
	if got := progressLines(t, s, "idem"); len(got) != 1 {
		t.Errorf("after repeats: %q", got)
	}
	if err := s.AddProgress(ctx(t), Progress("nope", 1, "S", "", nil, "")); !errors.Is(err, store.ErrUnknownRequest) {
		t.Errorf("progress without its request: %v; want ErrUnknownRequest", err)
	}
}

func testPurgeProgress(t *testing.T, s store.Store, clock *Clock) {
	mustAddRequest(t, s, Request("old", "v", "x", "h"))
	mustAddProgress(t, s, Progress("old", 1, "Old", "", nil, ""))
	clock.Advance(48 * time.Hour)
	mustAddRequest(t, s, Request("new", "v", "x", "h"))
	mustAddProgress(t, s, Progress("new", 1, "New", "", nil, ""))
	if n, err := s.Purge(ctx(t), Epoch.Add(24*time.Hour)); err != nil || n != 1 {
		t.Fatalf("Purge = %d, %v; want 1", n, err)
	}
	if got := progressLines(t, s, "old"); len(got) != 0 {
		t.Errorf("progress of a purged request: %q", got)
	}
	if got := progressLines(t, s, "new"); len(got) != 1 {
		t.Errorf("progress kept: %q", got)
	}
}
