package consumer

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testrpc"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// laterSh is a one-shot handler that appends "RPC_ATTEMPT time" to
// STATE/runs and says "not now" (exit 75, retry after DELAY s) on its
// first FAILS runs, then succeeds.
const laterSh = `#!/bin/sh
cat >/dev/null
echo "$RPC_ATTEMPT $(date +%s.%N)" >> STATE/runs
if [ "$(wc -l < STATE/runs)" -le FAILS ]; then
  echo '{"retry_after_seconds": DELAY}'
  exit 75
fi
echo '{"success":true,"message":"done","data":{}}'
`

// laterPy is laterSh as a persistent handler written with the Python
// helper (raise RetryLater), its attempt from the request's metadata.
const laterPy = `#!/usr/bin/env python3
import sys, time
sys.path.insert(0, "PYTHONDIR")
from rabbitmq_consumer_handler import RetryLater, reply, serve

def handle(request, meta):
    with open("STATE/runs", "a") as f:
        f.write("%d %f\n" % (meta.attempt, time.time()))
    with open("STATE/runs") as f:
        n = len(f.readlines())
    if n <= FAILS:
        raise RetryLater(DELAY)
    return reply(True, "done", {})

serve(handle)
`

type run struct {
	attempt int
	at      time.Time
}

// writeLater installs laterSh as exchange's handler in dir, its state in
// state, and returns the function reading its runs.
func writeLater(t *testing.T, dir, state, exchange string, fails int, delay float64, persistent bool) func() []run {
	t.Helper()
	pythonDir, _ := filepath.Abs("../python")
	program, mode := laterSh, "oneshot"
	if persistent {
		program, mode = laterPy, "persistent"
	}
	sh := strings.NewReplacer("STATE", state, "FAILS", strconv.Itoa(fails), "DELAY", fmt.Sprint(delay), "PYTHONDIR", pythonDir).Replace(program)
	mustWrite(t, filepath.Join(dir, exchange, "handler"), sh, 0o755)
	mustWrite(t, filepath.Join(dir, exchange, "contract.json"), `{"description":"later","mode":"`+mode+`","timeout_seconds":30,"request":{"type":"object"},"response":{"type":"object"}}`, 0o644)
	return func() []run {
		b, _ := os.ReadFile(filepath.Join(state, "runs"))
		var runs []run
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var a int
			var ts float64
			if _, err := fmt.Sscanf(l, "%d %f", &a, &ts); err == nil {
				runs = append(runs, run{a, time.Unix(0, int64(ts*1e9))})
			}
		}
		return runs
	}
}

// TestRetryLater: through a real broker, a one-shot handler that says "not
// now" (exit 75, retry after 1 s) twice, then succeeds: 3 runs, attempts
// 1, 2, 3 (RPC_ATTEMPT), at least 1 s apart, one reply (the reference
// client's); a handler that always says "not now", with a retry limit of
// 2: 3 runs, then the unexpected error.
func TestRetryLater(t *testing.T) {
	tests := []struct {
		name       string
		persistent bool
		fails      int
		runs       int
		success    bool
		minTotal   time.Duration
	}{
		{"twice then success", false, 2, 3, true, 2 * time.Second},
		{"attempts exhausted", false, 100, 3, false, 2 * time.Second},
		{"persistent: twice then success", true, 2, 3, true, 2 * time.Second},
		{"persistent: attempts exhausted", true, 100, 3, false, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, state := t.TempDir(), t.TempDir()
			runs := writeLater(t, dir, state, "dx_later", tt.fails, 1, tt.persistent)
			h := start(t, setup{exchanges: []string{"dx_later"}, handlersDir: dir, before: func(c *Consumer) { c.retryLimit = 2 }})
			began := time.Now()
			r, err := testrpc.ReferenceCall(h.vh.URL(), "dx_later", h.queue(), []byte(`{}`), 60*time.Second)
			took := time.Since(began)
			if err != nil {
				t.Fatal(err)
			}
			if tt.success && (!r.Success || r.Message != "done") || !tt.success && r.Message != wire.MessageUnexpectedError {
				t.Errorf("reply = %+v, want success %v", r, tt.success)
			}
			got := runs()
			if len(got) != tt.runs {
				t.Fatalf("%d runs, want %d", len(got), tt.runs)
			}
			for i, g := range got {
				if g.attempt != i+1 {
					t.Errorf("run %d: RPC_ATTEMPT=%d, want %d", i+1, g.attempt, i+1)
				}
				if i > 0 {
					if gap := g.at.Sub(got[i-1].at); gap < 900*time.Millisecond || gap > 5*time.Second {
						t.Errorf("run %d came %v after the previous one, want about 1s", i+1, gap)
					}
				}
			}
			if took < tt.minTotal {
				t.Errorf("reply after %v, want at least %v", took, tt.minTotal)
			}
			responses := 0
			for _, rec := range h.journal.records() {
				if rec.Kind == logship.KindResponse {
					responses++
				}
			}
			if responses != 1 {
				t.Errorf("%d responses journaled, want 1", responses)
			}
		})
	}
}

// TestRetryLaterSurvivesRestart: a request waiting in the delay queue when
// its consumer stops is answered by the next consumer.
func TestRetryLaterSurvivesRestart(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	runs := writeLater(t, dir, state, "dx_later", 1, 3, false)
	h := start(t, setup{exchanges: []string{"dx_later"}, handlersDir: dir})
	type got struct {
		r   wire.Response
		err error
	}
	done := make(chan got, 1)
	go func() {
		r, err := testrpc.ReferenceCall(h.vh.URL(), "dx_later", h.queue(), []byte(`{}`), 60*time.Second)
		done <- got{r, err}
	}()
	testutil.WaitFor(t, "the first run", 30*time.Second, func() bool { return len(runs()) == 1 })
	if err := h.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	start(t, setup{exchanges: []string{"dx_later"}, handlersDir: dir, vh: h.vh})
	g := <-done
	if g.err != nil || !g.r.Success || g.r.Message != "done" {
		t.Errorf("reply = %+v, %v; want success after the restart", g.r, g.err)
	}
	if n := len(runs()); n != 2 {
		t.Errorf("%d runs, want 2", n)
	}
}

// TestRetryLaterWithoutItsDelayQueue: when the delay queue was deleted
// after the consumer declared it, the broker confirms the copy but routes
// it nowhere; the request must go back to its queue, not be acked and
// lost.
func TestRetryLaterWithoutItsDelayQueue(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	runs := writeLater(t, dir, state, "dx_later", 1, 1, false)
	h := start(t, setup{exchanges: []string{"dx_later"}, handlersDir: dir})
	conn, err := amqp.Dial(h.vh.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDelete(h.queue()+".retry-later", false, false, false); err != nil {
		t.Fatal(err)
	}
	r, err := testrpc.ReferenceCall(h.vh.URL(), "dx_later", h.queue(), []byte(`{}`), 60*time.Second)
	if err != nil {
		t.Fatalf("the request was lost: %v (%d runs)", err, len(runs()))
	}
	if !r.Success || r.Message != "done" {
		t.Errorf("reply = %+v, want the second run's success", r)
	}
	if n := len(runs()); n != 2 {
		t.Errorf("%d runs, want 2 (the first, then again at once)", n)
	}
}
