package handler

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// persistentScript speaks the persistent handler protocol in shell. It
// answers {"pid": its pid, "n": requests it served}, unless the request
// asks it to misbehave: "crash" exits, "garbage" writes a line that is not
// JSON, "wrongid" answers another correlation id, "hang" sleeps; "slow"
// answers after 200 ms.
const persistentScript = `echo '{"protocol": "rabbitmq-consumer/1"}'
n=0
while IFS= read -r line; do
  n=$((n+1))
  cid=${line#*\"correlation_id\":\"}; cid=${cid%%\"*}
  case "$line" in
  *'"crash"'*) exit 7;;
  *'"garbage"'*) echo garbage;;
  *'"wrongid"'*) echo '{"correlation_id":"nope","response":{}}';;
  *'"hang"'*) sleep 300;;
  *'"slow"'*) sleep 0.2; printf '{"correlation_id":"%s","response":{"pid":%s,"n":%s}}\n' "$cid" "$$" "$n";;
  *) printf '{"correlation_id":"%s","response":{"pid":%s,"n":%s}}\n' "$cid" "$$" "$n";;
  esac
done`

// openPool starts a pool of at most max processes of script.
func openPool(t *testing.T, script, extra string, max int) *Pool {
	t.Helper()
	return openPoolAt(t, writeHandler(t, script, "0.5", `,"mode":"persistent"`+extra), max)
}

// openPoolAt starts a pool of at most max processes of the handler in
// dir, closed when the test ends.
func openPoolAt(t *testing.T, dir string, max int) *Pool {
	t.Helper()
	e, err := LoadExec(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	pl := NewPool(e, "v", "dx_p", max, testBackoff, zerolog.Nop())
	if err := pl.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := pl.Close(); err != nil {
			t.Error(err)
		}
	})
	return pl
}

// served is what persistentScript answers.
type served struct {
	PID int `json:"pid"`
	N   int `json:"n"`
}

// call sends body to the pool, with the contract's timeout.
func call(pl *Pool, body string) (served, error) {
	ctx, cancel := context.WithTimeout(context.Background(), pl.Contract().Timeout())
	defer cancel()
	raw, err := pl.Handle(ctx, &Call{Exchange: "dx_p", CorrelationID: "c-1", VirtualHost: "v", Body: []byte(body)})
	if err != nil {
		return served{}, err
	}
	var s served
	if err := json.Unmarshal(raw, &s); err != nil {
		return served{}, err
	}
	return s, nil
}

// TestPool, with one process at most: it serves requests one after another; a
// process that fails in any way gives its request an *Error and is
// replaced; processes are recycled after max_requests_per_process and
// replaced by Reload; Close leaves no process or goroutine behind.
func TestPool(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t, ignoreSpawner) }) // after the cleanups that close
	pl := openPool(t, persistentScript, `,"max_requests_per_process":4`, 1)
	first, err := call(pl, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := call(pl, `{}`); err != nil || s != (served{first.PID, 2}) {
		t.Fatalf("second call = %+v, %v; want the same process, its second request", s, err)
	}
	pid := first.PID
	for _, tt := range []struct {
		body, reason string
	}{
		{`{"crash":1}`, "handler process ended before answering"},
		{`{"garbage":1}`, "handler broke the protocol"},
		{`{"wrongid":1}`, "handler broke the protocol"},
		{`{"hang":1}`, "handler timed out and was killed"},
	} {
		_, err := call(pl, tt.body)
		var he *Error
		if !errors.As(err, &he) || !strings.Contains(he.Reason, tt.reason) {
			t.Fatalf("%s: error %v, want %q", tt.body, err, tt.reason)
		}
		s, err := call(pl, `{}`)
		if err != nil || s.PID == pid || s.N != 1 {
			t.Fatalf("after %s: %+v, %v; want a new process", tt.body, s, err)
		}
		pid = s.PID
	}
	for n := 2; n <= 4; n++ {
		if s, err := call(pl, `{}`); err != nil || s != (served{pid, n}) {
			t.Fatalf("request %d = %+v, %v; want process %d", n, s, err, pid)
		}
	}
	s, err := call(pl, `{}`)
	if err != nil || s.PID == pid {
		t.Fatalf("after 4 requests: %+v, %v; want a new process (max_requests_per_process)", s, err)
	}
	pl.Reload()
	r, err := call(pl, `{}`)
	if err != nil || r.PID == s.PID {
		t.Fatalf("after Reload: %+v, %v; want a new process", r, err)
	}
	if err := pl.Close(); err != nil {
		t.Fatal(err)
	}
	if !gone(r.PID) {
		t.Errorf("process %d still runs after Close", r.PID)
	}
	if _, err := call(pl, `{}`); err == nil {
		t.Error("a closed pool still answers")
	}
}

// TestPoolHandshake: a program that does not speak the protocol cannot
// open a pool, and the error says why.
func TestPoolHandshake(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t, ignoreSpawner) }) // after the cleanups that close
	for _, tt := range []struct {
		script, err string
	}{
		{`echo hello; sleep 300`, `its first line is not {"protocol": "rabbitmq-consumer/1"}: hello`},
		{`echo "no luck" >&2; exit 4`, "no handshake line: EOF (handler exited with status 4)"},
		{`sleep 300`, "no handshake line within 500ms"},
	} {
		e, err := LoadExec(writeHandler(t, tt.script, "0.5", `,"mode":"persistent"`), true)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		err = NewPool(e, "v", "dx_p", 1, testBackoff, zerolog.Nop()).Open()
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: Open = %v, want %q", tt.script, err, tt.err)
		}
		if d := time.Since(start); d > 60*time.Second {
			t.Errorf("%s: Open took %v", tt.script, d)
		}
	}
}

// TestPoolHandleReturnsWhenItsContextEnds: a pool says it stops with its
// context (StopsWithContext), so the consumer calls it without a goroutine
// to watch the deadline; Handle must then return soon after ctx ends,
// whether it waits for a process or its process hangs.
func TestPoolHandleReturnsWhenItsContextEnds(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t, ignoreSpawner) })
	if StopsWithContext(Typed("t", func(context.Context, *Call, struct{}) (wire.Reply[struct{}], error) {
		return wire.Reply[struct{}]{}, nil
	})) {
		t.Error("a Go handler is said to stop with its context")
	}
	pl := openPool(t, persistentScript, "", 1)
	if !StopsWithContext(pl) {
		t.Fatal("the pool is not said to stop with its context")
	}
	const limit = 2 * time.Second // how long after its context's end Handle may take
	// handle calls the pool with a timeout of d; it returns how long after
	// the deadline Handle returned.
	handle := func(d time.Duration, body string) (time.Duration, error) {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		deadline, _ := ctx.Deadline()
		_, err := pl.Handle(ctx, &Call{Exchange: "dx_p", CorrelationID: "c-1", VirtualHost: "v", Body: []byte(body)})
		return time.Since(deadline), err
	}
	hung := make(chan error, 1)
	var hungTook time.Duration
	go func() {
		var err error
		hungTook, err = handle(300*time.Millisecond, `{"hang":true}`)
		hung <- err
	}()
	testutil.WaitFor(t, "the only process to take the hanging request", 10*time.Second, func() bool { return len(pl.idle) == 0 })
	took, err := handle(100*time.Millisecond, `{"n":1}`)
	if err == nil || !strings.Contains(err.Error(), "no handler process was free in time") {
		t.Errorf("waiting for a process: Handle = %v, want no process free in time", err)
	}
	if took > limit {
		t.Errorf("waiting for a process: Handle returned %v after its context ended", took)
	}
	err = <-hung
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("hanging process: Handle = %v, want a timeout", err)
	}
	if hungTook > limit {
		t.Errorf("hanging process: Handle returned %v after its context ended", hungTook)
	}
}

// TestPoolGrowth: a request that finds every process busy waits growAfter
// for one before it starts another, so that concurrent requests of a fast
// handler share a few processes while those of a slow one get a process
// each, up to the pool's max.
func TestPoolGrowth(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t, ignoreSpawner) })
	for _, tt := range []struct {
		name      string
		growAfter time.Duration
		body      string
		callers   int
		each      int
		processes int // distinct processes that answered
	}{
		{"fast requests wait for the busy process", time.Minute, `{"n":1}`, 8, 25, 1},
		{"slow requests start processes", DefaultGrowAfter, `{"slow":true}`, 4, 1, 4},
		{"no more processes than the pool's max (4)", DefaultGrowAfter, `{"slow":true}`, 8, 2, 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, err := LoadExec(writeHandler(t, persistentScript, "30", `,"mode":"persistent"`), true)
			if err != nil {
				t.Fatal(err)
			}
			pl := NewPool(e, "v", "dx_p", 4, testBackoff, zerolog.Nop())
			pl.growAfter = tt.growAfter
			if err := pl.Open(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := pl.Close(); err != nil {
					t.Error(err)
				}
			}()
			pids := make(chan int, tt.callers*tt.each)
			errs := make(chan error, tt.callers)
			start := make(chan struct{})
			for range tt.callers {
				go func() {
					<-start
					for range tt.each {
						s, err := call(pl, tt.body)
						if err != nil {
							errs <- err
							return
						}
						pids <- s.PID
					}
					errs <- nil
				}()
			}
			close(start)
			for range tt.callers {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			close(pids)
			distinct := map[int]bool{}
			for pid := range pids {
				distinct[pid] = true
			}
			if len(distinct) != tt.processes {
				t.Errorf("%d processes answered, want %d", len(distinct), tt.processes)
			}
		})
	}
}

// TestPoolBacksOffFailingRequests: processes that start but fail request
// after request are restarted with the backoff of failed starts, and an
// answer ends it.
func TestPoolBacksOffFailingRequests(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t, ignoreSpawner) })
	pl := openPool(t, persistentScript, "", 1)
	failures := func() (int, time.Time) {
		pl.mu.Lock()
		defer pl.mu.Unlock()
		return pl.failures, pl.nextStart
	}
	// Each request may wait for its process's start, after the backoff.
	handle := func(body string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := pl.Handle(ctx, &Call{Exchange: "dx_p", CorrelationID: "c-1", VirtualHost: "v", Body: []byte(body)})
		return err
	}
	for i := 1; i <= 3; i++ {
		before := time.Now()
		if err := handle(`{"crash":1}`); err == nil || !strings.Contains(err.Error(), "handler process ended before answering") {
			t.Fatalf("crash %d: %v, want the process ended", i, err)
		}
		if n, next := failures(); n != i || !next.After(before) {
			t.Errorf("after crash %d: %d failures, next start at %v; want %d, after the request began (%v)", i, n, next, i, before)
		}
	}
	if err := handle(`{}`); err != nil {
		t.Fatal(err)
	}
	if n, next := failures(); n != 0 || !next.IsZero() {
		t.Errorf("after an answer: %d failures, next start at %v; want none, at once", n, next)
	}
}
