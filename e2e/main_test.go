package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testbroker"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
)

var consumerBin, logshipBin, logServerBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rabbitmq-consumer-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	consumerBin = filepath.Join(dir, "rabbitmq-consumer")
	logshipBin = filepath.Join(dir, "rabbitmq-consumer-logship")
	logServerBin = filepath.Join(dir, "rabbitmq-consumer-log-server")
	for bin, pkg := range map[string]string{consumerBin: "../cmd/rabbitmq-consumer", logshipBin: "../cmd/rabbitmq-consumer-logship",
		logServerBin: "../cmd/rabbitmq-consumer-log-server"} {
		build := exec.Command("go", "build", "-o", bin, pkg)
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build", pkg+":", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// world is one test's virtual host, configuration and handlers directory.
type world struct {
	t        *testing.T
	vh       *testbroker.VHost
	dir      string
	cfgPath  string
	queue    string
	handlers string
}

// recorder is an executable handler that appends "<correlation id>
// <consumer pid>" to the invocations file, sleeps HANDLER_SLEEP seconds and
// answers success.
const recorder = `#!/bin/sh
cat >/dev/null
echo "$RPC_CORRELATION_ID $PPID" >> "$INVOCATIONS"
sleep "${HANDLER_SLEEP:-0}"
printf '{"success":true,"message":"done","data":{}}'
`

const recorderContract = `{"description":"records invocations","lock_attribute":"n","timeout_seconds":120,
 "request":{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]},
 "response":{"type":"object"}}`

func newWorld(t *testing.T, prefetch int) *world {
	t.Helper()
	w := &world{t: t, vh: testbroker.New(t), dir: t.TempDir()}
	w.queue = "q-" + w.vh.Name
	w.handlers = filepath.Join(w.dir, "handlers")
	write(t, filepath.Join(w.handlers, "dx_record", "handler"), recorder, 0o755)
	write(t, filepath.Join(w.handlers, "dx_record", "contract.json"), recorderContract, 0o644)
	w.cfgPath = filepath.Join(w.dir, "rabbitmq.yml")
	write(t, w.cfgPath, fmt.Sprintf(`handlers_directory: %s
state_directory: %s
server: {host: 127.0.0.1, port: 5672, username: guest, password: guest}
virtual_hosts:
  %s:
    queue: %s
    max_simultaneous_requests: %d
    exchanges:
      dx_record: {type: direct}
`, w.handlers, filepath.Join(w.dir, "state"), w.vh.Name, w.queue, prefetch), 0o644)
	return w
}

func (w *world) invocationsFile() string { return filepath.Join(w.dir, "invocations") }

// invocations reads the recorded invocations: correlation id -> consumer pids.
func (w *world) invocations() (lines int, byID map[string][]string) {
	b, _ := os.ReadFile(w.invocationsFile())
	byID = map[string][]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if f := strings.Fields(l); len(f) == 2 {
			lines++
			byID[f[0]] = append(byID[f[0]], f[1])
		}
	}
	return lines, byID
}

func write(t *testing.T, path, body string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
}

// proc is a running consumer process.
type proc struct {
	cmd    *exec.Cmd
	stderr *testutil.SyncBuffer
	done   chan struct{}
	code   int
}

func (w *world) start(env ...string) *proc {
	w.t.Helper()
	return startProc(w.t, []string{"--virtual-host-name", w.vh.Name, "--config-file-path", w.cfgPath, "--log-format", "json"},
		append([]string{"INVOCATIONS=" + w.invocationsFile()}, env...)...)
}

func startProc(t *testing.T, args []string, env ...string) *proc {
	t.Helper()
	// Handlers get a clean environment: the test handlers' settings are passed on purpose.
	env = append([]string{"RABBITMQ_CONSUMER_HANDLER_ENV=INVOCATIONS HANDLER_SLEEP WORKDIR"}, env...)
	return startBin(t, consumerBin, args, env...)
}

// startBin starts one of the project's binaries; it is killed when the test ends.
func startBin(t *testing.T, bin string, args []string, env ...string) *proc {
	t.Helper()
	p := &proc{stderr: &testutil.SyncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s pid %d log:\n%s", filepath.Base(bin), p.cmd.Process.Pid, p.stderr.String())
		}
	})
	return p
}

func (p *proc) pid() string { return fmt.Sprint(p.cmd.Process.Pid) }

func (p *proc) signal(t *testing.T, s syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(s); err != nil {
		t.Fatal(err)
	}
}

// wait waits for the process to exit and returns its exit status and how
// long it took.
func (p *proc) wait(t *testing.T, limit time.Duration) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	select {
	case <-p.done:
		return p.code, time.Since(start)
	case <-time.After(limit):
		t.Fatalf("consumer did not exit within %v", limit)
		return 0, 0
	}
}

// waitLog waits until the log contains s.
func (p *proc) waitLog(t *testing.T, s string) {
	t.Helper()
	testutil.WaitFor(t, "log line "+s, 60*time.Second, func() bool { return strings.Contains(p.stderr.String(), s) })
}

// notifySocket is a systemd notification socket: a unixgram listener.
type notifySocket struct {
	path string
	mu   sync.Mutex
	msgs []string
	ch   chan struct{}
}

func newNotifySocket(t *testing.T) *notifySocket {
	t.Helper()
	dir, err := os.MkdirTemp("", "notify")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	n := &notifySocket{path: filepath.Join(dir, "sock"), ch: make(chan struct{})}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: n.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				return
			}
			n.mu.Lock()
			n.msgs = append(n.msgs, strings.Split(strings.TrimSpace(string(buf[:k])), "\n")...)
			close(n.ch)
			n.ch = make(chan struct{})
			n.mu.Unlock()
		}
	}()
	return n
}

// next waits for the first message from index from on with the prefix and
// returns its index.
func (n *notifySocket) next(t *testing.T, from int, prefix string) int {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		n.mu.Lock()
		for i := from; i < len(n.msgs); i++ {
			if strings.HasPrefix(n.msgs[i], prefix) {
				n.mu.Unlock()
				return i
			}
		}
		ch := n.ch
		n.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("no %q notification within 60s after #%d; got %q", prefix, from, n.all())
		}
	}
}

func (n *notifySocket) all() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.msgs...)
}

func (n *notifySocket) count(prefix string, from int) int {
	k := 0
	for _, m := range n.all()[from:] {
		if strings.HasPrefix(m, prefix) {
			k++
		}
	}
	return k
}
