package handler

import (
	"strings"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		stdout string
		want   time.Duration
		err    string
	}{
		{`{"retry_after_seconds": 2}`, 2 * time.Second, ""},
		{`{"retry_after_seconds": 0.25}` + "\n", 250 * time.Millisecond, ""},
		{`{"retry_after_seconds": 0}`, 0, ""},
		{``, 0, `without {"retry_after_seconds": N}`},
		{`{"success": true}`, 0, `without {"retry_after_seconds": N}`},
		{`{"retry_after_seconds": "2"}`, 0, `without {"retry_after_seconds": N}`},
		{`{"retry_after_seconds": -1}`, 0, "not between 0 and 86400"},
		{`{"retry_after_seconds": 86401}`, 0, "not between 0 and 86400"},
	}
	for _, tt := range tests {
		got, err := parseRetryAfter([]byte(tt.stdout))
		switch {
		case tt.err == "" && (err != nil || got.After != tt.want):
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v", tt.stdout, got, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("parseRetryAfter(%q): error %v, want one saying %q", tt.stdout, err, tt.err)
		}
	}
}
