package gui

import (
	"encoding/json"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
)

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0 µs"},
		{850 * time.Microsecond, "850 µs"},
		{3200 * time.Microsecond, "3.2 ms"},
		{38 * time.Millisecond, "38 ms"},
		{4200 * time.Millisecond, "4.2 s"},
		{185 * time.Second, "3 min 5 s"},
		{2*time.Hour + 5*time.Minute, "2 h 5 min"},
		{-2 * time.Second, "-2.0 s"},
	}
	for _, tt := range tests {
		if got := formatDuration(tt.d); got != tt.want {
			t.Errorf("formatDuration(%s) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestFormatAgo(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		ago  time.Duration
		want string
	}{
		{0, "just now"},
		{42 * time.Second, "42 s ago"},
		{5 * time.Minute, "5 min ago"},
		{3 * time.Hour, "3 h ago"},
		{12 * 24 * time.Hour, "12 d ago"},
	}
	for _, tt := range tests {
		if got := formatAgo(now, now.Add(-tt.ago)); got != tt.want {
			t.Errorf("formatAgo(%s) = %q, want %q", tt.ago, got, tt.want)
		}
	}
}

func TestResponseMessage(t *testing.T) {
	long := make([]byte, 0, 200)
	for range 200 {
		long = append(long, 'x')
	}
	tests := []struct {
		payload string
		want    string
	}{
		{`{"success": true, "message": "Determined toleration"}`, "Determined toleration"},
		{`{"success": true, "message": 7}`, ""},
		{`{"success": true}`, ""},
		{`[1]`, ""},
		{`{"message": "` + string(long) + `"}`, string(long[:messageLength-1]) + "…"},
	}
	for _, tt := range tests {
		if got := responseMessage(json.RawMessage(tt.payload)); got != tt.want {
			t.Errorf("responseMessage(%.40s) = %q, want %q", tt.payload, got, tt.want)
		}
	}
	if got := responseMessage(nil); got != "" {
		t.Errorf("responseMessage(nil) = %q", got)
	}
}

func TestNormalizeParams(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	tests := []struct {
		in, want string
	}{
		{"exchange_name=dx&hostname=&since=", "exchange_name=dx"},
		{"since=2026-11-30T10%3A05", "since=2026-11-30T09%3A05%3A00Z"},
		{"since=2026-11-30T10%3A05%3A07&until=2026-12-01", "since=2026-11-30T09%3A05%3A07Z&until=2026-11-30T23%3A00%3A00Z"},
		{"since=2026-11-30T10%3A05%3A07%2B02%3A00", "since=2026-11-30T10%3A05%3A07%2B02%3A00"}, // RFC 3339 kept
		{"since=yesterday", "since=yesterday"},                                                 // left for ParseQuery to name
		{"outcome=failure&outcome=&outcome=error", "outcome=failure&outcome=error"},
	}
	for _, tt := range tests {
		in, _ := url.ParseQuery(tt.in)
		want, _ := url.ParseQuery(tt.want)
		if got := normalizeParams(in, cet); !reflect.DeepEqual(got, want) {
			t.Errorf("normalizeParams(%s) = %s, want %s", tt.in, got.Encode(), tt.want)
		}
	}
}

func TestListURL(t *testing.T) {
	tests := []struct {
		f      store.Filter
		before int64
		limit  int
		want   string
	}{
		{store.Filter{}, 0, 0, "./"},
		{store.Filter{}, 0, store.DefaultLimit, "./"},
		{store.Filter{Exchange: "dx a&b"}, 42, 10, "./?before=42&exchange_name=dx+a%26b&limit=10"},
		{store.Filter{Outcomes: []store.Outcome{store.OutcomeError, store.OutcomeFailure}}, 0, 0, "./?outcome=error&outcome=failure"},
	}
	for _, tt := range tests {
		if got := listURL(tt.f, tt.before, tt.limit); got != tt.want {
			t.Errorf("listURL(%+v, %d, %d) = %q, want %q", tt.f, tt.before, tt.limit, got, tt.want)
		}
	}
	if got := pairURL("a/b c?&"); got != "pair?correlation_id=a%2Fb+c%3F%26" {
		t.Errorf("pairURL = %q", got)
	}
}
