package logship_test

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship/logservertest"
)

var shipperBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "logship-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shipperBin = filepath.Join(dir, "rabbitmq-consumer-logship")
	build := exec.Command("go", "build", "-o", shipperBin, "../cmd/rabbitmq-consumer-logship")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build rabbitmq-consumer-logship:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// shipperProcess is a running rabbitmq-consumer-logship.
type shipperProcess struct {
	cmd  *exec.Cmd
	out  *testutil.SyncBuffer
	done chan struct{}
}

func writeConfig(t testing.TB, root, baseURL, token string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rabbitmq.yml")
	body := fmt.Sprintf("spool_directory: %s\nlog_server: {base_url: '%s', api_token: '%s'}\nvirtual_hosts: {v: {queue: q, exchanges: {dx: {}}}}\n", root, baseURL, token)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// startShipperProcess starts rabbitmq-consumer-logship with cfg, and env
// added to the test's environment.
func startShipperProcess(t testing.TB, cfg string, env ...string) *shipperProcess {
	t.Helper()
	p := &shipperProcess{cmd: exec.Command(shipperBin, "--config-file-path", cfg, "--poll", "20ms"), out: &testutil.SyncBuffer{}, done: make(chan struct{})}
	p.cmd.Stderr = p.out
	p.cmd.Env = append(os.Environ(), env...)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

func (p *shipperProcess) wait(t testing.TB) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(30 * time.Second):
		t.Fatal("rabbitmq-consumer-logship did not exit")
		return 0
	}
}

// peakRSS is the process's peak resident set, in KiB; -1 when unknown.
func (p *shipperProcess) peakRSS() int {
	kb, err := testutil.ProcStatus(p.cmd.Process.Pid, "VmHWM")
	if err != nil {
		return -1
	}
	return kb
}

func backlog(t testing.TB, root string, pairs int) {
	t.Helper()
	s, err := logship.OpenSpool(root, "v", logship.SpoolOptions{SegmentBytes: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < pairs; i++ {
		pair(t, s, "v", i)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestSIGKILLMidBacklogLosesNothing(t *testing.T) {
	root := t.TempDir()
	srv := logservertest.New(t, token)
	const pairs = 3000
	backlog(t, root, pairs)
	cfg := writeConfig(t, root, srv.BaseURL(), token)
	p := startShipperProcess(t, cfg)
	waitEvents(t, srv, 1500)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait(t)
	atKill := len(srv.Events())
	startShipperProcess(t, cfg)
	deadline := time.Now().Add(60 * time.Second)
	var dups int
	for {
		ev := waitEvents(t, srv, 2*pairs)
		dups = len(ev) - 2*pairs
		uniq := map[string]bool{}
		for _, e := range ev {
			uniq[e.Kind+e.CorrelationID] = true
		}
		if len(uniq) == 2*pairs {
			checkOrder(t, ev, pairs)
			break
		}
		if time.Now().After(deadline) {
			var missing []string
			for i := 0; i < pairs && len(missing) < 5; i++ {
				for _, k := range []string{"request", "response"} {
					if id := k + uid(fmt.Sprintf("v-%d", i)); !uniq[id] {
						missing = append(missing, id)
					}
				}
			}
			t.Fatalf("only %d distinct records arrived; missing %v", len(uniq), missing)
		}
		select {
		case <-srv.Changed():
		case <-time.After(time.Second):
		}
	}
	t.Logf("SIGKILL after %d of %d records; after the restart all %d arrived, %d sent twice", atKill, 2*pairs, 2*pairs, dups)
	if dups > 1 {
		t.Errorf("%d records sent twice, want at most the one in flight at the kill", dups)
	}
}

// TestResendAfterKillDoesNotBlock: the shipper is killed after the log
// server stored records but before their answers came; the restarted
// shipper sends those records again, the server refuses the duplicates
// (500, as the reference does), and the shipper counts them as already
// there and goes on, instead of retrying them forever.
func TestResendAfterKillDoesNotBlock(t *testing.T) {
	root := t.TempDir()
	srv := logservertest.New(t, token)
	const pairs = 3
	backlog(t, root, pairs)
	cfg := writeConfig(t, root, srv.BaseURL(), token)
	srv.Hold()
	p := startShipperProcess(t, cfg)
	waitEvents(t, srv, 1) // stored, its answer held
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait(t)
	srv.Release()
	p2 := startShipperProcess(t, cfg)
	var ids []string
	for i := 0; i < pairs; i++ {
		ids = append(ids, uid(fmt.Sprintf("v-%d", i)))
	}
	checkSequence(t, waitEvents(t, srv, 2*pairs), ids)
	testutil.WaitFor(t, "the resend counted as already there", 30*time.Second, func() bool {
		return strings.Contains(p2.out.String(), "counted as already at the log server")
	})
	// The requests were in flight together; their responses wait for
	// their 201s, so none was posted before the kill.
	r := srv.Refusals()
	if len(r) == 0 || len(r) > pairs {
		t.Errorf("refusals = %+v, want one per request in flight at the kill", r)
	}
	for _, rf := range r {
		if rf.Status != 500 || rf.Kind != "request" {
			t.Errorf("refusal %+v, want only 500s to requests sent again", rf)
		}
	}
}

// TestStatusCountsSetAside: the shipper's sd_notify STATUS counts the
// records shipped and set aside.
func TestStatusCountsSetAside(t *testing.T) {
	root := t.TempDir()
	srv := logservertest.New(t, token)
	s, err := logship.OpenSpool(root, "v", logship.SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pair(t, s, "v", 1)
	for _, k := range []logship.Kind{logship.KindRequest, logship.KindResponse} {
		// A correlation id the log server refuses (422).
		if err := s.Append(logship.Record{Kind: k, CorrelationID: "call-1", RequestPayload: json.RawMessage(`{}`), ResponsePayload: json.RawMessage(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.Close()
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	startShipperProcess(t, writeConfig(t, root, srv.BaseURL(), token), "NOTIFY_SOCKET="+sock, "WATCHDOG_USEC=200000")
	want := "STATUS=backlog 0 bytes in 1 files; shipped 2, set aside 2 (rejected.jsonl)"
	buf := make([]byte, 4096)
	var last string
	deadline := time.Now().Add(30 * time.Second)
	for last != want {
		_ = conn.SetReadDeadline(deadline)
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no %q; last status %q: %v", want, last, err)
		}
		if msg := string(buf[:n]); strings.HasPrefix(msg, "STATUS=") {
			last = msg
		}
	}
}

func TestWrongTokenExitsLoudly(t *testing.T) {
	root := t.TempDir()
	srv := logservertest.New(t, token)
	backlog(t, root, 1)
	p := startShipperProcess(t, writeConfig(t, root, srv.BaseURL(), "wrong"))
	if code := p.wait(t); code != 77 {
		t.Errorf("exit status = %d, want 77", code)
	}
	if !strings.Contains(p.out.String(), "rejected the API token (401)") {
		t.Errorf("log:\n%s", p.out.String())
	}
}

func TestNoLogServerConfigured(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rabbitmq.yml")
	_ = os.WriteFile(path, []byte("virtual_hosts: {v: {queue: q, exchanges: {dx: {}}}}\n"), 0o644)
	p := startShipperProcess(t, path)
	if code := p.wait(t); code != 78 || !strings.Contains(p.out.String(), "log_server: not configured") {
		t.Errorf("exit status %d, log:\n%s", code, p.out.String())
	}
}

// BenchmarkBacklog ships a backlog of 100,000 records (50,000 requests and
// their responses) with the real shipper process, and reports records/s and
// the shipper's peak RSS, against a backlog of 10,000: memory stays flat
// whatever the backlog. Run it with `make bench-logship`.
func BenchmarkBacklog(b *testing.B) {
	for _, pairs := range []int{5000, 50000} {
		b.Run(fmt.Sprintf("records=%d", 2*pairs), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				root := b.TempDir()
				srv := logservertest.New(b, token)
				backlog(b, root, pairs)
				start := time.Now()
				p := startShipperProcess(b, writeConfig(b, root, srv.BaseURL(), token))
				for {
					ch := srv.Changed()
					if srv.Accepted() >= 2*pairs {
						break
					}
					<-ch
				}
				took := time.Since(start)
				rss := p.peakRSS()
				b.ReportMetric(float64(2*pairs)/took.Seconds(), "records/s")
				b.ReportMetric(float64(rss)/1024, "peak-RSS-MB")
				fmt.Printf("logship: %d records shipped in %.1fs = %.0f records/s, peak RSS %.1f MB\n", 2*pairs, took.Seconds(), float64(2*pairs)/took.Seconds(), float64(rss)/1024)
			}
		})
	}
}
