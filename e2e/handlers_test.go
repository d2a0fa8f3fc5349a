package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testrpc"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// The tests in this file run the consumer binary with executable handlers
// that try to hurt it, and measure what it costs the consumer.

const parallelContract = `{"description":"test","lock_attribute":"n","timeout_seconds":120,
 "request":{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]},
 "response":{"type":"object"}}`

// addHandler installs a handler and adds its exchange to the configuration.
func (w *world) addHandler(exchange, script string) {
	w.t.Helper()
	write(w.t, filepath.Join(w.handlers, exchange, "handler"), "#!/bin/sh\n"+script, 0o755)
	write(w.t, filepath.Join(w.handlers, exchange, "contract.json"), parallelContract, 0o644)
	cfg := strings.Replace(mustRead(w.t, w.cfgPath), "    exchanges:\n", "    exchanges:\n      "+exchange+": {}\n", 1)
	write(w.t, w.cfgPath, cfg, 0o644)
}

// sendN publishes n requests to exchange, each with its own lock value.
func sendN(t *testing.T, c *testrpc.Caller, exchange, queue string, n int) []chan wire.Response {
	t.Helper()
	ws := make([]chan wire.Response, n)
	for i := range ws {
		b, _ := json.Marshal(map[string]int{"n": i})
		_, ws[i] = c.Send(exchange, queue, b, amqp.Publishing{})
	}
	return ws
}

// procStatus reads a field of /proc/PID/status in kB.
func procStatus(t *testing.T, pid int, field string) int {
	t.Helper()
	kb, err := testutil.ProcStatus(pid, field)
	if err != nil {
		t.Fatal(err)
	}
	return kb
}

// cpuTicks is a process's user and system CPU time in clock ticks.
func cpuTicks(t *testing.T, pid int) int {
	t.Helper()
	n, err := testutil.CPUTicks(pid)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestHandlersFloodingStdout: ten handlers printing 300 MB each at once
// are each answered with the unexpected error, the log says why, and the
// consumer's memory stays bounded.
func TestHandlersFloodingStdout(t *testing.T) {
	w := newWorld(t, 10)
	w.addHandler("dx_flood", "cat >/dev/null\nhead -c 300000000 /dev/zero\n")
	p := w.start()
	p.waitLog(t, `"message":"consuming"`)
	c := testrpc.New(t, w.vh.URL(), false)
	pid := p.cmd.Process.Pid
	before := procStatus(t, pid, "VmRSS")
	start := time.Now()
	for _, r := range sendN(t, c, "dx_flood", w.queue, 10) {
		if resp := c.Wait(r); resp.Success || resp.Message != wire.MessageUnexpectedError {
			t.Errorf("reply = %+v, want the unexpected error", resp)
		}
	}
	took := time.Since(start)
	peak, after := procStatus(t, pid, "VmHWM"), procStatus(t, pid, "VmRSS")
	t.Logf("consumer RSS: %d MiB before, peak %d MiB, %d MiB after 10 handlers printing 300 MB each (answered in %v)", before>>10, peak>>10, after>>10, took.Round(time.Millisecond))
	if peak > 400<<10 {
		t.Errorf("peak RSS %d MiB, want at most 400 MiB", peak>>10)
	}
	testutil.WaitFor(t, "10 log lines saying the handler wrote too much", 30*time.Second, func() bool {
		return strings.Count(p.stderr.String(), "wrote more than 16777216 bytes") == 10
	})
}

// TestLongStderrLinesLeaveTheConsumerIdle: after 100 requests whose
// handlers write one 100 KB line to stderr, every request is answered and
// the consumer idles.
func TestLongStderrLinesLeaveTheConsumerIdle(t *testing.T) {
	w := newWorld(t, 10)
	w.addHandler("dx_longline", `cat >/dev/null
head -c 100000 /dev/zero | tr '\0' x >&2
echo >&2
printf '{"success":true,"message":"done","data":{}}'
`)
	p := w.start()
	p.waitLog(t, `"message":"consuming"`)
	c := testrpc.New(t, w.vh.URL(), false)
	if ok := collect(t, c, sendN(t, c, "dx_longline", w.queue, 100)); ok != 100 {
		t.Fatalf("%d of 100 answered with success", ok)
	}
	pid := p.cmd.Process.Pid
	testutil.WaitFor(t, "the log to settle", 60*time.Second, func() bool {
		t0 := cpuTicks(t, pid)
		time.Sleep(200 * time.Millisecond) // a measuring interval, not synchronisation
		return cpuTicks(t, pid)-t0 <= 2
	})
	t0, start := cpuTicks(t, pid), time.Now()
	time.Sleep(3 * time.Second) // the measuring interval
	used := float64(cpuTicks(t, pid)-t0) / 100 / time.Since(start).Seconds()
	t.Logf("idle consumer after 100 requests with 100 KB stderr lines: %.1f%% of a CPU over 3 s", used*100)
	if used > 0.05 {
		t.Errorf("an idle consumer uses %.0f%% of a CPU", used*100)
	}
}

// crashWorker is a handler whose work runs in a child that leaves the
// handler's session (as a daemonising helper would). Before starting, a run
// records itself, and an overlap when the worker of an earlier run of the
// same request is still alive.
const crashWorker = `cat >/dev/null
run=$WORKDIR/$RPC_CORRELATION_ID
echo "$RPC_CORRELATION_ID $RPC_REDELIVERED" >> $WORKDIR/runs
if [ -e $run.pid ]; then
	state=$(cut -d' ' -f3 /proc/$(cat $run.pid)/stat 2>/dev/null)
	if [ -n "$state" ] && [ "$state" != Z ]; then echo "$RPC_CORRELATION_ID" >> $WORKDIR/overlaps; fi
fi
setsid sh -c "echo \$\$ > $run.tmp && mv $run.tmp $run.pid && exec sleep $HANDLER_SLEEP" &
wait
printf '{"success":true,"message":"done","data":{}}'
`

// TestSIGKILLNeverOverlapsARerun: the consumer is SIGKILLed with ten
// requests running; their handlers' workers die with it (or before the next
// consumer runs anything), so the redelivered requests never run while
// their first run does.
func TestSIGKILLNeverOverlapsARerun(t *testing.T) {
	w := newWorld(t, 10)
	w.addHandler("dx_work", crashWorker)
	work := filepath.Join(w.dir, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	first := w.start("WORKDIR="+work, "HANDLER_SLEEP=30")
	first.waitLog(t, `"message":"consuming"`)
	c := testrpc.New(t, w.vh.URL(), false)
	ws := sendN(t, c, "dx_work", w.queue, 20)
	testutil.WaitFor(t, "10 workers running", 60*time.Second, func() bool {
		m, _ := filepath.Glob(filepath.Join(work, "*.pid"))
		return len(m) >= 10
	})
	first.signal(t, syscall.SIGKILL)
	first.wait(t, 30*time.Second)
	second := w.start("WORKDIR="+work, "HANDLER_SLEEP=0.1")
	ok := collect(t, c, ws)
	runs := strings.Split(strings.TrimSpace(mustReadOrEmpty(work+"/runs")), "\n")
	redelivered := 0
	for _, r := range runs {
		if strings.HasSuffix(r, " 1") {
			redelivered++
		}
	}
	overlaps := strings.Fields(mustReadOrEmpty(work + "/overlaps"))
	t.Logf("SIGKILL with 10 running: %d answered, %d runs, %d ran again with RPC_REDELIVERED=1, %d overlapping runs", ok, len(runs), redelivered, len(overlaps))
	if len(overlaps) != 0 {
		t.Errorf("%d requests ran while their first run still did: %v", len(overlaps), overlaps)
	}
	if ok != 20 || redelivered != 10 {
		t.Errorf("answered %d of 20, %d redelivered runs; want 20 and 10", ok, redelivered)
	}
	if !strings.Contains(second.stderr.String(), "left by a consumer that is gone") {
		t.Error("the killed orphans are not logged")
	}
}

func mustReadOrEmpty(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
