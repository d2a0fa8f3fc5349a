package logship_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship/logservertest"
)

const token = "t0ken"

// How soon the shippers of these tests set aside a record answered 500.
const (
	setAsideTries = 3
	setAsideAfter = 300 * time.Millisecond
)

// pair appends a request and its response.
func pair(t testing.TB, s *logship.Spool, vhost string, i int) {
	t.Helper()
	id := uid(fmt.Sprintf("%s-%d", vhost, i))
	if err := s.Append(logship.Record{Kind: logship.KindRequest, CorrelationID: id, RequestPayload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)),
		VirtualHostName: vhost, QueueName: "q", RabbitMQUsername: "guest", Hostname: "h", ExchangeName: "dx"}); err != nil {
		t.Fatal(err)
	}
	tb := "exit status: 3"
	resp := logship.Record{Kind: logship.KindResponse, CorrelationID: id, ResponsePayload: json.RawMessage(`{"success":true,"message":"m","data":null}`)}
	if i%10 == 0 {
		resp.Traceback = &tb
	}
	if err := s.Append(resp); err != nil {
		t.Fatal(err)
	}
}

// uid is a UUID of version 4 made from name, as the log server takes
// correlation ids.
func uid(name string) string {
	h := sha256.Sum256([]byte(name))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	x := hex.EncodeToString(h[:16])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

type shipRun struct {
	sh     *logship.Shipper
	cancel context.CancelFunc
	done   chan error
	logs   *testutil.SyncBuffer
}

func startShipper(t *testing.T, root string, srv *logservertest.Server) *shipRun {
	t.Helper()
	return startShipperTo(t, root, srv.BaseURL(), srv.Token())
}

// startShipperTo runs a shipper of root posting to the log server at
// baseURL, stopped when the test ends.
func startShipperTo(t *testing.T, root, baseURL, token string) *shipRun {
	t.Helper()
	r := &shipRun{done: make(chan error, 1), logs: &testutil.SyncBuffer{}}
	r.sh = logship.NewShipper(root, logship.ShipperOptions{BaseURL: baseURL, Token: token, Logger: zerolog.New(r.logs),
		Poll: 10 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, SetAsideTries: setAsideTries, SetAsideAfter: setAsideAfter})
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- r.sh.Run(ctx) }()
	t.Cleanup(func() {
		r.stop(t)
		if t.Failed() {
			t.Logf("shipper log:\n%s", r.logs.String())
		}
	})
	return r
}

func (r *shipRun) stop(t *testing.T) error {
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok {
			close(r.done)
		}
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("shipper did not stop")
		return nil
	}
}

// waitEvents waits until the server accepted n events.
func waitEvents(t *testing.T, srv *logservertest.Server, n int) []logservertest.Event {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		ch := srv.Changed()
		if srv.Accepted() >= n {
			return srv.Events()
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("the log server got %d events, want %d", srv.Accepted(), n)
		}
	}
}

// checkOrder checks every request arrived once, each before its response.
func checkOrder(t *testing.T, ev []logservertest.Event, pairs int) (dups int) {
	t.Helper()
	requests := map[string]int{}
	responses := map[string]int{}
	for _, e := range ev {
		switch e.Kind {
		case "request":
			requests[e.CorrelationID]++
		case "response":
			if requests[e.CorrelationID] == 0 {
				t.Errorf("response %s before its request", e.CorrelationID)
			}
			responses[e.CorrelationID]++
		}
	}
	for id, n := range requests {
		dups += n - 1
		_ = id
	}
	for _, n := range responses {
		dups += n - 1
	}
	if len(requests) != pairs || len(responses) != pairs {
		t.Errorf("%d requests and %d responses arrived, want %d each", len(requests), len(responses), pairs)
	}
	return dups
}

func TestShipsEverythingInOrder(t *testing.T) {
	// nxadm/tail keeps one process-wide inotify watcher once used.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(),
		goleak.IgnoreTopFunction("github.com/nxadm/tail/watch.(*InotifyTracker).run"),
		goleak.IgnoreAnyFunction("github.com/fsnotify/fsnotify.(*inotify).readEvents"))
	root := t.TempDir()
	srv := logservertest.New(t, token)
	func() {
		for _, vh := range []string{"trees", "sites/prod"} {
			s, err := logship.OpenSpool(root, vh, logship.SpoolOptions{SegmentBytes: 2048})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 50; i++ {
				pair(t, s, vh, i)
			}
			_ = s.Close()
		}
		r := startShipper(t, root, srv)
		ev := waitEvents(t, srv, 200)
		if dups := checkOrder(t, ev, 100); dups != 0 {
			t.Errorf("%d duplicates", dups)
		}
		first := ev[0].Request
		if first.VirtualHostName == "" || first.QueueName != "q" || first.RabbitMQUsername != "guest" || first.Hostname != "h" || first.ExchangeName != "dx" || string(first.RequestPayload) == "" {
			t.Errorf("request fields = %+v", first)
		}
		var withTraceback int
		for _, e := range ev {
			if e.Response != nil && e.Response.Traceback != nil && *e.Response.Traceback == "exit status: 3" {
				withTraceback++
			}
		}
		if withTraceback != 10 {
			t.Errorf("%d responses with a traceback, want 10", withTraceback)
		}
		// Shipped segments are removed; only each vhost's active one stays.
		testutil.WaitFor(t, "sealed segments to be removed and the backlog to be empty", 60*time.Second, func() bool {
			b, files := r.sh.Backlog()
			return files == 2 && b == 0
		})
		_ = r.stop(t)
		srv.Down()
	}()
}

func TestLogServerDownThenBack(t *testing.T) {
	root := t.TempDir()
	srv := logservertest.New(t, token)
	srv.Down()
	s, err := logship.OpenSpool(root, "v", logship.SpoolOptions{SegmentBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := startShipper(t, root, srv)
	for i := 0; i < 30; i++ {
		pair(t, s, "v", i)
	}
	testutil.WaitFor(t, "the shipper to notice", 60*time.Second, func() bool { return strings.Contains(r.logs.String(), "log server unavailable; retrying") })
	// Every failed post is counted; the backlog is the virtual host's.
	testutil.WaitFor(t, "two failed posts counted", 60*time.Second, func() bool { return r.sh.Stats().PostFailures >= 2 })
	if b := r.sh.Backlogs(); len(b) != 1 || b["v"].Bytes == 0 || b["v"].Files == 0 {
		t.Errorf("backlogs = %+v, want virtual host v's", b)
	}
	srv.Up(t)
	// And a 5xx phase: retried as well.
	srv.FailWith(http.StatusServiceUnavailable)
	before := srv.Posts()
	testutil.WaitFor(t, "retries against 503", 60*time.Second, func() bool { return srv.Posts() > before+2 })
	srv.FailWith(0)
	ev := waitEvents(t, srv, 60)
	if dups := checkOrder(t, ev, 30); dups != 0 {
		t.Errorf("%d duplicates", dups)
	}
	if strings.Count(r.logs.String(), "log server unavailable") > 2 {
		t.Error("an outage must be logged once, not at every retry")
	}
}

func TestRejectedRecordIsSetAsideAndLogged(t *testing.T) {
	root := t.TempDir()
	srv := logservertest.New(t, token)
	s, err := logship.OpenSpool(root, "v", logship.SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// A response whose request the server never saw: 400, set aside.
	_ = s.Append(logship.Record{Kind: logship.KindResponse, CorrelationID: uid("orphan"), ResponsePayload: json.RawMessage(`{}`)})
	pair(t, s, "v", 1)
	r := startShipper(t, root, srv)
	ev := waitEvents(t, srv, 2)
	if len(ev) != 2 || ev[0].CorrelationID != uid("v-1") {
		t.Errorf("events = %+v", ev)
	}
	testutil.WaitFor(t, "the rejection in the log", 60*time.Second, func() bool {
		l := r.logs.String()
		return strings.Contains(l, "record set aside") && strings.Contains(l, uid("orphan")) && strings.Contains(l, "400")
	})
	if st := r.sh.Stats(); st.SetAside != 1 {
		t.Errorf("set aside = %d, want 1", st.SetAside)
	}
}

func TestWrongTokenStopsShipping(t *testing.T) {
	root := t.TempDir()
	srv := logservertest.New(t, "another token")
	s, err := logship.OpenSpool(root, "v", logship.SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pair(t, s, "v", 1)
	sh := logship.NewShipper(root, logship.ShipperOptions{BaseURL: srv.BaseURL(), Token: token, Poll: 10 * time.Millisecond, Logger: zerolog.Nop()})
	done := make(chan error, 1)
	go func() { done <- sh.Run(context.Background()) }()
	select {
	case err := <-done:
		if err != logship.ErrUnauthorized {
			t.Fatalf("Run = %v, want ErrUnauthorized", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a wrong token must stop shipping")
	}
	// Nothing was lost: the record is still there for a corrected shipper.
	srv.SetToken(token)
	startShipper(t, root, srv)
	waitEvents(t, srv, 2)
}

func TestRotationWhileShipping(t *testing.T) {
	root := t.TempDir()
	srv := logservertest.New(t, token)
	s, err := logship.OpenSpool(root, "v", logship.SpoolOptions{SegmentBytes: 1500})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	startShipper(t, root, srv)
	const n = 1000
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			pair(t, s, "v", i)
		}
	}()
	wg.Wait()
	ev := waitEvents(t, srv, 2*n)
	if dups := checkOrder(t, ev, n); dups != 0 {
		t.Errorf("%d duplicates", dups)
	}
	segs, _ := os.ReadDir(logship.VHostDir(root, "v"))
	t.Logf("%d records shipped across rotations; %d files left in the spool", 2*n, len(segs))
}
