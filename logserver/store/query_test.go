package store

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseQuery(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	tests := []struct {
		query   string
		want    Query
		wantErr string
	}{
		{"", Query{Limit: DefaultLimit}, ""},
		{"correlation_id=ab12&prefix=1", Query{Filter: Filter{CorrelationID: "ab12", CorrelationPrefix: true}, Limit: DefaultLimit}, ""},
		{"exchange_name=dx&virtual_host_name=trees&hostname=h1", Query{Filter: Filter{Exchange: "dx", VirtualHost: "trees", Hostname: "h1"}, Limit: DefaultLimit}, ""},
		{"outcome=failure,error&outcome=awaiting", Query{Filter: Filter{Outcomes: []Outcome{OutcomeFailure, OutcomeError, OutcomeAwaiting}}, Limit: DefaultLimit}, ""},
		{"since=2026-01-02T15:04:05Z&before=42&limit=10&after=7", Query{Filter: Filter{Since: t0, After: 7}, Before: 42, Limit: 10}, ""},
		{"outcome=done", Query{}, "parameter outcome"},
		{"since=yesterday", Query{}, "parameter since"},
		{"before=-1", Query{}, "parameter before"},
		{"limit=0", Query{}, "parameter limit"},
		{"limit=501", Query{}, "parameter limit"},
	}
	for _, tt := range tests {
		v, err := url.ParseQuery(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseQuery(v)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: error %v, want one naming %q", tt.query, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.query, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tt.query, got, tt.want)
		}
		// The filter survives a round trip through its URL parameters.
		back, err := ParseQuery(got.Filter.Values())
		if err != nil || !reflect.DeepEqual(back.Filter, got.Filter) {
			t.Errorf("%q: round trip gave %+v, %v", tt.query, back.Filter, err)
		}
	}
}

func TestOutcomeOf(t *testing.T) {
	tb := "Traceback: boom"
	empty := ""
	tests := []struct {
		payload   string
		traceback *string
		want      Outcome
	}{
		{"", nil, OutcomeAwaiting},
		{`{"success":true,"message":"ok","data":null}`, nil, OutcomeSuccess},
		{`{"success":false,"message":"no","data":null}`, nil, OutcomeFailure},
		{`{"success":false,"message":"no","data":null}`, &empty, OutcomeFailure},
		{`{"success":false,"message":"An unexpected error occurred","data":null}`, &tb, OutcomeError},
		{`{"success":true}`, &tb, OutcomeError},
		{`[]`, nil, OutcomeFailure},
	}
	for _, tt := range tests {
		var p []byte
		if tt.payload != "" {
			p = []byte(tt.payload)
		}
		if got := OutcomeOf(p, tt.traceback); got != tt.want {
			t.Errorf("OutcomeOf(%s, %v) = %s, want %s", tt.payload, tt.traceback, got, tt.want)
		}
	}
}
