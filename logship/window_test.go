package logship_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship/logservertest"
)

// TestResponseWaitsForItsRequestsAnswer: the shipper posts several
// records at once, but a response only once its request was answered 201:
// while the server holds its answers to the requests (stored), no
// response arrives; once it answers, every response does.
func TestResponseWaitsForItsRequestsAnswer(t *testing.T) {
	root := t.TempDir()
	srv := logservertest.New(t, token)
	s := openSpool(t, root)
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, uid(fmt.Sprint("w-", i)))
		appendRec(t, s, requestRec(ids[i], `{}`))
		appendRec(t, s, responseRec(ids[i], `{}`))
	}
	srv.Hold()
	startShipper(t, root, srv)
	for _, e := range waitEvents(t, srv, len(ids)) {
		if e.Kind != "request" {
			t.Fatalf("%s %s stored while the requests' answers were held", e.Kind, e.CorrelationID)
		}
	}
	waitPast(t, 300*time.Millisecond)
	if n := len(srv.Events()); n != len(ids) {
		t.Fatalf("%d records stored while the requests' answers were held, want the %d requests", n, len(ids))
	}
	srv.Release()
	checkSequence(t, waitEvents(t, srv, 2*len(ids)), ids)
	if r := srv.Refusals(); len(r) != 0 {
		t.Errorf("refusals: %+v", r)
	}
}

// TestKillWithWindowResendsNoAcceptedRecord: the shipper is killed while
// the first request is retried (the server answers it 503) and the records
// behind it were accepted; the position cannot move past the first
// request, but it records which records after it were handled, so the
// restarted shipper posts only the first request and its response: no
// record accepted before the kill is posted again (the reference would
// answer it 500), none is lost.
func TestKillWithWindowResendsNoAcceptedRecord(t *testing.T) {
	root := t.TempDir()
	srv := logservertest.New(t, token)
	const pairs = 5
	backlog(t, root, pairs)
	var ids []string
	for i := 0; i < pairs; i++ {
		ids = append(ids, uid(fmt.Sprintf("v-%d", i)))
	}
	srv.FailOn("request", ids[0], http.StatusServiceUnavailable)
	cfg := writeConfig(t, root, srv.BaseURL(), token)
	p := startShipperProcess(t, cfg)
	waitEvents(t, srv, 2*pairs-2) // all but the first pair
	// Their answers recorded: the position file marks the records after
	// the first pair handled (bits 2 to 9 of its mask).
	testutil.WaitFor(t, "the accepted records recorded as handled", 30*time.Second, func() bool {
		b, _ := os.ReadFile(filepath.Join(root, "v", "position"))
		f := strings.Fields(string(b))
		return len(f) == 5 && f[4] == "3fc"
	})
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait(t)
	srv.FailOn("request", ids[0], 0)
	startShipperProcess(t, cfg)
	checkSequence(t, waitEvents(t, srv, 2*pairs), append(ids[1:], ids[0]))
	for _, rf := range srv.Refusals() {
		if rf.Status != http.StatusServiceUnavailable {
			t.Errorf("refusal %+v: a record accepted before the kill was posted again", rf)
		}
	}
	testutil.WaitFor(t, "the position past every record", 30*time.Second, func() bool {
		b, _ := logship.NewShipper(root, logship.ShipperOptions{}).Backlog()
		return b == 0
	})
}
