package consumer

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testrpc"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// persistentPy is a persistent handler in Python, steered by the request's
// "do": it appends "start PID" to STATE/starts when it starts (and exits
// at once when STATE/broken exists), "exit PID" to STATE/exits when its
// stdin ends, and answers with its pid and what it was sent ("environ":
// with its whole environment; "work": after appending "enter GATE" to
// STATE/trace, working "seconds", and appending "leave GATE").
const persistentPy = `#!/usr/bin/env python3
import json, os, sys, time
state = "STATE"
if os.path.exists(state + "/broken"):
    sys.exit(1)
with open(state + "/starts", "a") as f:
    f.write("start %d\n" % os.getpid())
print(json.dumps({"protocol": "rabbitmq-consumer/1"}), flush=True)
for line in sys.stdin:
    m = json.loads(line)
    req = m["request"]
    do = req.get("do", "echo")
    if do == "crash":
        print("about to crash", file=sys.stderr, flush=True)
        os._exit(3)
    if do == "hang":
        time.sleep(300)
    if do == "wait":
        open(state + "/busy-" + req["gate"], "w").close()
        while not os.path.exists(state + "/gate-" + req["gate"]):
            time.sleep(0.01)
    if do == "work":
        with open(state + "/trace", "a") as f:
            f.write("enter %s\n" % req["gate"])
        time.sleep(req["seconds"])
        with open(state + "/trace", "a") as f:
            f.write("leave %s\n" % req["gate"])
    if do == "environ":
        resp = {"success": True, "message": str(os.getpid()), "data": dict(os.environ)}
        print(json.dumps({"correlation_id": m["correlation_id"], "response": resp}), flush=True)
        continue
    if do == "garbage":
        print("this is not JSON", flush=True)
        continue
    if do == "big":
        sys.stdout.write('{"correlation_id": "x", "pad": "' + "a" * (17 << 20) + '"}\n')
        sys.stdout.flush()
        continue
    if do == "othercid":
        print(json.dumps({"correlation_id": "someone-else", "response": {"success": True, "message": "", "data": {}}}), flush=True)
        continue
    if do == "noresponse":
        print(json.dumps({"correlation_id": m["correlation_id"]}), flush=True)
        continue
    env = {k: v for k, v in os.environ.items() if k.startswith("RPC_")}
    resp = {"success": True, "message": str(os.getpid()), "data": {"line": m, "env": env}}
    print(json.dumps({"correlation_id": m["correlation_id"], "response": resp}), flush=True)
with open(state + "/exits", "a") as f:
    f.write("exit %d\n" % os.getpid())
`

const persistentContract = `{"description":"test","lock_attribute":"gate","timeout_seconds":TIMEOUT,"mode":"persistent"EXTRA,
 "request":{"type":"object"},"response":{"type":"object"}}`

// persistentWorld writes the persistent Python handler for dx_p with the
// given timeout and extra contract keys, and returns the handlers
// directory and the handler's state directory.
func persistentWorld(t testing.TB, timeout, extra string) (handlers, state string) {
	handlers, state = t.TempDir(), t.TempDir()
	mustWrite(t, filepath.Join(handlers, "dx_p", "handler"), strings.ReplaceAll(persistentPy, "STATE", state), 0o755)
	contract := strings.NewReplacer("TIMEOUT", timeout, "EXTRA", extra).Replace(persistentContract)
	mustWrite(t, filepath.Join(handlers, "dx_p", "contract.json"), contract, 0o644)
	return handlers, state
}

// pidsIn lists the pids of the lines "<word> PID" of a state file.
func pidsIn(t testing.TB, path string) []int {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if f := strings.Fields(l); len(f) == 2 {
			pid, _ := strconv.Atoi(f[1])
			pids = append(pids, pid)
		}
	}
	return pids
}

func processGone(pid int) bool { return syscall.Kill(pid, 0) == syscall.ESRCH || isZombie(pid) }

func waitGone(t *testing.T, pids ...int) {
	t.Helper()
	for _, pid := range pids {
		testutil.WaitFor(t, "handler process "+strconv.Itoa(pid)+" to be gone", 30*time.Second, func() bool { return processGone(pid) })
	}
}

// pidOf is the pid a persistent reply names, or fails.
func pidOf(t *testing.T, r wire.Response) int {
	t.Helper()
	pid, err := strconv.Atoi(r.Message)
	if !r.Success || err != nil {
		t.Fatalf("reply = %+v %s, want a success naming a pid", r, r.Data)
	}
	return pid
}

func wantUnexpectedLogged(t *testing.T, h *harness, r wire.Response, inLog string) {
	t.Helper()
	if r.Success || r.Message != wire.MessageUnexpectedError {
		t.Fatalf("reply = %+v %s, want the unexpected error", r, r.Data)
	}
	testutil.WaitFor(t, "the log to say "+inLog, 30*time.Second, func() bool { return strings.Contains(h.logs.String(), inLog) })
}

func TestPersistentServesFromOneWarmProcess(t *testing.T) {
	handlers, state := persistentWorld(t, "30", "")
	h := start(t, setup{exchanges: []string{"dx_p"}, handlersDir: handlers})
	if n := len(pidsIn(t, filepath.Join(state, "starts"))); n != 1 {
		t.Fatalf("%d processes started before any request, want 1 warm one", n)
	}
	c := h.caller(false)
	var first int
	for i := 0; i < 5; i++ {
		r := h.call(c, "dx_p", map[string]any{"n": i})
		pid := pidOf(t, r)
		if i == 0 {
			first = pid
		}
		if pid != first {
			t.Fatalf("request %d served by pid %d, want the warm process %d", i, pid, first)
		}
		data := string(r.Data)
		for _, want := range []string{`"exchange":"dx_p"`, `"virtual_host":"` + h.vh.Name + `"`, `"redelivered":false`, `"deadline":null`,
			`"request":{"n":` + strconv.Itoa(i) + `}`, `"RPC_PROTOCOL":"rabbitmq-consumer/1"`, `"RPC_EXCHANGE":"dx_p"`, `"RPC_VIRTUAL_HOST":"` + h.vh.Name + `"`} {
			if !strings.Contains(data, want) {
				t.Errorf("the handler saw %s, lacking %s", data, want)
			}
		}
		if strings.Contains(data, "RPC_CORRELATION_ID") {
			t.Errorf("a persistent process got per-request variables: %s", data)
		}
	}
	if n := len(pidsIn(t, filepath.Join(state, "starts"))); n != 1 {
		t.Errorf("%d processes started for 5 requests in a row, want 1", n)
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if exits := pidsIn(t, filepath.Join(state, "exits")); len(exits) != 1 || exits[0] != first {
		t.Errorf("exits after stop = %v, want the process %d ending by itself on its stdin's end", exits, first)
	}
	waitGone(t, first)
}

func TestPersistentCrashMidRequestIsReplaced(t *testing.T) {
	handlers, state := persistentWorld(t, "30", "")
	h := start(t, setup{exchanges: []string{"dx_p"}, handlersDir: handlers, prefetch: 1})
	c := h.caller(false)
	before := pidOf(t, h.call(c, "dx_p", map[string]any{}))
	wantUnexpectedLogged(t, h, h.call(c, "dx_p", map[string]any{"do": "crash"}), "exited with status 3")
	if !strings.Contains(h.logs.String(), "about to crash") {
		t.Error("the crashed process's stderr is not in the log")
	}
	after := pidOf(t, h.call(c, "dx_p", map[string]any{}))
	if after == before {
		t.Fatalf("served by the crashed process %d again", before)
	}
	waitGone(t, before)
	if n := len(pidsIn(t, filepath.Join(state, "starts"))); n != 2 {
		t.Errorf("%d processes started, want 2: the first and its replacement", n)
	}
}

func TestPersistentCrashAtStartBacksOff(t *testing.T) {
	handlers, state := persistentWorld(t, "30", "")
	h := start(t, setup{exchanges: []string{"dx_p"}, handlersDir: handlers, prefetch: 1})
	c := h.caller(false)
	broken := filepath.Join(state, "broken")
	mustWrite(t, broken, "", 0o644)
	crashed := time.Now()
	wantUnexpectedLogged(t, h, h.call(c, "dx_p", map[string]any{"do": "crash"}), "exited with status 3")
	// Each failed start is logged; the keeper retries with backoff (the
	// harness's: 50 ms doubling to 1 s, the upper half random): the
	// fifth failed start cannot come before 25+50+100+200 ms of waits.
	testutil.WaitFor(t, "five failed starts", 30*time.Second, func() bool {
		return strings.Count(h.logs.String(), "cannot start a persistent handler process") >= 5
	})
	if d := time.Since(crashed); d < 375*time.Millisecond {
		t.Errorf("five failed starts within %v: no backoff", d)
	}
	if !strings.Contains(h.logs.String(), "does not speak rabbitmq-consumer/1") {
		t.Error("the failed starts' reason is not in the log")
	}
	// A request while no process runs waits for one (the only slot is
	// the keeper's), and is served once the handler starts again.
	_, w := c.Send("dx_p", h.queue(), []byte(`{}`), amqpPublishing())
	if err := os.Remove(broken); err != nil {
		t.Fatal(err)
	}
	pidOf(t, c.Wait(w))
	if n := len(pidsIn(t, filepath.Join(state, "starts"))); n != 2 {
		t.Errorf("%d processes served, want 2", n)
	}
}

func TestPersistentTimeoutKillsAndReplaces(t *testing.T) {
	handlers, state := persistentWorld(t, "2", "")
	h := start(t, setup{exchanges: []string{"dx_p"}, handlersDir: handlers, prefetch: 1})
	c := h.caller(false)
	hung := pidOf(t, h.call(c, "dx_p", map[string]any{}))
	wantUnexpectedLogged(t, h, h.call(c, "dx_p", map[string]any{"do": "hang"}), "handler timed out and was killed")
	waitGone(t, hung)
	if next := pidOf(t, h.call(c, "dx_p", map[string]any{})); next == hung {
		t.Fatalf("served by the timed-out process %d again", hung)
	}
	if n := len(pidsIn(t, filepath.Join(state, "starts"))); n != 2 {
		t.Errorf("%d processes started, want 2", n)
	}
}

func TestPersistentProtocolBreachesKillAndReplace(t *testing.T) {
	handlers, state := persistentWorld(t, "30", "")
	h := start(t, setup{exchanges: []string{"dx_p"}, handlersDir: handlers, prefetch: 1})
	c := h.caller(false)
	tests := []struct{ do, inLog string }{
		{"garbage", "a line that is not a JSON object"},
		{"big", "more than 16777216 bytes"},
		{"othercid", "a response to correlation_id"},
		{"noresponse", "a line without a response object"},
	}
	for i, tt := range tests {
		t.Run(tt.do, func(t *testing.T) {
			bad := pidOf(t, h.call(c, "dx_p", map[string]any{}))
			wantUnexpectedLogged(t, h, h.call(c, "dx_p", map[string]any{"do": tt.do}), tt.inLog)
			waitGone(t, bad)
			if next := pidOf(t, h.call(c, "dx_p", map[string]any{})); next == bad {
				t.Fatalf("served by the killed process %d again", bad)
			}
			if n := len(pidsIn(t, filepath.Join(state, "starts"))); n != i+2 {
				t.Errorf("%d processes started, want %d", n, i+2)
			}
		})
	}
}

func TestPersistentRecyclesAfterMaxRequests(t *testing.T) {
	handlers, state := persistentWorld(t, "30", `,"max_requests_per_process":3`)
	h := start(t, setup{exchanges: []string{"dx_p"}, handlersDir: handlers, prefetch: 1})
	c := h.caller(false)
	var served []int
	for i := 0; i < 7; i++ {
		served = append(served, pidOf(t, h.call(c, "dx_p", map[string]any{})))
	}
	for i, pid := range served {
		if pid != served[i/3*3] {
			t.Fatalf("pids = %v, want a new process every 3 requests", served)
		}
	}
	if served[0] == served[3] || served[3] == served[6] {
		t.Fatalf("pids = %v, want a new process every 3 requests", served)
	}
	// The recycled ones ended by themselves, on their stdin's end.
	testutil.WaitFor(t, "the recycled processes to exit", 30*time.Second, func() bool {
		return len(pidsIn(t, filepath.Join(state, "exits"))) >= 2
	})
	exits := pidsIn(t, filepath.Join(state, "exits"))
	if exits[0] != served[0] && exits[1] != served[0] {
		t.Errorf("exits = %v, want %d among them", exits, served[0])
	}
	waitGone(t, served[0], served[3])
}

// gatedCall sends a request that waits for its gate file, and waits until the
// handler has it.
func gatedCall(t *testing.T, h *harness, c *testrpc.Caller, state, gate string) chan wire.Response {
	t.Helper()
	_, w := c.Send("dx_p", h.queue(), []byte(`{"do":"wait","gate":"`+gate+`"}`), amqpPublishing())
	testutil.WaitFor(t, "the handler to take request "+gate, 30*time.Second, func() bool {
		_, err := os.Stat(filepath.Join(state, "busy-"+gate))
		return err == nil
	})
	return w
}

func openGate(t *testing.T, state, gate string) {
	mustWrite(t, filepath.Join(state, "gate-"+gate), "", 0o644)
}

func TestPersistentDrainFinishesRunningThenEnds(t *testing.T) {
	handlers, state := persistentWorld(t, "30", "")
	h := start(t, setup{exchanges: []string{"dx_p"}, handlersDir: handlers, prefetch: 2})
	c := h.caller(false)
	w := gatedCall(t, h, c, state, "a")
	stopped := make(chan error, 1)
	go func() { stopped <- h.stop() }()
	testutil.WaitFor(t, "the drain to start", 30*time.Second, func() bool { return strings.Contains(h.logs.String(), "stopping: no new requests") })
	openGate(t, state, "a")
	r := c.Wait(w)
	pid := pidOf(t, r)
	if err := <-stopped; err != nil {
		t.Fatalf("Run = %v", err)
	}
	// Run has returned: every process is gone, having ended by itself.
	for _, p := range pidsIn(t, filepath.Join(state, "starts")) {
		if !processGone(p) {
			t.Errorf("handler process %d still runs after Run returned", p)
		}
	}
	if exits := pidsIn(t, filepath.Join(state, "exits")); len(exits) != 1 || exits[0] != pid {
		t.Errorf("exits = %v, want %d ending on its stdin's end", exits, pid)
	}
}

func TestPersistentReloadReplacesWithoutLosingARequest(t *testing.T) {
	handlers, state := persistentWorld(t, "30", "")
	h := start(t, setup{exchanges: []string{"dx_p"}, handlersDir: handlers, prefetch: 3})
	c := h.caller(false)
	old := pidOf(t, h.call(c, "dx_p", map[string]any{}))
	w := gatedCall(t, h, c, state, "a") // the old process is busy
	h.c.Reload()
	var fresh []int
	for i := 0; i < 3; i++ {
		fresh = append(fresh, pidOf(t, h.call(c, "dx_p", map[string]any{})))
	}
	for _, p := range fresh {
		if p == old {
			t.Fatalf("a request after the reload went to the old process %d", old)
		}
	}
	if processGone(old) {
		t.Fatal("the old process was ended during its request")
	}
	openGate(t, state, "a")
	if got := pidOf(t, c.Wait(w)); got != old {
		t.Fatalf("the running request was answered by %d, want the old process %d", got, old)
	}
	waitGone(t, old)
	testutil.WaitFor(t, "the old process to exit by itself", 30*time.Second, func() bool {
		for _, p := range pidsIn(t, filepath.Join(state, "exits")) {
			if p == old {
				return true
			}
		}
		return false
	})
	if n := len(pidsIn(t, filepath.Join(state, "starts"))); n < 2 || n > 3 {
		t.Errorf("%d processes started, want the old one and one or two new (at most prefetch)", n)
	}
}

// newFor builds a consumer of exchange dx_p in handlers, without running it.
func newFor(t *testing.T, handlers string) (*Consumer, error) {
	t.Helper()
	cfg := &config.Config{
		Path: "test.yml", HandlersDirectory: handlers,
		Server: config.Server{Host: "127.0.0.1", Port: 5672, Username: "guest", Password: "guest"},
		VirtualHosts: map[string]config.VirtualHost{"v": {Name: "v", Queue: "q", MaxSimultaneousRequests: 2,
			Exchanges: map[string]config.Exchange{"dx_p": {Type: "direct"}}}},
	}
	return New(Options{Config: cfg, VirtualHost: "v", Logger: zerolog.Nop()})
}

func TestPersistentHandshakeFailureIsARouteError(t *testing.T) {
	tests := []struct {
		name, timeout, script, want string
	}{
		{"not the protocol", "30", `echo hello`, `its first line is not {"protocol": "rabbitmq-consumer/1"}: hello`},
		{"another version", "30", `echo '{"protocol": "rabbitmq-consumer/2"}'; cat`, `its first line is not`},
		{"exits at once", "30", `echo "no luck" >&2; exit 4`, "no handshake line: EOF (handler exited with status 4)"},
		{"silent", "0.5", `sleep 300`, "no handshake line within 500ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handlers, state := t.TempDir(), t.TempDir()
			path := filepath.Join(handlers, "dx_p", "handler")
			mustWrite(t, path, "#!/bin/sh\necho \"start $$\" >> "+state+"/starts\n"+tt.script+"\n", 0o755)
			mustWrite(t, filepath.Join(handlers, "dx_p", "contract.json"), strings.NewReplacer("TIMEOUT", tt.timeout, "EXTRA", "").Replace(persistentContract), 0o644)
			c, err := newFor(t, handlers)
			var re *RouteError
			if !errors.As(err, &re) {
				if c != nil {
					c.Close()
				}
				t.Fatalf("New = %v, want a *RouteError", err)
			}
			msg := err.Error()
			if re.Exchange != "dx_p" || !strings.Contains(msg, path+": the handler does not speak rabbitmq-consumer/1") || !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("error = %q, want one line naming %s and saying %q", msg, path, tt.want)
			}
			pids := pidsIn(t, filepath.Join(state, "starts"))
			if len(pids) != 1 {
				t.Fatalf("started %v, want one process", pids)
			}
			waitGone(t, pids...)
		})
	}
}

func TestPersistentNewChecksAndCloseEnds(t *testing.T) {
	handlers, state := persistentWorld(t, "30", "")
	c, err := newFor(t, handlers)
	if err != nil {
		t.Fatal(err)
	}
	pids := pidsIn(t, filepath.Join(state, "starts"))
	if len(pids) != 1 || processGone(pids[0]) {
		t.Fatalf("after New: started %v, want one warm process running", pids)
	}
	c.Close()
	if !processGone(pids[0]) {
		t.Fatal("the warm process still runs after Close returned")
	}
	if exits := pidsIn(t, filepath.Join(state, "exits")); len(exits) != 1 {
		t.Errorf("exits = %v, want the process ending on its stdin's end", exits)
	}
}

func TestPersistentIdleProcessThatDiesIsReplacedWarm(t *testing.T) {
	handlers, state := persistentWorld(t, "30", "")
	h := start(t, setup{exchanges: []string{"dx_p"}, handlersDir: handlers, prefetch: 1})
	c := h.caller(false)
	first := pidOf(t, h.call(c, "dx_p", map[string]any{}))
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "a new warm process, before any request", 30*time.Second, func() bool {
		return len(pidsIn(t, filepath.Join(state, "starts"))) == 2
	})
	if next := pidOf(t, h.call(c, "dx_p", map[string]any{})); next == first {
		t.Fatalf("served by the dead process %d", first)
	}
}

func TestPersistentPassesTheDeadline(t *testing.T) {
	handlers, _ := persistentWorld(t, "30", "")
	h := start(t, setup{exchanges: []string{"dx_p"}, handlersDir: handlers})
	c := h.caller(false)
	deadline := time.Now().Add(time.Hour).UnixMilli()
	pub := amqpPublishing()
	pub.Headers = map[string]any{wire.DeadlineHeader: deadline}
	_, w := c.Send("dx_p", h.queue(), []byte(`{}`), pub)
	r := c.Wait(w)
	pidOf(t, r)
	if want := `"deadline":` + strconv.FormatInt(deadline, 10); !strings.Contains(string(r.Data), want) {
		t.Errorf("the handler saw %s, lacking %s", r.Data, want)
	}
}
