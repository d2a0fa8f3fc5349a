package testbroker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
)

// Node is a RabbitMQ node of one test's own, beside the shared broker: its
// own node name, AMQP and distribution ports, Erlang cookie, data and log
// directories, no plugins. A test may stop and start it (a broker restart)
// without touching anyone else's broker. It is always stopped and its files
// removed when the test ends, and it dies with the test process even when
// that process crashes.
type Node struct {
	// Name is the Erlang node name, rct-<random>@localhost.
	Name string
	// Port is the node's AMQP port on 127.0.0.1.
	Port int

	t      testing.TB
	dir    string
	bin    string
	env    []string
	guard  *exec.Cmd      // the current run's process group leader
	stdin  io.WriteCloser // its lifeline: closing it kills the group
	exited chan struct{}  // closed when the guard exits
}

// StartNode starts a node of the test's own and waits until it accepts
// work (about 5-10 s). Cleanup stops it, kills whatever is left of it
// (found by its node name) and removes its files.
func StartNode(t testing.TB) *Node {
	t.Helper()
	return startNode(t, randomCookie())
}

// randomCookie is an Erlang cookie: nodes and rabbitmqctl that share it
// may talk to each other.
func randomCookie() string {
	cookie := make([]byte, 20)
	_, _ = rand.Read(cookie)
	return strings.ToUpper(hex.EncodeToString(cookie))
}

// startNode starts a node with the given Erlang cookie.
func startNode(t testing.TB, cookie string) *Node {
	t.Helper()
	bin, err := rabbitBinDir()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	n := &Node{t: t, Name: "rct-" + hex.EncodeToString(b) + "@localhost", dir: t.TempDir(), bin: bin}
	n.Port = freePort(t)
	dist := freePort(t)
	home := filepath.Join(n.dir, "home")
	for _, d := range []string{home, filepath.Join(n.dir, "mnesia"), filepath.Join(n.dir, "log")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// The node and rabbitmqctl share the cookie through HOME.
	files := map[string]string{
		filepath.Join(home, ".erlang.cookie"): cookie,
		n.path("enabled_plugins"):             "[].\n",
		n.path("rabbitmq-env.conf"):           "",
		n.path("rabbitmq.conf"):               fmt.Sprintf("listeners.tcp.default = 127.0.0.1:%d\n", n.Port),
		n.path("advanced.config"):             "[].\n",
	}
	for p, body := range files {
		if err := os.WriteFile(p, []byte(body), 0o400); err != nil {
			t.Fatal(err)
		}
	}
	n.env = append(os.Environ(),
		"HOME="+home,
		"RABBITMQ_NODENAME="+n.Name,
		"RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
		"RABBITMQ_NODE_PORT="+strconv.Itoa(n.Port),
		"RABBITMQ_DIST_PORT="+strconv.Itoa(dist),
		"RABBITMQ_MNESIA_BASE="+n.path("mnesia"),
		"RABBITMQ_LOG_BASE="+n.path("log"),
		"RABBITMQ_CONFIG_FILE="+n.path("rabbitmq.conf"),
		"RABBITMQ_ADVANCED_CONFIG_FILE="+n.path("advanced.config"),
		"RABBITMQ_CONF_ENV_FILE="+n.path("rabbitmq-env.conf"),
		"RABBITMQ_ENABLED_PLUGINS_FILE="+n.path("enabled_plugins"),
		"RABBITMQ_PID_FILE="+n.path("rabbitmq.pid"),
	)
	t.Cleanup(n.cleanup)
	n.Start()
	return n
}

// URL is the AMQP URL of the node's default virtual host for guest/guest.
func (n *Node) URL() string {
	return fmt.Sprintf("amqp://guest:guest@127.0.0.1:%d/", n.Port)
}

// Addr is the node's AMQP address.
func (n *Node) Addr() string { return fmt.Sprintf("127.0.0.1:%d", n.Port) }

func (n *Node) path(name string) string { return filepath.Join(n.dir, name) }

// Start starts the node and waits until it accepts work.
func (n *Node) Start() {
	n.t.Helper()
	if n.guard != nil {
		n.t.Fatalf("node %s is already running", n.Name)
	}
	// The guard shell runs the server and waits on its stdin, which the
	// test process holds open: when the test process ends, however it
	// ends, the read returns and the guard kills its whole process group.
	out, err := os.OpenFile(n.path("server.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		n.t.Fatal(err)
	}
	defer func() { _ = out.Close() }()
	cmd := exec.Command("/bin/sh", "-c", `"$0" & read -r _; kill -KILL 0`, filepath.Join(n.bin, "rabbitmq-server"))
	cmd.Env = n.env
	cmd.Dir = n.dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		n.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		n.t.Fatalf("start rabbitmq-server: %v", err)
	}
	n.guard, n.stdin, n.exited = cmd, stdin, make(chan struct{})
	go func(exited chan struct{}) {
		_ = cmd.Wait()
		close(exited)
	}(n.exited)
	// await_startup fails at once while the node has not registered
	// with epmd yet: retry it until the node is up.
	testutil.WaitFor(n.t, "node "+n.Name+" to start", 90*time.Second, func() bool {
		if _, err := n.ctl(30*time.Second, "await_startup", "--timeout", "30"); err == nil {
			return true
		}
		select {
		case <-n.exited:
			n.t.Fatalf("node %s exited while starting:\n%s", n.Name, n.tail("server.out"))
		default:
		}
		return false
	})
}

// Stop stops the node gracefully (as a broker restart does: durable queues
// and persistent messages are kept, everything else is gone) and waits for
// its processes to end.
func (n *Node) Stop() {
	n.t.Helper()
	if n.guard == nil {
		return
	}
	if out, err := n.ctl(60*time.Second, "stop"); err != nil {
		n.t.Errorf("rabbitmqctl -n %s stop: %v\n%s", n.Name, err, out)
	}
	n.kill()
}

// Restart stops the node and starts it again.
func (n *Node) Restart() {
	n.t.Helper()
	n.Stop()
	n.Start()
}

// Ctl runs rabbitmqctl against the node and fails the test if it fails.
func (n *Node) Ctl(args ...string) string {
	n.t.Helper()
	out, err := n.ctl(60*time.Second, args...)
	if err != nil {
		n.t.Fatalf("rabbitmqctl -n %s %s: %v\n%s", n.Name, strings.Join(args, " "), err, out)
	}
	return out
}

func (n *Node) ctl(limit time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(n.bin, "rabbitmqctl"), append([]string{"-q", "-n", n.Name}, args...)...)
	cmd.Env = n.env
	cmd.Dir = n.dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// kill ends the current run: closing the guard's stdin makes it kill its
// process group; then it waits for the guard.
func (n *Node) kill() {
	if n.guard == nil {
		return
	}
	_ = n.stdin.Close()
	select {
	case <-n.exited:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-n.guard.Process.Pid, syscall.SIGKILL)
		<-n.exited
	}
	n.guard = nil
}

// cleanup stops the node, kills any process still carrying its node name
// and leaves the files to t.TempDir's removal.
func (n *Node) cleanup() {
	if n.guard != nil {
		_, _ = n.ctl(30*time.Second, "stop")
		n.kill()
	}
	killByNodeName(n.Name)
	if n.t.Failed() {
		n.t.Logf("node %s log:\n%s", n.Name, n.tail(filepath.Join("log", n.Name+".log")))
	}
}

// killByNodeName kills every process whose command line holds the node's
// unique name (a server left over by a run whose guard was killed too).
func killByNodeName(name string) {
	short := strings.SplitN(name, "@", 2)[0]
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		for i, a := range args {
			if (a == "-sname" || a == "-name") && i+1 < len(args) && (args[i+1] == short || args[i+1] == name) {
				if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
	}
}

// tail returns the end of one of the node's files, for failure messages.
func (n *Node) tail(name string) string {
	b, _ := os.ReadFile(n.path(name))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// rabbitBinDir finds RabbitMQ's own scripts. On Debian, /usr/sbin holds
// wrappers that switch to the rabbitmq user, who cannot read a test's
// temporary directory; they point to the real scripts' directory.
func rabbitBinDir() (string, error) {
	if d := os.Getenv("RABBITMQ_SCRIPTS_DIR"); d != "" {
		return d, nil
	}
	p, err := exec.LookPath("rabbitmq-server")
	if err != nil {
		return "", fmt.Errorf("rabbitmq-server is not installed: %w", err)
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	return filepath.Dir(p), nil
}

// freePort returns a TCP port on 127.0.0.1 that nothing listens on now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}
