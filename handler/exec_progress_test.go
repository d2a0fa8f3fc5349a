package handler

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// progressLog collects the updates a handler reports.
type progressLog struct {
	mu  sync.Mutex
	got []string // "state message percent"
}

func (l *progressLog) report(p wire.Progress) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := p.State + " " + p.Message
	if p.Percent != nil {
		s += fmt.Sprintf(" %g", *p.Percent)
	}
	if p.Data != nil {
		s += " " + string(p.Data)
	}
	l.got = append(l.got, s)
}

func (l *progressLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.got...)
}

// handleWithProgress runs the one-shot handler script with a progress
// reporter and a logger, and returns the response, the log, how long it
// took and Handle's error.
func handleWithProgress(t *testing.T, script string, report func(wire.Progress)) (string, *testutil.SyncBuffer, time.Duration, error) {
	t.Helper()
	e, err := LoadExec(writeHandler(t, script, "30", ""), true)
	if err != nil {
		t.Fatal(err)
	}
	logs := &testutil.SyncBuffer{}
	logger := zerolog.New(logs)
	ctx, cancel := context.WithTimeout(logger.WithContext(context.Background()), 30*time.Second)
	defer cancel()
	ctx = WithProgress(ctx, report)
	began := time.Now()
	raw, err := e.Handle(ctx, &Call{Exchange: "dx_t", CorrelationID: "c-1", VirtualHost: "v", Body: []byte(`{}`)})
	return strings.TrimSpace(string(raw)), logs, time.Since(began), err
}

const okReply = `echo '{"ok":true}'`

// TestExecProgress: a one-shot handler writes progress lines to file
// descriptor 3 (RPC_PROGRESS_FD): each valid one is reported, in order,
// before Handle returns; a malformed or oversized one is logged and
// dropped, and the request goes on; a child holding fd 3 open, in the
// handler's group or escaped from it, does not hold the request.
func TestExecProgress(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t, ignoreSpawner) })
	pids := t.TempDir()
	steps := `for i in 1 2 3 4 5; do printf '{"state":"Building","message":"step %d","percent":%d,"data":{"step":%d}}\n' $i $((i*20)) $i >&"$RPC_PROGRESS_FD"; done`
	tests := []struct {
		name   string
		script string
		want   []string // the updates reported
		logs   []string // in the log
		within time.Duration
	}{
		{name: "five steps in order", script: `cat >/dev/null; ` + steps + `; ` + okReply,
			want: []string{`Building step 1 20 {"step":1}`, `Building step 2 40 {"step":2}`, `Building step 3 60 {"step":3}`, `Building step 4 80 {"step":4}`, `Building step 5 100 {"step":5}`}},
		{name: "the variable names fd 3", script: `[ "$RPC_PROGRESS_FD" = 3 ] && printf '%s\n' '{"state":"Fd","message":"3"}' >&3; ` + okReply,
			want: []string{"Fd 3"}},
		{name: "state and message only, no final newline", script: `printf '%s' '{"state":"Done","message":""}' >&3; ` + okReply,
			want: []string{"Done "}},
		{name: "malformed lines dropped", script: `printf '%s\n' 'not json' '{"state":1}' '["a"]' '' '{"state":"Good","message":"after"}' '{"percent":"half"}' >&3; ` + okReply,
			want: []string{"Good after"},
			logs: []string{`a progress line that is not a progress object`, `"line":"not json"`, `"line":"{\"state\":1}"`, `"line":"[\"a\"]"`, `"line":"{\"percent\":\"half\"}"`}},
		{name: "oversized line dropped", script: `head -c 70000 /dev/zero | tr '\0' x >&3; printf '\n%s\n' '{"state":"Good","message":"after"}' >&3; ` + okReply,
			want: []string{"Good after"},
			logs: []string{"a progress line longer than 65536 bytes; dropped"}},
		{name: "many malformed lines: ten warnings and a count", script: `for i in $(seq 25); do echo bad >&3; done; ` + okReply,
			logs: []string{`"lines":15,"message":"more malformed progress lines dropped"`}},
		{name: "a child in the group holds fd 3", script: `sleep 300 & echo $! > ` + pids + `/group; printf '%s\n' '{"state":"Started","message":"child"}' >&3; ` + okReply,
			want: []string{"Started child"}, within: 15 * time.Second},
		{name: "an escaped child holds fd 3", script: `env -i setsid sh -c 'echo $$ > ` + pids + `/escaped; exec sleep 300' >/dev/null 2>&1 </dev/null & while [ ! -s ` + pids + `/escaped ]; do :; done; printf '%s\n' '{"state":"Started","message":"child"}' >&3; ` + okReply,
			want: []string{"Started child"}, within: 15 * time.Second,
			logs: []string{"held open by a process that escaped"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got progressLog
			raw, logs, took, err := handleWithProgress(t, tt.script, got.report)
			if err != nil {
				t.Fatalf("Handle: %v\nlog:\n%s", err, logs.String())
			}
			if raw != `{"ok":true}` {
				t.Errorf("response %q, want the handler's", raw)
			}
			if g := got.all(); strings.Join(g, "|") != strings.Join(tt.want, "|") {
				t.Errorf("updates %q, want %q", g, tt.want)
			}
			for _, l := range tt.logs {
				if !strings.Contains(logs.String(), l) {
					t.Errorf("log without %s:\n%s", l, logs.String())
				}
			}
			if tt.within > 0 && took > tt.within {
				t.Errorf("Handle took %v, want under %v", took, tt.within)
			}
			if strings.Contains(tt.script, pids+"/group") {
				waitGone(t, filepath.Join(pids, "group"))
			}
		})
	}
	// the escaped child is no longer the handler's: end it here
	if b, err := os.ReadFile(filepath.Join(pids, "escaped")); err == nil {
		var pid int
		if _, err := fmt.Sscan(string(b), &pid); err == nil {
			killGroup(pid)
		}
	}
}

// TestExecProgressSlowReporter: when the reporter blocks, the handler's
// writes to fd 3 do not: it writes 5000 updates (more than a pipe holds)
// and its response and exits; the updates past the queue are dropped and
// counted, the others reported in order.
func TestExecProgressSlowReporter(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t, ignoreSpawner) })
	state := t.TempDir()
	release := make(chan struct{})
	var got progressLog
	report := func(p wire.Progress) {
		<-release
		got.report(p)
	}
	script := `for i in $(seq 5000); do printf '{"state":"S","message":"%d"}\n' $i; done >&3; touch ` + state + `/written; ` + okReply
	done := make(chan struct{})
	var logs *testutil.SyncBuffer
	var err error
	go func() {
		defer close(done)
		_, logs, _, err = handleWithProgress(t, script, report)
	}()
	testutil.WaitFor(t, "the handler to write its 5000 updates", 30*time.Second, func() bool {
		_, err := os.Stat(filepath.Join(state, "written"))
		return err == nil
	})
	close(release)
	<-done
	if err != nil {
		t.Fatalf("Handle: %v\nlog:\n%s", err, logs.String())
	}
	g := got.all()
	if len(g) == 0 || len(g) >= 5000 || g[0] != "S 1" {
		t.Fatalf("%d updates reported (the first %q), want S 1 and fewer than 5000", len(g), g[:min(len(g), 1)])
	}
	if want := fmt.Sprintf(`"updates":%d,`, 5000-len(g)); !strings.Contains(logs.String(), want) {
		t.Errorf("log without the dropped count %s:\n%s", want, logs.String())
	}
	last := 0
	for _, u := range g {
		var n int
		if _, err := fmt.Sscanf(u, "S %d", &n); err != nil || n <= last {
			t.Fatalf("update %q after %d: not in order", u, last)
		}
		last = n
	}
}
