package consumer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/client"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testrpc"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// progressSh is a one-shot handler in shell that reports progressSteps
// updates on its progress pipe (fd 3), progressPace apart, then replies.
const progressSh = `#!/bin/sh
cat >/dev/null
for i in $(seq STEPS); do
  printf '{"state":"Building","message":"step %d","percent":%d,"data":{"step":%d}}\n' $i $((i * 20)) $i >&3
  sleep PACE
done
echo '{"success":true,"message":"Built","data":{"steps":STEPS}}'
`

// malformedSh writes a line that is not a progress object, then a good
// update, then replies.
const malformedSh = `#!/bin/sh
cat >/dev/null
printf '%s\n' 'this is not JSON' >&3
printf '%s\n' '{"state":"Building","message":"after the bad line"}' >&3
echo '{"success":true,"message":"Built","data":{}}'
`

// holderSh leaves a child running that holds the progress pipe, in its
// process group (HOW empty) or escaped from it and from its run marker
// (HOW "env -i setsid"), then reports an update and replies at once.
const holderSh = `#!/bin/sh
cat >/dev/null
HOW sh -c 'echo $$ > PIDFILE; exec sleep 300' >/dev/null 2>&1 </dev/null &
while [ ! -s PIDFILE ]; do :; done
printf '%s\n' '{"state":"Started","message":"a child"}' >&"$RPC_PROGRESS_FD"
echo '{"success":true,"message":"Built","data":{}}'
`

// writeOneShot installs a one-shot handler script for exchange in dir.
func writeOneShot(t *testing.T, dir, exchange, script string) {
	t.Helper()
	mustWrite(t, filepath.Join(dir, exchange, "handler"), script, 0o755)
	mustWrite(t, filepath.Join(dir, exchange, "contract.json"), `{"description":"progress","timeout_seconds":30,"request":{"type":"object"},"response":{"type":"object"}}`, 0o644)
}

// goClientCall calls exchange with the Go client, asking for progress,
// and returns the updates and the reply.
func goClientCall(t *testing.T, h *harness, exchange string) ([]wire.Progress, wire.Response) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Config{Server: config.Server{Host: "127.0.0.1", Port: 5672, Username: "guest", Password: "guest"}, VirtualHost: h.vh.Name, Queue: h.queue()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	var got []wire.Progress
	r, err := c.Call(ctx, exchange, map[string]any{}, client.WithProgress(func(p wire.Progress) { got = append(got, p) }))
	if err != nil {
		t.Fatalf("Call: %v", err)
	}
	return got, r
}

// TestOneShotProgressThroughTheBroker: a one-shot handler in shell reports
// 5 progress steps on fd 3; the Go client with WithProgress gets the 5, in
// order, before the reply, and a raw caller sees them marked as progress;
// the reference client gets its reply alone. A malformed line is logged
// (once) and dropped, the request answered with the good update before
// it. A child that holds fd 3 after the handler exited, in its group or
// escaped, does not hold the reply.
func TestOneShotProgressThroughTheBroker(t *testing.T) {
	dir, pids := t.TempDir(), t.TempDir()
	writeOneShot(t, dir, "dx_progress_sh", strings.NewReplacer("STEPS", fmt.Sprint(progressSteps), "PACE", fmt.Sprint(progressPace.Seconds())).Replace(progressSh))
	writeOneShot(t, dir, "dx_malformed", malformedSh)
	writeOneShot(t, dir, "dx_holder", strings.NewReplacer("HOW ", "", "PIDFILE", pids+"/holder").Replace(holderSh))
	writeOneShot(t, dir, "dx_escaped", strings.NewReplacer("HOW", "env -i setsid", "PIDFILE", pids+"/escaped").Replace(holderSh))
	t.Cleanup(func() { // the escaped child is no longer the handler's
		var pid int
		if b, err := os.ReadFile(pids + "/escaped"); err == nil {
			if _, err := fmt.Sscan(string(b), &pid); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	h := start(t, setup{exchanges: []string{"dx_progress_sh", "dx_malformed", "dx_holder", "dx_escaped"}, handlersDir: dir})

	t.Run("Go client with WithProgress", func(t *testing.T) {
		got, r := goClientCall(t, h, "dx_progress_sh")
		if !r.Success || r.Message != "Built" {
			t.Errorf("reply = %+v, want the handler's success", r)
		}
		if len(got) != progressSteps {
			t.Fatalf("%d updates, want %d: %+v", len(got), progressSteps, got)
		}
		for i, p := range got {
			want := fmt.Sprintf("step %d", i+1)
			if p.State != "Building" || p.Message != want || p.Percent == nil || *p.Percent != float64((i+1)*20) || string(p.Data) != fmt.Sprintf(`{"step":%d}`, i+1) {
				t.Errorf("update %d = %+v, want %s at %d%%", i+1, p, want, (i+1)*20)
			}
		}
	})
	t.Run("marked as progress", func(t *testing.T) {
		got := progressCall(t, h.vh.URL(), "dx_progress_sh", h.queue())
		if len(got) != progressSteps+1 {
			t.Fatalf("%d messages, want %d updates and the reply", len(got), progressSteps)
		}
		for i, d := range got[:progressSteps] {
			if d.Type != wire.ProgressType || !wire.TrueHeader(d.Headers[wire.ProgressHeader]) {
				t.Errorf("update %d: type %q, headers %v; want marked as progress", i+1, d.Type, d.Headers)
			}
		}
	})
	t.Run("reference client", func(t *testing.T) {
		r, err := testrpc.ReferenceCall(h.vh.URL(), "dx_progress_sh", h.queue(), []byte(`{}`), 30*time.Second)
		if err != nil || !r.Success || r.Message != "Built" {
			t.Errorf("reference client's reply = %+v, %v; want the handler's success, not a progress update", r, err)
		}
	})
	t.Run("malformed line dropped", func(t *testing.T) {
		got, r := goClientCall(t, h, "dx_malformed")
		if !r.Success || r.Message != "Built" {
			t.Errorf("reply = %+v, want the handler's success", r)
		}
		if len(got) != 1 || got[0].Message != "after the bad line" {
			t.Errorf("updates %+v, want the good one alone", got)
		}
		if n := strings.Count(h.logs.String(), `"line":"this is not JSON","message":"a progress line that is not a progress object`); n != 1 {
			t.Errorf("%d warnings for the malformed line, want 1; log:\n%s", n, h.logs.String())
		}
	})
	for _, ex := range []string{"dx_holder", "dx_escaped"} {
		t.Run(ex, func(t *testing.T) {
			began := time.Now()
			got, r := goClientCall(t, h, ex)
			if took := time.Since(began); took > 15*time.Second {
				t.Errorf("reply after %v", took)
			}
			if !r.Success || len(got) != 1 || got[0].State != "Started" {
				t.Errorf("reply %+v, updates %+v; want the success after one update", r, got)
			}
		})
	}
	if !strings.Contains(h.logs.String(), "held open by a process that escaped") {
		t.Errorf("the escaped child did not hold the pipe (its test proves nothing); log:\n%s", h.logs.String())
	}
}
