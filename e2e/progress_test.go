package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testrpc"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
)

// progressHandler is a one-shot handler that reports a step, waits until
// the test writes a line to the pipe GATE, then reports two more and
// answers.
const progressHandler = `#!/bin/sh
cat >/dev/null
printf '%s\n' '{"state":"Starting","message":"waiting for <the gate>"}' >&3
read line < "GATE"
sleep 0.3 # the work: longer than the consumer's 200 ms between updates, so none is coalesced
printf '%s\n' '{"state":"Copying","message":"half way","percent":50,"data":{"files":2}}' >&3
sleep 0.3
printf '%s\n' '{"state":"Done","message":"all copied","percent":100}' >&3
printf '{"success":true,"message":"copied","data":{}}'
`

// TestProgressAtLogServer: consumer → spool → shipper → log server with a
// one-shot handler that reports progress to a caller that did not ask for
// it: the log server has the request and its first update while the
// handler still runs, then every update in order with the response, and
// its web interface lists them.
func TestProgressAtLogServer(t *testing.T) {
	w := newWorld(t, 4)
	gate := filepath.Join(w.dir, "gate")
	if err := syscall.Mkfifo(gate, 0o600); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(w.handlers, "dx_progress", "handler"), strings.Replace(progressHandler, "GATE", gate, 1), 0o755)
	write(t, filepath.Join(w.handlers, "dx_progress", "contract.json"), `{"description":"reports progress","timeout_seconds":120,"request":{"type":"object"},"response":{"type":"object"}}`, 0o644)
	ls := newLogServer(t, t.TempDir(), "e2e-t0ken")
	w.shipTo(ls)
	cfg := strings.Replace(mustRead(t, w.cfgPath), "      dx_record: {type: direct}\n", "      dx_record: {type: direct}\n      dx_progress: {type: direct}\n", 1)
	write(t, w.cfgPath, cfg, 0o644)
	ls.start()
	p := w.start()
	p.waitLog(t, `"message":"consuming"`)
	startShipProc(t, w.cfgPath)

	c := testrpc.New(t, w.vh.URL(), true)
	id, reply := c.Send("dx_progress", w.queue, []byte(`{}`), amqp.Publishing{})
	progressOf := func() (states []string, awaiting bool) {
		page, err := ls.list("correlation_id=" + id)
		if err != nil || len(page.Pairs) != 1 {
			return nil, false
		}
		for _, pr := range page.Pairs[0].Progress {
			states = append(states, pr.State+"|"+pr.Message)
		}
		return states, page.Pairs[0].Outcome == store.OutcomeAwaiting
	}
	testutil.WaitFor(t, "the request and its first update at the log server while the handler runs", 60*time.Second, func() bool {
		states, awaiting := progressOf()
		return awaiting && strings.Join(states, ",") == "Starting|waiting for <the gate>"
	})
	f, err := os.OpenFile(gate, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString("go\n")
	_ = f.Close()
	if r := c.Wait(reply); !r.Success {
		t.Fatalf("reply = %+v", r)
	}
	want := "Starting|waiting for <the gate>,Copying|half way,Done|all copied"
	testutil.WaitFor(t, "every update and the response at the log server", 60*time.Second, func() bool {
		states, awaiting := progressOf()
		return !awaiting && strings.Join(states, ",") == want
	})
	page := ls.page("/pair?correlation_id=" + id)
	at := -1
	for _, s := range []string{"waiting for &lt;the gate&gt;", "half way", "50 %", `{&#34;files&#34;:2}`, "all copied", "100 %"} {
		i := strings.Index(page, s)
		if i <= at {
			t.Errorf("the pair page does not show %q after the step before", s)
		}
		at = i
	}
}
