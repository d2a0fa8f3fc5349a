package logship_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship/logservertest"
)

// rejectedLines reads a virtual host's rejected.jsonl.
func rejectedLines(t *testing.T, root, vhost string) []map[string]any {
	t.Helper()
	f, err := os.Open(filepath.Join(logship.VHostDir(root, vhost), "rejected.jsonl"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("rejected.jsonl: %v: %s", err, sc.Text())
		}
		out = append(out, m)
	}
	return out
}

// openSpool opens vhost "v"'s spool under root.
func openSpool(t *testing.T, root string) *logship.Spool {
	t.Helper()
	s, err := logship.OpenSpool(root, "v", logship.SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func appendRec(t *testing.T, s *logship.Spool, rec logship.Record) {
	t.Helper()
	if err := s.Append(rec); err != nil {
		t.Fatal(err)
	}
}

func requestRec(id, payload string) logship.Record {
	return logship.Record{Kind: logship.KindRequest, CorrelationID: id, RequestPayload: json.RawMessage(payload),
		VirtualHostName: "v", QueueName: "q", RabbitMQUsername: "guest", Hostname: "h", ExchangeName: "dx"}
}

func responseRec(id, payload string) logship.Record {
	return logship.Record{Kind: logship.KindResponse, CorrelationID: id, ResponsePayload: json.RawMessage(payload)}
}

// checkSequence checks the events are exactly the pairs of ids, each
// once, each response after its request (the shipper posts several
// records at once, so pairs may interleave).
func checkSequence(t *testing.T, ev []logservertest.Event, ids []string) {
	t.Helper()
	var got, want []string
	seen := map[string]bool{}
	ok := true
	for _, e := range ev {
		k := e.Kind + " " + e.CorrelationID
		got = append(got, k)
		if seen[k] || (e.Kind == "response" && !seen["request "+e.CorrelationID]) {
			ok = false
		}
		seen[k] = true
	}
	for _, id := range ids {
		want = append(want, "request "+id, "response "+id)
		ok = ok && seen["request "+id] && seen["response "+id]
	}
	if !ok || len(got) != len(want) {
		t.Errorf("events:\n%s\nwant, each once, each response after its request:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestNonObjectRequestBodiesArrive: a request body that is not a JSON
// object (the consumer spools it as a JSON string of the body's text) is
// shipped wrapped in an object, so that the request and its response
// both arrive (201); a null response payload (an expired request) too.
func TestNonObjectRequestBodiesArrive(t *testing.T) {
	root := t.TempDir()
	srv := logservertest.New(t, token)
	s := openSpool(t, root)
	payloads := []string{`"[1,2]"`, `"\"x\""`, `"42"`, `"not json at all"`, `[1,2]`, `42`, `null`}
	var ids []string
	for i, p := range payloads {
		id := uid(fmt.Sprint("raw-", i))
		ids = append(ids, id)
		appendRec(t, s, requestRec(id, p))
		appendRec(t, s, responseRec(id, `{"success":false,"message":"Request validation failed","data":null}`))
	}
	expired := uid("expired")
	ids = append(ids, expired)
	appendRec(t, s, requestRec(expired, `{"n":1}`))
	tb := "expired"
	rec := responseRec(expired, `null`)
	rec.Traceback = &tb
	appendRec(t, s, rec)
	startShipper(t, root, srv)
	ev := waitEvents(t, srv, 2*len(ids))
	checkSequence(t, ev, ids)
	want := map[string]string{ids[0]: `{"_raw":"[1,2]"}`, ids[3]: `{"_raw":"not json at all"}`, ids[5]: `{"_raw":42}`}
	for _, e := range ev {
		if w, ok := want[e.CorrelationID]; ok && e.Request != nil && string(e.Request.RequestPayload) != w {
			t.Errorf("request_payload = %s, want %s", e.Request.RequestPayload, w)
		}
		if e.CorrelationID == expired && e.Response != nil && string(e.Response.ResponsePayload) != `{"_raw":null}` {
			t.Errorf("expired response_payload = %s", e.Response.ResponsePayload)
		}
	}
	if r := srv.Refusals(); len(r) != 0 {
		t.Errorf("refusals: %+v", r)
	}
}

// TestRecordRefusedWithServerErrorIsSetAside: a request the server keeps
// answering 500 while it accepts the others is set aside after the tries,
// with its response (never posted), and the records behind go on meanwhile.
func TestRecordRefusedWithServerErrorIsSetAside(t *testing.T) {
	root := t.TempDir()
	srv := logservertest.New(t, token)
	s := openSpool(t, root)
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, uid(fmt.Sprint("p-", i)))
	}
	srv.FailOn("request", ids[1], http.StatusInternalServerError)
	for _, id := range ids {
		appendRec(t, s, requestRec(id, `{"n":1}`))
		appendRec(t, s, responseRec(id, `{"success":true,"message":"m","data":null}`))
	}
	r := startShipper(t, root, srv)
	ev := waitEvents(t, srv, 8)
	checkSequence(t, ev, []string{ids[0], ids[2], ids[3], ids[4]})
	testutil.WaitFor(t, "the request and its response set aside", 30*time.Second, func() bool { return len(rejectedLines(t, root, "v")) >= 2 })
	lines := rejectedLines(t, root, "v")
	if len(lines) != 2 {
		t.Fatalf("rejected.jsonl has %d lines, want 2: %+v", len(lines), lines)
	}
	if rec := lines[0]["record"].(map[string]any); rec["kind"] != "request" || rec["correlation_id"] != ids[1] || lines[0]["status"] != float64(500) {
		t.Errorf("first set-aside line = %+v", lines[0])
	}
	if rec := lines[1]["record"].(map[string]any); rec["kind"] != "response" || rec["correlation_id"] != ids[1] {
		t.Errorf("second set-aside line = %+v", lines[1])
	}
	for _, rf := range srv.Refusals() {
		if rf.Kind == "response" {
			t.Errorf("the response of a set-aside request was posted: %+v", rf)
		}
	}
	// The log line of a record set aside follows its line in rejected.jsonl.
	setAsideLogged := func() int { return strings.Count(r.logs.String(), `"message":"record set aside`) }
	testutil.WaitFor(t, "both records' set-aside log lines", 30*time.Second, func() bool { return setAsideLogged() >= 2 })
	if n := setAsideLogged(); n != 2 {
		t.Errorf("%d log lines say set aside, want 2 (one per record):\n%s", n, r.logs.String())
	}
	testutil.WaitFor(t, "8 shipped and 2 set aside in the stats", 30*time.Second, func() bool {
		st := r.sh.Stats()
		return st.SetAside == 2 && st.Shipped == 8
	})
}

// TestRecordRefusedAsInvalidIsSetAside: a request the server refuses with
// 422 (a correlation id that is not a UUID4) is set aside at once, kept in
// rejected.jsonl with the answer, and so is its response; the records
// behind it go on.
func TestRecordRefusedAsInvalidIsSetAside(t *testing.T) {
	root := t.TempDir()
	srv := logservertest.New(t, token)
	s := openSpool(t, root)
	good := []string{uid("a"), uid("b")}
	appendRec(t, s, requestRec(good[0], `{}`))
	appendRec(t, s, responseRec(good[0], `{}`))
	appendRec(t, s, requestRec("call-17", `{}`))
	appendRec(t, s, responseRec("call-17", `{}`))
	appendRec(t, s, requestRec(good[1], `{}`))
	appendRec(t, s, responseRec(good[1], `{}`))
	r := startShipper(t, root, srv)
	ev := waitEvents(t, srv, 4)
	checkSequence(t, ev, good)
	testutil.WaitFor(t, "two records set aside", 30*time.Second, func() bool { return len(rejectedLines(t, root, "v")) == 2 })
	lines := rejectedLines(t, root, "v")
	if lines[0]["status"] != float64(422) || !strings.Contains(fmt.Sprint(lines[0]["answer"]), "uuid_parsing") {
		t.Errorf("set-aside request = %+v", lines[0])
	}
	testutil.WaitFor(t, "2 set aside in the stats", 30*time.Second, func() bool { return r.sh.Stats().SetAside == 2 })
}

// TestDuplicateRequestRecordIsSetAside: a second request record with a
// correlation id already shipped (a request the consumer recorded twice)
// gets the reference's 500; it is set aside at once, with its response,
// and the records behind go on.
func TestDuplicateRequestRecordIsSetAside(t *testing.T) {
	root := t.TempDir()
	srv := logservertest.New(t, token)
	s := openSpool(t, root)
	ids := []string{uid("d0"), uid("d1"), uid("d2")}
	appendRec(t, s, requestRec(ids[0], `{"n":0}`))
	appendRec(t, s, responseRec(ids[0], `{}`))
	appendRec(t, s, requestRec(ids[1], `{"n":1}`))
	appendRec(t, s, requestRec(ids[1], `{"n":1}`)) // again
	appendRec(t, s, responseRec(ids[1], `{}`))
	appendRec(t, s, requestRec(ids[2], `{"n":2}`))
	appendRec(t, s, responseRec(ids[2], `{}`))
	r := startShipper(t, root, srv)
	ev := waitEvents(t, srv, 6)
	checkSequence(t, ev, ids)
	testutil.WaitFor(t, "the duplicate set aside", 30*time.Second, func() bool { return len(rejectedLines(t, root, "v")) == 1 })
	testutil.WaitFor(t, "6 shipped and 1 set aside in the stats", 30*time.Second, func() bool {
		st := r.sh.Stats()
		return st.SetAside == 1 && st.Shipped == 6
	})
}

// TestOutageSetsNothingAside: connection refused, then 503 for every
// post, for longer than a failing record takes to be set aside: every
// record is kept and waits, and all arrive once the server is back.
func TestOutageSetsNothingAside(t *testing.T) {
	root := t.TempDir()
	srv := logservertest.New(t, token)
	srv.Down()
	s := openSpool(t, root)
	var ids []string
	for i := 0; i < 3; i++ {
		ids = append(ids, uid(fmt.Sprint("o-", i)))
		appendRec(t, s, requestRec(ids[i], `{}`))
		appendRec(t, s, responseRec(ids[i], `{}`))
	}
	r := startShipper(t, root, srv)
	testutil.WaitFor(t, "the shipper to find the server down", 30*time.Second, func() bool {
		return strings.Contains(r.logs.String(), "log server unavailable")
	})
	waitPast(t, setAsideAfter*3)
	srv.FailWith(http.StatusServiceUnavailable)
	srv.Up(t)
	before := srv.Posts()
	testutil.WaitFor(t, "retries against 503", 30*time.Second, func() bool { return srv.Posts() > before+setAsideTries*2 })
	waitPast(t, setAsideAfter*3)
	srv.FailWith(0)
	checkSequence(t, waitEvents(t, srv, 6), ids)
	if lines := rejectedLines(t, root, "v"); len(lines) != 0 {
		t.Errorf("set aside during an outage: %+v", lines)
	}
}

// waitPast lets d pass: the condition under test is that nothing happens
// in that time.
func waitPast(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	testutil.WaitFor(t, "time to pass", d+30*time.Second, func() bool { return time.Now().After(deadline) })
}

// TestServerFailingEverythingSetsAsideLittle: while the server answers
// 500 to every record, each record set aside makes the next wait twice as
// long, so few are set aside; once the server recovers the others arrive.
func TestServerFailingEverythingSetsAsideLittle(t *testing.T) {
	root := t.TempDir()
	srv := logservertest.New(t, token)
	srv.FailWith(http.StatusInternalServerError)
	s := openSpool(t, root)
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, uid(fmt.Sprint("e-", i)))
		appendRec(t, s, requestRec(ids[i], `{}`))
		appendRec(t, s, responseRec(ids[i], `{}`))
	}
	startShipper(t, root, srv)
	testutil.WaitFor(t, "a first record set aside", 30*time.Second, func() bool { return len(rejectedLines(t, root, "v")) >= 1 })
	// Set aside after 300ms, then 600ms, then 1.2s: within 1.5s more, at
	// most two more records.
	waitPast(t, 1500*time.Millisecond)
	srv.FailWith(0)
	testutil.WaitFor(t, "every record shipped or set aside", 30*time.Second, func() bool {
		return srv.Accepted()+len(rejectedLines(t, root, "v")) == 2*len(ids)
	})
	aside := len(rejectedLines(t, root, "v"))
	t.Logf("%d of %d records set aside while the server answered 500 to all", aside, 2*len(ids))
	if aside > 4 { // 2 requests and their responses
		t.Errorf("%d records set aside during the failure", aside)
	}
	checkSequence(t, srv.Events(), ids[aside/2:])
}

// TestPostWithoutAnswerIsNotSentTwice: a post that times out after the
// server stored the record is sent again; the server's 500 to the second
// post counts the record as already there, and the others go on.
func TestPostWithoutAnswerIsNotSentTwice(t *testing.T) {
	root := t.TempDir()
	srv := logservertest.New(t, token)
	s := openSpool(t, root)
	ids := []string{uid("t0"), uid("t1")}
	for _, id := range ids {
		appendRec(t, s, requestRec(id, `{}`))
		appendRec(t, s, responseRec(id, `{}`))
	}
	srv.Hold()
	sh := logship.NewShipper(root, logship.ShipperOptions{BaseURL: srv.BaseURL(), Token: token, Poll: 10 * time.Millisecond,
		MaxBackoff: 200 * time.Millisecond, HTTPClient: &http.Client{Timeout: 300 * time.Millisecond}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sh.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	testutil.WaitFor(t, "the resend refused", 30*time.Second, func() bool { return len(srv.Refusals()) >= 1 })
	srv.Release()
	checkSequence(t, waitEvents(t, srv, 4), ids)
	testutil.WaitFor(t, "one record already there, three shipped", 30*time.Second, func() bool {
		st := sh.Stats()
		return st.AlreadyThere >= 1 && st.Shipped+st.AlreadyThere == 4 && st.SetAside == 0
	})
}
