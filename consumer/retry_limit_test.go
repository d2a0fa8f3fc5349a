package consumer

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testrpc"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/metrics"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// TestRetryLimitFromConfig: the virtual host's retry_limit, read from the
// YAML configuration (consumer.Options.RetryLimit left 0), is what ends
// the retries of a handler that always says "not now": with retry_limit N
// it runs N+1 times, then the caller gets the unexpected error. Each
// "not now" is counted as outcome retry_later (not requeued), the last run
// as unexpected_error.
func TestRetryLimitFromConfig(t *testing.T) {
	for _, limit := range []int{1, 2} {
		t.Run(fmt.Sprintf("retry_limit %d", limit), func(t *testing.T) {
			yml := fmt.Sprintf("virtual_hosts: {v: {queue: q, retry_limit: %d, exchanges: {dx_later: {}}}}\n", limit)
			cfg, err := config.Parse("rabbitmq.yml", []byte(yml))
			if err != nil {
				t.Fatal(err)
			}
			dir, state := t.TempDir(), t.TempDir()
			runs := writeLater(t, dir, state, "dx_later", 100, 0.2, false)
			reg := prometheus.NewRegistry()
			h := start(t, setup{
				exchanges: []string{"dx_later"}, handlersDir: dir,
				retryLimit: cfg.VirtualHosts["v"].RetryLimit,
				before: func(c *Consumer) {
					m, err := metrics.NewConsumer(reg, c.vh.Name, c.Exchanges())
					if err != nil {
						t.Fatal(err)
					}
					c.metrics = m
				},
			})
			r, err := testrpc.ReferenceCall(h.vh.URL(), "dx_later", h.queue(), []byte(`{}`), 60*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if r.Success || r.Message != wire.MessageUnexpectedError {
				t.Errorf("reply = %+v, want the unexpected error", r)
			}
			if n := len(runs()); n != limit+1 {
				t.Errorf("%d runs, want %d (retry_limit %d)", n, limit+1, limit)
			}
			count := func(outcome string) float64 {
				return metricValue(t, reg, "rabbitmq_consumer_requests_total", map[string]string{"exchange": "dx_later", "outcome": outcome})
			}
			testutil.WaitFor(t, "the last run counted", 10*time.Second, func() bool { return count("unexpected_error") == 1 })
			if got := count("retry_later"); got != float64(limit) {
				t.Errorf("retry_later = %v, want %d", got, limit)
			}
			if got := count("requeued"); got != 0 {
				t.Errorf("requeued = %v, want 0", got)
			}
		})
	}
}
