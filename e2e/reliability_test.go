package e2e

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testbroker"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testrpc"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// sendAll publishes n requests to dx_record, each with its own lock value.
func sendAll(t *testing.T, w *world, c *testrpc.Caller, n int) []chan wire.Response {
	t.Helper()
	ws := make([]chan wire.Response, n)
	for i := range ws {
		b, _ := json.Marshal(map[string]int{"n": i})
		_, ws[i] = c.Send("dx_record", w.queue, b, amqp.Publishing{})
	}
	return ws
}

// collect waits for every reply and counts the successes.
func collect(t *testing.T, c *testrpc.Caller, ws []chan wire.Response) int {
	t.Helper()
	ok := 0
	for _, r := range ws {
		if resp := c.Wait(r); resp.Success {
			ok++
		} else {
			t.Errorf("reply = %+v", resp)
		}
	}
	return ok
}

// checkOnce checks that every one of n requests ran exactly once, and
// returns the consumer pids that ran them.
func checkOnce(t *testing.T, w *world, n int) map[string]int {
	t.Helper()
	lines, byID := w.invocations()
	pids := map[string]int{}
	dups := 0
	for id, ps := range byID {
		if len(ps) > 1 {
			dups++
			t.Errorf("request %s ran %d times (pids %v)", id, len(ps), ps)
		}
		for _, p := range ps {
			pids[p]++
		}
	}
	t.Logf("invocations: %d lines, %d distinct requests, %d duplicates, by pid %v", lines, len(byID), dups, pids)
	if lines != n || len(byID) != n {
		t.Errorf("invocations = %d lines for %d requests, want %d", lines, len(byID), n)
	}
	return pids
}

func TestConnectionClosedByBrokerMidway(t *testing.T) {
	w := newWorld(t, 10)
	p := w.start("HANDLER_SLEEP=0.2")
	p.waitLog(t, `"message":"consuming"`)
	c := testrpc.New(t, w.vh.URL(), false)
	ws := sendAll(t, w, c, 100)
	testutil.WaitFor(t, "30 invocations", 60*time.Second, func() bool { n, _ := w.invocations(); return n >= 30 })
	if n := w.vh.CloseConnectionsMatching(t, "rabbitmq-consumer", "test: closing the consumer's connection"); n < 1 {
		t.Fatalf("closed %d connections", n)
	}
	answered := collect(t, c, ws)
	pids := checkOnce(t, w, 100)
	if answered != 100 || len(pids) != 1 || pids[p.pid()] != 100 {
		t.Errorf("answered %d, pids %v; want 100 answered by pid %s alone", answered, pids, p.pid())
	}
	// The log is written in batches, and on a loaded machine the close may
	// land after the last reply: wait for the lines rather than look once.
	p.waitLog(t, "connection lost; reconnecting")
	p.waitLog(t, "test: closing the consumer")
	select {
	case <-p.done:
		t.Fatalf("the consumer exited (status %d); it must have reconnected in the same process", p.code)
	default:
	}
}

func TestSIGTERMFinishesInFlightAndLeavesTheRest(t *testing.T) {
	w := newWorld(t, 10)
	first := w.start("HANDLER_SLEEP=0.5")
	first.waitLog(t, `"message":"consuming"`)
	c := testrpc.New(t, w.vh.URL(), false)
	ws := sendAll(t, w, c, 40)
	testutil.WaitFor(t, "15 invocations", 60*time.Second, func() bool { n, _ := w.invocations(); return n >= 15 })
	first.signal(t, syscall.SIGTERM)
	code, took := first.wait(t, 30*time.Second)
	if code != 0 {
		t.Fatalf("exit status after SIGTERM = %d, want 0", code)
	}
	t.Logf("first consumer exited 0 in %v", took)
	second := w.start("HANDLER_SLEEP=0.05")
	answered := collect(t, c, ws)
	pids := checkOnce(t, w, 40)
	t.Logf("answered %d; first pid %s ran %d, second pid %s ran %d", answered, first.pid(), pids[first.pid()], second.pid(), pids[second.pid()])
	if answered != 40 || pids[first.pid()]+pids[second.pid()] != 40 || pids[first.pid()] == 0 || pids[second.pid()] == 0 {
		t.Errorf("answered %d, pids %v", answered, pids)
	}
	if !strings.Contains(first.stderr.String(), "stopping: no new requests") {
		t.Error("the drain is not logged")
	}
}

func TestSecondSignalStopsAtOnceAndRequeues(t *testing.T) {
	w := newWorld(t, 10)
	p := w.start("HANDLER_SLEEP=60")
	p.waitLog(t, `"message":"consuming"`)
	c := testrpc.New(t, w.vh.URL(), false)
	sendAll(t, w, c, 3)
	testutil.WaitFor(t, "3 invocations", 60*time.Second, func() bool { n, _ := w.invocations(); return n >= 3 })
	p.signal(t, syscall.SIGTERM)
	p.waitLog(t, "stopping gracefully")
	p.signal(t, syscall.SIGTERM)
	code, took := p.wait(t, 20*time.Second)
	if code != 1 {
		t.Errorf("exit status = %d, want 1 (requests abandoned)", code)
	}
	t.Logf("stopped in %v after the second signal", took)
	testutil.WaitFor(t, "the 3 requests back in the queue", 60*time.Second, func() bool {
		q, err := c.Channel().QueueDeclarePassive(w.queue, true, false, false, false, nil)
		return err == nil && q.Messages == 3
	})
}

func TestDrainTimeoutRequeues(t *testing.T) {
	w := newWorld(t, 10)
	p := startProc(t, []string{"--virtual-host-name", w.vh.Name, "--config-file-path", w.cfgPath, "--log-format", "json", "--drain-timeout", "1s"},
		"INVOCATIONS="+w.invocationsFile(), "HANDLER_SLEEP=60")
	p.waitLog(t, `"message":"consuming"`)
	c := testrpc.New(t, w.vh.URL(), false)
	sendAll(t, w, c, 2)
	testutil.WaitFor(t, "2 invocations", 60*time.Second, func() bool { n, _ := w.invocations(); return n >= 2 })
	p.signal(t, syscall.SIGTERM)
	code, _ := p.wait(t, 20*time.Second)
	if code != 1 {
		t.Errorf("exit status = %d, want 1", code)
	}
	testutil.WaitFor(t, "the 2 requests back in the queue", 60*time.Second, func() bool {
		q, err := c.Channel().QueueDeclarePassive(w.queue, true, false, false, false, nil)
		return err == nil && q.Messages == 2
	})
}

func TestNotifySocket(t *testing.T) {
	w := newWorld(t, 5)
	n := newNotifySocket(t)
	p := w.start("NOTIFY_SOCKET="+n.path, "WATCHDOG_USEC=200000")
	ready := n.next(t, 0, "READY=1")
	// READY=1 comes only once the consumer is registered with the broker.
	out := testbroker.Ctl(t, "list_consumers", "-p", w.vh.Name, "queue_name", "--no-table-headers")
	if !strings.Contains(out, w.queue) {
		t.Fatalf("READY=1 before the consumer was registered; consumers: %q", out)
	}
	consuming := n.next(t, 0, "STATUS=consuming 1 exchanges")
	wd := n.next(t, ready, "WATCHDOG=1")
	n.next(t, wd+1, "WATCHDOG=1")
	w.vh.CloseConnectionsMatching(t, "rabbitmq-consumer", "test: notify")
	rec := n.next(t, consuming, "STATUS=reconnecting")
	n.next(t, rec, "STATUS=consuming 1 exchanges")
	p.signal(t, syscall.SIGTERM)
	stop := n.next(t, rec, "STOPPING=1")
	n.next(t, stop, "STATUS=draining 0 requests")
	if code, _ := p.wait(t, 30*time.Second); code != 0 {
		t.Errorf("exit status = %d", code)
	}
	t.Logf("notifications: %d watchdog pings; %q", n.count("WATCHDOG=1", 0), filterOut(n.all(), "WATCHDOG=1"))
}

func filterOut(msgs []string, prefix string) []string {
	var out []string
	for _, m := range msgs {
		if !strings.HasPrefix(m, prefix) {
			out = append(out, m)
		}
	}
	return out
}

func TestNoNotifySocketIsNotAnError(t *testing.T) {
	w := newWorld(t, 1)
	p := w.start("NOTIFY_SOCKET=", "WATCHDOG_USEC=")
	p.waitLog(t, `"message":"consuming"`)
	c := testrpc.New(t, w.vh.URL(), true)
	if r := c.Call("dx_record", w.queue, map[string]int{"n": 1}); !r.Success {
		t.Fatalf("reply = %+v", r)
	}
	if strings.Contains(p.stderr.String(), "cannot notify systemd") {
		t.Error("a missing notify socket was reported as an error")
	}
	p.signal(t, syscall.SIGINT)
	if code, _ := p.wait(t, 30*time.Second); code != 0 {
		t.Errorf("exit status after SIGINT = %d", code)
	}
}
