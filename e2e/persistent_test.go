package e2e

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testrpc"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// persistentSh is a persistent handler in shell: it records its pid in
// $WORKDIR/starts, answers with its pid, and holds a request whose line
// says "wait" until $WORKDIR/gate exists.
const persistentSh = `#!/bin/sh
echo "$$" >> "$WORKDIR/starts"
echo '{"protocol": "rabbitmq-consumer/1"}'
while IFS= read -r line; do
  cid=${line#*\"correlation_id\":\"}; cid=${cid%%\"*}
  case $line in *'"wait"'*)
    touch "$WORKDIR/busy-$cid"
    while [ ! -e "$WORKDIR/gate" ]; do sleep 0.05; done ;;
  esac
  printf '{"correlation_id":"%s","response":{"success":true,"message":"%s","data":{}}}\n' "$cid" "$$"
done
`

// addPersistent installs persistentSh as dx_p's persistent handler.
func (w *world) addPersistent() string {
	w.t.Helper()
	w.addHandler("dx_p", "")
	write(w.t, filepath.Join(w.handlers, "dx_p", "handler"), persistentSh, 0o755)
	write(w.t, filepath.Join(w.handlers, "dx_p", "contract.json"), strings.Replace(parallelContract, `"timeout_seconds":120,`, `"timeout_seconds":120,"mode":"persistent",`, 1), 0o644)
	work := filepath.Join(w.dir, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		w.t.Fatal(err)
	}
	return work
}

func startedPids(t *testing.T, work string) []int {
	t.Helper()
	var pids []int
	for _, f := range strings.Fields(mustReadOrEmpty(filepath.Join(work, "starts"))) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	return pids
}

func gone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] == 'Z'
}

// markedBy lists the processes whose run marker names consumer pid.
func markedBy(pid string) []string {
	var out []string
	names, _ := filepath.Glob("/proc/[0-9]*/environ")
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err == nil && bytes.Contains(b, []byte("\x00RABBITMQ_CONSUMER_RUN="+pid+":")) && !gone(atoiDir(n)) {
			out = append(out, n)
		}
	}
	return out
}

func atoiDir(environ string) int {
	pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(environ)))
	return pid
}

func replyPid(t *testing.T, r wire.Response) int {
	t.Helper()
	pid, err := strconv.Atoi(r.Message)
	if !r.Success || err != nil {
		t.Fatalf("reply = %+v, want a success naming a pid", r)
	}
	return pid
}

// TestPersistentHandlersDieWithASIGKILLedConsumer: the consumer is
// SIGKILLed while three persistent processes serve requests (each in a
// shell loop with a sleep child); none of them, nor anything with the
// consumer's run marker, outlives it.
func TestPersistentHandlersDieWithASIGKILLedConsumer(t *testing.T) {
	w := newWorld(t, 3)
	work := w.addPersistent()
	p := w.start("WORKDIR=" + work)
	p.waitLog(t, `"message":"consuming"`)
	c := testrpc.New(t, w.vh.URL(), false)
	for i := 0; i < 3; i++ {
		c.Send("dx_p", w.queue, []byte(`{"n":`+strconv.Itoa(i)+`,"do":"wait"}`), amqp.Publishing{})
	}
	testutil.WaitFor(t, "3 persistent processes busy", 60*time.Second, func() bool {
		m, _ := filepath.Glob(filepath.Join(work, "busy-*"))
		return len(m) == 3
	})
	pids := startedPids(t, work)
	if len(pids) != 3 {
		t.Fatalf("started %v, want 3 processes", pids)
	}
	if m := markedBy(p.pid()); len(m) < 3 {
		t.Fatalf("%d processes carry the consumer's run marker, want the 3 handlers and their children", len(m))
	}
	p.signal(t, syscall.SIGKILL)
	p.wait(t, 30*time.Second)
	for _, pid := range pids {
		testutil.WaitFor(t, "persistent process "+strconv.Itoa(pid)+" to die with the consumer", 30*time.Second, func() bool { return gone(pid) })
	}
	testutil.WaitFor(t, "no process with the killed consumer's run marker", 30*time.Second, func() bool { return len(markedBy(p.pid())) == 0 })
}

// TestSIGHUPReplacesPersistentHandlers: SIGHUP gives new requests new
// processes while a running request finishes on its old one, which then
// ends; SIGTERM then ends the new ones.
func TestSIGHUPReplacesPersistentHandlers(t *testing.T) {
	w := newWorld(t, 3)
	work := w.addPersistent()
	p := w.start("WORKDIR=" + work)
	p.waitLog(t, `"message":"consuming"`)
	c := testrpc.New(t, w.vh.URL(), false)
	old := replyPid(t, c.Call("dx_p", w.queue, map[string]any{"n": 0}))
	id, running := c.Send("dx_p", w.queue, []byte(`{"n":1,"do":"wait"}`), amqp.Publishing{})
	testutil.WaitFor(t, "the old process busy", 60*time.Second, func() bool {
		_, err := os.Stat(filepath.Join(work, "busy-"+id))
		return err == nil
	})
	p.signal(t, syscall.SIGHUP)
	p.waitLog(t, "SIGHUP: replacing the persistent handler processes")
	fresh := replyPid(t, c.Call("dx_p", w.queue, map[string]any{"n": 2}))
	if fresh == old {
		t.Fatalf("a request after SIGHUP went to the old process %d", old)
	}
	write(t, filepath.Join(work, "gate"), "", 0o644)
	if got := replyPid(t, c.Wait(running)); got != old {
		t.Fatalf("the running request was answered by %d, want its old process %d", got, old)
	}
	testutil.WaitFor(t, "the old process to end", 30*time.Second, func() bool { return gone(old) })
	p.signal(t, syscall.SIGTERM)
	if code, _ := p.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("exit status %d after SIGTERM", code)
	}
	for _, pid := range startedPids(t, work) {
		if !gone(pid) {
			t.Errorf("persistent process %d outlived the consumer's SIGTERM", pid)
		}
	}
}

// TestThreadsOfARelayingConsumer: a consumer whose handlers all run in
// persistent processes runs its Go code on a quarter of the threads the Go
// runtime would choose (the CPUs, or the cgroup's limit), at least one (as
// its metrics show), and says so; GOMAXPROCS in its environment chooses
// otherwise, and a consumer with a one-shot handler keeps the runtime's
// choice, which the test learns from it.
func TestThreadsOfARelayingConsumer(t *testing.T) {
	// run starts a consumer of a persistent handler, with the world's
	// one-shot handler too when oneShot, GOMAXPROCS set to gomaxprocs
	// (empty: unset); it returns its GOMAXPROCS and whether it said it
	// chose one.
	run := func(oneShot bool, gomaxprocs string) (threads int, said bool) {
		w := newWorld(t, 3)
		work := w.addPersistent()
		addr := freeAddr(t)
		cfg := strings.Replace(mustRead(t, w.cfgPath), "    exchanges:\n", "    metrics_listen: "+addr+"\n    exchanges:\n", 1)
		if !oneShot {
			cfg = strings.Replace(cfg, "      dx_record: {type: direct}\n", "", 1)
		}
		write(t, w.cfgPath, cfg, 0o644)
		p := w.start("WORKDIR="+work, "GOMAXPROCS="+gomaxprocs)
		p.waitLog(t, `"message":"consuming"`)
		threads = gomaxprocsOf(t, addr)
		p.signal(t, syscall.SIGTERM)
		if code, _ := p.wait(t, 30*time.Second); code != 0 {
			t.Fatalf("exit status %d after SIGTERM", code)
		}
		return threads, strings.Contains(p.stderr.String(), `"gomaxprocs":`)
	}
	procs, said := run(true, "")
	if said {
		t.Errorf("with a one-shot handler: says it chose its threads (%d)", procs)
	}
	want := max(procs/4, 1)
	if threads, said := run(false, ""); threads != want || said != (want < procs) {
		t.Errorf("persistent handlers only: go_sched_gomaxprocs_threads = %d, said %v; want %d, said %v (the runtime's choice: %d)", threads, said, want, want < procs, procs)
	}
	if threads, said := run(false, "3"); threads != 3 || said {
		t.Errorf("GOMAXPROCS=3: go_sched_gomaxprocs_threads = %d, said %v; want 3, said false", threads, said)
	}
}

// gomaxprocsOf reads go_sched_gomaxprocs_threads from a consumer's metrics.
func gomaxprocsOf(t *testing.T, addr string) int {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(page), "\n") {
		if v, ok := strings.CutPrefix(line, "go_sched_gomaxprocs_threads "); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatalf("go_sched_gomaxprocs_threads %q: %v", v, err)
			}
			return n
		}
	}
	t.Fatalf("no go_sched_gomaxprocs_threads in the metrics of %s", addr)
	return 0
}
