package handler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
)

// logStderr feeds chunks to a stderrLog and returns the "stderr" fields
// and the messages it logged, and the traceback tail.
func logStderr(t *testing.T, chunks ...string) (lines, msgs []string, tail string) {
	t.Helper()
	var buf bytes.Buffer
	s := newStderrLog(zerolog.New(&buf), 0)
	for _, c := range chunks {
		s.write([]byte(c))
	}
	s.finish()
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var e struct{ Stderr, Message string }
		if l == "" {
			continue
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatal(err)
		}
		if e.Message == "handler stderr" {
			lines = append(lines, e.Stderr)
		} else {
			msgs = append(msgs, e.Message)
		}
	}
	return lines, msgs, s.tail()
}

func TestStderrLog(t *testing.T) {
	long := strings.Repeat("x", 10000)
	tests := []struct {
		name   string
		chunks []string
		lines  []string
	}{
		{"lines", []string{"a\nb\n"}, []string{"a", "b"}},
		{"a line across chunks", []string{"hel", "lo\nwor", "ld\n"}, []string{"hello", "world"}},
		{"no final newline", []string{"a\nlast"}, []string{"a", "last"}},
		{"empty lines", []string{"\n\n"}, []string{"", ""}},
		{"a long line is cut", []string{long[:5000], long[5000:] + "\nnext\n"}, []string{long[:maxStderrLine] + " [... 5904 bytes cut]", "next"}},
		{"invalid UTF-8", []string{"bad \xff\xfe bytes\n"}, []string{"bad \ufffd bytes"}},
		{"nothing", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines, msgs, _ := logStderr(t, tt.chunks...)
			if strings.Join(lines, "|") != strings.Join(tt.lines, "|") || len(lines) != len(tt.lines) || len(msgs) != 0 {
				t.Fatalf("lines = %q, messages %q; want %q", lines, msgs, tt.lines)
			}
		})
	}
}

func TestStderrLogBounded(t *testing.T) {
	var in strings.Builder
	for i := 0; i < 100000; i++ {
		in.WriteString("line of chatter\n")
	}
	in.WriteString("Traceback: the end\n")
	lines, msgs, tail := logStderr(t, in.String())
	if len(lines) > 2*stderrLogLines {
		t.Errorf("%d lines logged, want at most %d", len(lines), 2*stderrLogLines)
	}
	if len(msgs) != 1 || !strings.Contains(msgs[0], "left out") {
		t.Errorf("messages = %q, want one saying what was left out", msgs)
	}
	if lines[len(lines)-1] != "Traceback: the end" || !strings.HasSuffix(tail, "Traceback: the end") || len(tail) > stderrTailBytes {
		t.Errorf("the last line is not logged last, or the traceback tail (%d bytes) lacks it", len(tail))
	}
}

// TestStderrLogWindow: a persistent process's head is renewed every
// window, so that what a later request writes is logged as it comes,
// while each window stays bounded; without a window (one-shot) the head
// is the process's.
func TestStderrLogWindow(t *testing.T) {
	for _, tt := range []struct {
		name   string
		window time.Duration
		// logged before the end: the chatter's first lines, then (with a
		// window) what was held of it and the later line
		before, heldBefore int
		laterBefore        bool
	}{
		{"one-shot: one head", 0, stderrLogLines, 0, false},
		{"persistent: a head per window", stderrWindow, stderrLogLines, 50, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf testutil.SyncBuffer
			s := newStderrLog(zerolog.New(&buf), tt.window)
			now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
			s.now = func() time.Time { return now }
			for i := range stderrLogLines + 50 {
				s.write([]byte(fmt.Sprintf("chatter %d\n", i)))
			}
			now = now.Add(stderrWindow)
			s.write([]byte("Traceback of a later request\n"))
			logged := buf.String()
			if n := strings.Count(logged, "chatter"); n != tt.before+tt.heldBefore {
				t.Errorf("%d chatter lines logged before the end, want %d", n, tt.before+tt.heldBefore)
			}
			if got := strings.Contains(logged, "Traceback of a later request"); got != tt.laterBefore {
				t.Errorf("the later line logged before the end: %v, want %v", got, tt.laterBefore)
			}
			s.finish()
			logged = buf.String()
			if n := strings.Count(logged, "chatter"); n != stderrLogLines+50 {
				t.Errorf("%d chatter lines logged in all, want %d (the head and the held lines)", n, stderrLogLines+50)
			}
			if n := strings.Count(logged, "Traceback of a later request"); n != 1 {
				t.Errorf("the later line logged %d times, want once", n)
			}
		})
	}
}
