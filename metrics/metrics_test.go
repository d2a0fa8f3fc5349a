package metrics

import (
	"bytes"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type fakeShipper struct{}

func (fakeShipper) Stats() logship.Stats {
	return logship.Stats{Shipped: 10, SetAside: 1, AlreadyThere: 2, PostFailures: 3, ProgressSkipped: 4}
}
func (fakeShipper) Backlogs() map[string]logship.VHostBacklog {
	return map[string]logship.VHostBacklog{"trees": {Bytes: 4096, Files: 2}, "a/b": {}}
}

// scrape serves reg on a real socket and returns its /metrics page.
func scrape(t *testing.T, build func(*testing.T) http.Handler) string {
	t.Helper()
	srv, err := Listen("127.0.0.1:0", build(t))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	}()
	resp, err := http.Get("http://" + srv.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

func consumerEndpoint(t *testing.T) http.Handler {
	reg := NewRegistry()
	c, err := NewConsumer(reg, "trees", []string{"dx_create_tree", "dx_delete_tree"})
	if err != nil {
		t.Fatal(err)
	}
	c.Connected(true)
	c.Reconnected()
	c.SpoolWriteFailed()
	e := c.Exchange("dx_create_tree")
	start := time.Now().Add(-1500 * time.Millisecond)
	for o := Outcome(0); o < nOutcomes; o++ {
		e.Started(o == FromOutcome)
		e.Finished(o, start)
	}
	e.LockWaited(20 * time.Millisecond)
	e.ProcessStarted()
	e.HandlerRestarted()
	c.Exchange("not-configured").Started(false)
	return Mux(reg, nil)
}

func shipperEndpoint(t *testing.T) http.Handler {
	reg := NewRegistry()
	if err := RegisterShipper(reg, fakeShipper{}); err != nil {
		t.Fatal(err)
	}
	return Mux(reg, nil)
}

// TestEndpointsPassPromtool: `promtool check metrics` (the linter of
// Prometheus's naming conventions) prints nothing for either endpoint.
func TestEndpointsPassPromtool(t *testing.T) {
	tests := []struct {
		name  string
		build func(*testing.T) http.Handler
		want  []string
	}{
		{"consumer", consumerEndpoint, []string{
			`rabbitmq_consumer_requests_total{exchange="dx_create_tree",outcome="success",vhost="trees"} 1`,
			`rabbitmq_consumer_requests_total{exchange="dx_create_tree",outcome="from_outcome",vhost="trees"} 1`,
			`rabbitmq_consumer_requests_total{exchange="dx_delete_tree",outcome="validation_failure",vhost="trees"} 0`,
			`rabbitmq_consumer_requests_total{exchange="dx_create_tree",outcome="retry_later",vhost="trees"} 1`,
			`rabbitmq_consumer_request_duration_seconds_bucket{exchange="dx_create_tree",vhost="trees",le="1800"} 5`,
			`rabbitmq_consumer_request_duration_seconds_bucket{exchange="dx_create_tree",vhost="trees",le="1"} 0`,
			`rabbitmq_consumer_requests_in_flight{exchange="dx_create_tree",vhost="trees"} 0`,
			`rabbitmq_consumer_requests_in_flight{exchange="other",vhost="trees"} 1`,
			`rabbitmq_consumer_redeliveries_total{exchange="dx_create_tree",vhost="trees"} 1`,
			`rabbitmq_consumer_lock_wait_seconds_count{exchange="dx_create_tree",vhost="trees"} 1`,
			`rabbitmq_consumer_handler_processes{exchange="dx_create_tree",vhost="trees"} 1`,
			`rabbitmq_consumer_handler_restarts_total{exchange="dx_create_tree",vhost="trees"} 1`,
			`rabbitmq_consumer_connected{vhost="trees"} 1`,
			`rabbitmq_consumer_reconnects_total{vhost="trees"} 1`,
			`rabbitmq_consumer_spool_write_failures_total{vhost="trees"} 1`,
			"go_goroutines ", "process_resident_memory_bytes ",
		}},
		{"shipper", shipperEndpoint, []string{
			`rabbitmq_consumer_logship_backlog_bytes{vhost="trees"} 4096`,
			`rabbitmq_consumer_logship_backlog_bytes{vhost="a/b"} 0`,
			`rabbitmq_consumer_logship_spool_files{vhost="trees"} 2`,
			"rabbitmq_consumer_logship_records_shipped_total 10",
			"rabbitmq_consumer_logship_records_set_aside_total 1",
			"rabbitmq_consumer_logship_records_already_there_total 2",
			"rabbitmq_consumer_logship_progress_skipped_total 4",
			"rabbitmq_consumer_logship_post_failures_total 3",
			"go_goroutines ", "process_resident_memory_bytes ",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := scrape(t, tt.build)
			for _, w := range tt.want {
				if !strings.Contains(page, w) {
					t.Errorf("the page lacks %q", w)
				}
			}
			cmd := exec.Command("promtool", "check", "metrics")
			cmd.Stdin = strings.NewReader(page)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil || out.Len() > 0 {
				t.Errorf("promtool check metrics: %v\n%s", err, out.String())
			}
		})
	}
}

func TestNilRecordsNothing(t *testing.T) {
	var c *Consumer
	c.Connected(true)
	c.Reconnected()
	c.SpoolWriteFailed()
	e := c.Exchange("x")
	e.Started(true)
	e.Finished(Success, time.Now())
	e.LockWaited(time.Second)
	e.ProcessStarted()
	e.ProcessEnded()
	e.HandlerRestarted()
	if e != nil {
		t.Fatal("a nil Consumer gave an Exchange")
	}
}

func TestRegisterTwiceFails(t *testing.T) {
	reg := NewRegistry()
	if _, err := NewConsumer(reg, "v", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := NewConsumer(reg, "v", nil); err == nil || !strings.Contains(err.Error(), "register consumer metrics") {
		t.Fatalf("second registration: %v", err)
	}
}
