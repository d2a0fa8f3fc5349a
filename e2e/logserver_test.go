package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testrpc"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/api"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship"
)

// logServer is a rabbitmq-consumer-log-server process on SQLite, and how
// to reach it.
type logServer struct {
	t        *testing.T
	cfg      string
	addr     string
	token    string
	password string
	proc     *proc
}

// newLogServer configures a log server on a free loopback port (not
// started).
func newLogServer(t *testing.T, dir, token string) *logServer {
	t.Helper()
	addr := freeAddr(t)
	ls := &logServer{t: t, cfg: filepath.Join(dir, "log-server.yml"), addr: addr, token: token, password: "gui-pa55"}
	write(t, filepath.Join(dir, "api_token"), token+"\n", 0o600)
	write(t, filepath.Join(dir, "gui_password"), ls.password+"\n", 0o600)
	write(t, ls.cfg, fmt.Sprintf("listen: %s\ndatabase: %s\napi_token_file: %s\ngui_password_file: %s\n",
		addr, filepath.Join(dir, "log.db"), filepath.Join(dir, "api_token"), filepath.Join(dir, "gui_password")), 0o644)
	return ls
}

// shipTo makes the world's consumer spool its records for ls, in
// <dir>/spool, which it returns.
func (w *world) shipTo(ls *logServer) string {
	w.t.Helper()
	spool := filepath.Join(w.dir, "spool")
	cfg := strings.Replace(mustRead(w.t, w.cfgPath), "virtual_hosts:", fmt.Sprintf("spool_directory: %s\nlog_server: {base_url: 'http://%s/api/v1/', api_token: %s}\nvirtual_hosts:", spool, ls.addr, ls.token), 1)
	write(w.t, w.cfgPath, cfg, 0o644)
	return spool
}

// start runs the server and waits until it says READY=1, checking that it
// serves by then.
func (ls *logServer) start() *notifySocket {
	ls.t.Helper()
	n := newNotifySocket(ls.t)
	ls.proc = startBin(ls.t, logServerBin, []string{"--config-file-path", ls.cfg}, "NOTIFY_SOCKET="+n.path)
	n.next(ls.t, 0, "READY=1")
	if ls.total() < 0 {
		ls.t.Fatal("READY=1 before the log server answers")
	}
	return n
}

// list is one page of GET /api/v1/rpc-requests?query, with counts.
func (ls *logServer) list(query string) (api.ListResponse, error) {
	req, _ := http.NewRequest("GET", "http://"+ls.addr+"/api/v1/rpc-requests?counts=1&"+query, nil)
	req.SetBasicAuth("", ls.password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return api.ListResponse{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return api.ListResponse{}, fmt.Errorf("GET: %s", resp.Status)
	}
	var page api.ListResponse
	return page, json.NewDecoder(resp.Body).Decode(&page)
}

// page is the web interface's page at path.
func (ls *logServer) page(path string) string {
	ls.t.Helper()
	req, _ := http.NewRequest("GET", "http://"+ls.addr+path, nil)
	req.SetBasicAuth("operator", ls.password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ls.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		ls.t.Fatalf("GET %s: %s, %v", path, resp.Status, err)
	}
	return string(b)
}

// total is the number of pairs stored, or -1 when the server does not
// answer.
func (ls *logServer) total() int64 {
	page, err := ls.list("limit=1")
	if err != nil {
		return -1
	}
	var n int64
	for _, c := range page.Counts {
		n += c
	}
	return n
}

// TestLogServerEndToEnd: consumer → spool → shipper → log server, 1,000
// calls; the log server is SIGKILLed and restarted while the records flow,
// and ends with every pair once, each request with its response.
func TestLogServerEndToEnd(t *testing.T) {
	const calls = 1000
	w := newWorld(t, 20)
	ls := newLogServer(t, t.TempDir(), "e2e-t0ken")
	spool := w.shipTo(ls)
	ls.start()
	p := w.start()
	p.waitLog(t, `"message":"consuming"`)
	ship := startShipProc(t, w.cfgPath)

	c := testrpc.New(t, w.vh.URL(), true)
	replies := sendAll(t, w, c, calls)
	testutil.WaitFor(t, "a third of the pairs at the log server", 120*time.Second, func() bool { return ls.total() >= calls/3 })
	atKill := ls.total()
	ls.proc.signal(t, syscall.SIGKILL)
	<-ls.proc.done
	t.Logf("log server SIGKILLed with %d of %d pairs stored", atKill, calls)
	testutil.WaitFor(t, "the shipper to find the log server gone", 60*time.Second, func() bool {
		return strings.Contains(ship.stderr.String(), "log server unavailable")
	})
	n := ls.start()
	if ok := collect(t, c, replies); ok != calls {
		t.Fatalf("%d of %d calls answered with success", ok, calls)
	}
	testutil.WaitFor(t, "every pair answered at the log server", 120*time.Second, func() bool {
		page, err := ls.list("limit=1")
		return err == nil && page.Counts[store.OutcomeSuccess] == calls
	})
	// Every pair once, with its response.
	seen := map[string]int{}
	before := ""
	for {
		page, err := ls.list("limit=500" + before)
		if err != nil {
			t.Fatal(err)
		}
		for _, pr := range page.Pairs {
			seen[pr.Request.CorrelationID]++
			if pr.Response == nil || pr.Outcome != store.OutcomeSuccess || pr.Request.VirtualHostName != w.vh.Name || pr.Request.ExchangeName != "dx_record" {
				t.Errorf("pair %+v", pr)
			}
		}
		if page.Next == 0 {
			break
		}
		before = fmt.Sprintf("&before=%d", page.Next)
	}
	if len(seen) != calls {
		t.Errorf("%d distinct pairs listed, want %d", len(seen), calls)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("pair %s listed %d times", id, n)
		}
	}
	page, err := ls.list("limit=1")
	if err != nil || fmt.Sprint(page.Counts) != fmt.Sprintf("map[awaiting:0 error:0 failure:0 success:%d]", calls) {
		t.Errorf("counts %v, %v", page.Counts, err)
	}
	// The web interface shows them.
	if body := ls.page("/"); !strings.Contains(body, fmt.Sprintf(`<b data-count="success">%d</b>`, calls)) || strings.Count(body, `<tr id="pair-`) != store.DefaultLimit {
		t.Errorf("the web interface does not show %d successes and a page of %d pairs", calls, store.DefaultLimit)
	}
	// Nothing was refused and set aside.
	if b := mustReadOrEmpty(filepath.Join(spool, w.vh.Name, logship.RejectedFile)); b != "" {
		t.Errorf("the shipper set records aside:\n%s", b)
	}
	// SIGTERM: a clean stop.
	ls.proc.signal(t, syscall.SIGTERM)
	n.next(t, 0, "STOPPING=1")
	if code, _ := ls.proc.wait(t, 30*time.Second); code != 0 {
		t.Errorf("log server exit status %d after SIGTERM", code)
	}
}
