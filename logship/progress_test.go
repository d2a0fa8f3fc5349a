package logship_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/api"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store/sqlite"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship/logservertest"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// progressSteps is how many progress records withProgress spools per
// request.
const progressSteps = 3

// withProgress appends a request, its progress records and its response,
// as the consumer journals a request whose handler reported progress.
func withProgress(t testing.TB, s *logship.Spool, i int) {
	t.Helper()
	id := uid(fmt.Sprintf("progress-%d", i))
	recs := []logship.Record{{Kind: logship.KindRequest, CorrelationID: id, RequestPayload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)),
		VirtualHostName: "v", QueueName: "q", RabbitMQUsername: "guest", Hostname: "h", ExchangeName: "dx"}}
	for step := 1; step <= progressSteps; step++ {
		recs = append(recs, logship.Record{Kind: logship.KindProgress, CorrelationID: id, Time: time.Date(2026, 12, 1, 0, 0, i, step*1000, time.UTC), State: fmt.Sprintf("Step %d", step),
			Message: fmt.Sprintf("step %d of %d", step, progressSteps), Percent: wire.Percentage(float64(100 * step / progressSteps)),
			Data: json.RawMessage(fmt.Sprintf(`{"step":%d}`, step))})
	}
	recs = append(recs, logship.Record{Kind: logship.KindResponse, CorrelationID: id, ResponsePayload: json.RawMessage(`{"success":true,"message":"m","data":null}`)})
	for _, r := range recs {
		if err := s.Append(r); err != nil {
			t.Fatal(err)
		}
	}
}

// TestProgressSkippedByReferenceServer: a reference log server answers 404
// at /rpc-progress; the progress records are skipped, counted, warned
// about once, and the requests and responses around them all arrive.
func TestProgressSkippedByReferenceServer(t *testing.T) {
	root := t.TempDir()
	srv := logservertest.New(t, token)
	s, err := logship.OpenSpool(root, "v", logship.SpoolOptions{SegmentBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 40
	for i := 0; i < n; i++ {
		withProgress(t, s, i)
	}
	r := startShipper(t, root, srv)
	ev := waitEvents(t, srv, 2*n)
	if dups := checkOrder(t, ev, n); dups != 0 {
		t.Errorf("%d duplicates", dups)
	}
	testutil.WaitFor(t, "every record handled", 60*time.Second, func() bool {
		st := r.sh.Stats()
		return st.ProgressSkipped == n*progressSteps && st.Shipped == 2*n
	})
	if st := r.sh.Stats(); st.SetAside != 0 || st.PostFailures != 0 {
		t.Errorf("stats = %+v; want none set aside or failed", st)
	}
	if got := strings.Count(r.logs.String(), "does not take progress updates"); got != 1 {
		t.Errorf("the warning is logged %d times; want once\n%s", got, r.logs.String())
	}
}

// TestProgressShippedToLogServer: rabbitmq-consumer-log-server takes the
// progress records, each after its request (it answers 400 to one
// without), and lists them in order.
func TestProgressShippedToLogServer(t *testing.T) {
	root := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "log.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(logserver.Handler(st, api.Options{Token: token, GUIPassword: "pw"}, http.NotFoundHandler()))
	t.Cleanup(func() {
		srv.Close()
		_ = st.Close()
	})
	s, err := logship.OpenSpool(root, "v", logship.SpoolOptions{SegmentBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 40
	for i := 0; i < n; i++ {
		withProgress(t, s, i)
	}
	sh := startShipperTo(t, root, srv.URL+logserver.APIBase+"/", token).sh
	testutil.WaitFor(t, "every record shipped", 60*time.Second, func() bool { return sh.Stats().Shipped == n*(2+progressSteps) })
	if got := sh.Stats(); got.SetAside != 0 || got.ProgressSkipped != 0 {
		t.Errorf("stats = %+v; want nothing set aside or skipped", got)
	}
	for i := 0; i < n; i++ {
		id := uid(fmt.Sprintf("progress-%d", i))
		ps, err := st.Progress(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range ps {
			got = append(got, fmt.Sprintf("%s %q %v %s", p.State, p.Message, *p.Percent, p.Data))
		}
		want := []string{`Step 1 "step 1 of 3" 33 {"step":1}`, `Step 2 "step 2 of 3" 66 {"step":2}`, `Step 3 "step 3 of 3" 100 {"step":3}`}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("progress of %s:\n%s\nwant\n%s", id, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if p, ok, err := st.Get(context.Background(), id); err != nil || !ok || p.Outcome != store.OutcomeSuccess {
			t.Errorf("pair %s: %+v %v %v", id, p, ok, err)
		}
	}
}

// TestRepeatedRequestIsAlreadyThere: a request record journaled again by
// a second run (Repeat) that the log server refuses as a duplicate is
// counted as already there, not set aside: the reference answers 500.
func TestRepeatedRequestIsAlreadyThere(t *testing.T) {
	root := t.TempDir()
	srv := logservertest.New(t, token)
	s, err := logship.OpenSpool(root, "v", logship.SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	id := uid("repeat")
	req := logship.Record{Kind: logship.KindRequest, CorrelationID: id, RequestPayload: json.RawMessage(`{}`),
		VirtualHostName: "v", QueueName: "q", RabbitMQUsername: "guest", Hostname: "h", ExchangeName: "dx"}
	_ = s.Append(req)
	_ = s.Append(logship.Record{Kind: logship.KindProgress, CorrelationID: id, Time: time.Now(), State: "Started"})
	again := req
	again.Repeat = true
	_ = s.Append(again)
	_ = s.Append(logship.Record{Kind: logship.KindResponse, CorrelationID: id, ResponsePayload: json.RawMessage(`{"success":true}`)})
	pair(t, s, "v", 1)
	r := startShipper(t, root, srv)
	waitEvents(t, srv, 4)
	testutil.WaitFor(t, "the repeat counted as already there", 60*time.Second, func() bool { return r.sh.Stats().AlreadyThere == 1 })
	if st := r.sh.Stats(); st.SetAside != 0 {
		t.Errorf("stats = %+v; want nothing set aside", st)
	}
}
