package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/api"
)

// build compiles a command of the module into dir.
func build(b *testing.B, dir, name string) string {
	b.Helper()
	bin := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", bin, "../../cmd/"+name)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("build %s: %v", name, err)
	}
	return bin
}

// process is a started binary, killed when the benchmark ends.
type process struct {
	cmd  *exec.Cmd
	out  *testutil.SyncBuffer
	done chan struct{}
}

func start(b *testing.B, bin string, args ...string) *process {
	b.Helper()
	p := &process{cmd: exec.Command(bin, args...), out: &testutil.SyncBuffer{}, done: make(chan struct{})}
	p.cmd.Stderr = p.out
	if err := p.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	b.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

func (p *process) stop(b *testing.B) {
	b.Helper()
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		b.Fatal("process did not stop")
	}
}

// peakRSS is the process's peak resident set (VmHWM), in MB; -1 when
// unknown.
func (p *process) peakRSS() float64 {
	kb, err := testutil.ProcStatus(p.cmd.Process.Pid, "VmHWM")
	if err != nil {
		return -1
	}
	return float64(kb) / 1024
}

// cpuSeconds is the CPU time (user and system) the process used so far;
// -1 when unknown.
func (p *process) cpuSeconds() float64 {
	ticks, err := testutil.CPUTicks(p.cmd.Process.Pid)
	if err != nil {
		return -1
	}
	return float64(ticks) / 100
}

// server is a log server on a free loopback port.
type server struct {
	bin, cfg, addr, db string
	proc               *process
}

const (
	token    = "bench-t0ken"
	password = "bench-pa55"
)

// newServer configures a log server on database: an SQLite file in dir
// when "".
func newServer(b *testing.B, bin, dir, database string) *server {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s := &server{bin: bin, addr: ln.Addr().String(), cfg: filepath.Join(dir, "log-server.yml"), db: filepath.Join(dir, "log.db")}
	_ = ln.Close()
	if database != "" {
		s.db = database
	}
	for name, v := range map[string]string{"token": token, "password": password} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	body := fmt.Sprintf("listen: %s\ndatabase: %s\napi_token_file: %s\ngui_password_file: %s\n", s.addr, s.db, filepath.Join(dir, "token"), filepath.Join(dir, "password"))
	if err := os.WriteFile(s.cfg, []byte(body), 0o644); err != nil {
		b.Fatal(err)
	}
	return s
}

func (s *server) start(b *testing.B) {
	b.Helper()
	s.proc = start(b, s.bin, "--config-file-path", s.cfg)
	testutil.WaitFor(b, "the log server to serve", 120*time.Second, func() bool { return strings.Contains(s.proc.out.String(), `"message":"serving"`) })
}

func (s *server) baseURL() string { return "http://" + s.addr + "/api/v1/" }

// get fetches GET /api/v1/rpc-requests?query.
func (s *server) get(ctx context.Context, query string) (api.ListResponse, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+s.addr+"/api/v1/rpc-requests?"+query, nil)
	req.SetBasicAuth("", password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return api.ListResponse{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return api.ListResponse{}, fmt.Errorf("GET %s: %s", query, resp.Status)
	}
	var page api.ListResponse
	return page, json.NewDecoder(resp.Body).Decode(&page)
}

// stored is the number of records (requests and responses) stored.
func (s *server) stored(ctx context.Context) int64 {
	page, err := s.get(ctx, "limit=1&counts=1")
	if err != nil {
		return -1
	}
	var n int64
	for o, c := range page.Counts {
		n += c
		if o != "awaiting" {
			n += c
		}
	}
	return n
}
