// Package testbroker gives tests their own virtual host on the local
// RabbitMQ (127.0.0.1:5672, guest/guest) and the broker operations that
// failure tests need (closing connections, stopping and starting the app),
// always restoring the broker when the test ends. A test that restarts a
// broker starts a node of its own (StartNode) instead.
package testbroker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Addr is the local broker's AMQP address.
const Addr = "127.0.0.1:5672"

// VHost is a virtual host that exists for one test.
type VHost struct {
	// Name is the virtual host's name, unique to the test.
	Name string
}

// URL is the AMQP URL of the virtual host for guest/guest.
func (v *VHost) URL() string {
	return "amqp://guest:guest@" + Addr + "/" + strings.ReplaceAll(v.Name, "/", "%2F")
}

// New creates a fresh virtual host named after the test and deletes it when
// the test ends. It fails the test at once when the broker is not reachable:
// `make test` starts it.
func New(t testing.TB) *VHost {
	t.Helper()
	requireBroker(t)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "test-" + sanitize(t.Name()) + "-" + hex.EncodeToString(b)
	Ctl(t, "add_vhost", name)
	Ctl(t, "set_permissions", "-p", name, "guest", ".*", ".*", ".*")
	t.Cleanup(func() {
		_, _ = ctl(context.Background(), "delete_vhost", name)
	})
	return &VHost{Name: name}
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s = b.String()
	if len(s) > 60 {
		s = s[:60]
	}
	return s
}

var brokerOnce sync.Once
var brokerErr error

func requireBroker(t testing.TB) {
	t.Helper()
	brokerOnce.Do(func() {
		c, err := net.DialTimeout("tcp", Addr, 5*time.Second)
		if err != nil {
			brokerErr = fmt.Errorf("no RabbitMQ at %s (run `make test`, which starts it): %w", Addr, err)
			return
		}
		_ = c.Close()
	})
	if brokerErr != nil {
		t.Fatal(brokerErr)
	}
}

// Ctl runs rabbitmqctl with args and fails the test if it fails.
func Ctl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := ctl(context.Background(), args...)
	if err != nil {
		t.Fatalf("rabbitmqctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func ctl(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "rabbitmqctl", append([]string{"-q"}, args...)...).CombinedOutput()
	return string(out), err
}

// CloseConnections closes, from the broker's side, every client connection
// to the virtual host and returns how many it closed.
func (v *VHost) CloseConnections(t testing.TB, reason string) int {
	t.Helper()
	return v.CloseConnectionsMatching(t, "", reason)
}

// CloseConnectionsMatching closes, from the broker's side, the connections
// to the virtual host whose client properties (product, connection_name,
// ...) contain match, and returns how many it closed.
func (v *VHost) CloseConnectionsMatching(t testing.TB, match, reason string) int {
	t.Helper()
	out := Ctl(t, "list_connections", "pid", "vhost", "client_properties", "--no-table-headers")
	n := 0
	for _, line := range strings.Split(out, "\n") {
		f := strings.SplitN(line, "\t", 3)
		if len(f) == 3 && f[1] == v.Name && strings.Contains(f[2], match) {
			Ctl(t, "close_connection", f[0], reason)
			n++
		}
	}
	return n
}

// ConnectionCount is the number of client connections to the virtual host.
func (v *VHost) ConnectionCount(t testing.TB) int {
	t.Helper()
	out := Ctl(t, "list_connections", "vhost", "--no-table-headers")
	n := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.TrimSpace(line) == v.Name {
			n++
		}
	}
	return n
}

// StopApp stops the RabbitMQ application (the node stays up), and makes
// sure it is started again when the test ends, whatever happens.
func StopApp(t testing.TB) {
	t.Helper()
	t.Cleanup(func() { StartApp(t) })
	Ctl(t, "stop_app")
}

// StartApp starts the RabbitMQ application and waits until it accepts work.
func StartApp(t testing.TB) {
	t.Helper()
	Ctl(t, "start_app")
	Ctl(t, "await_startup")
}
