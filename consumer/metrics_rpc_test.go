package consumer

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/handler"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/metrics"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

type verdictRequest struct {
	Answer string `json:"answer"`
}

// verdict answers as asked: success, failure, or an error (unexpected).
func verdict(_ context.Context, _ *handler.Call, r verdictRequest) (wire.Reply[struct{}], error) {
	switch r.Answer {
	case "failure":
		return wire.Reply[struct{}]{Success: false, Message: "as asked"}, nil
	case "error":
		return wire.Reply[struct{}]{}, errors.New("as asked")
	}
	return wire.Reply[struct{}]{Success: true, Message: "as asked"}, nil
}

// metricValue reads one sample of reg: the metric name with the labels
// given (others ignored); a histogram gives its count.
func metricValue(t *testing.T, reg prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	metric:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue metric
				}
			}
			switch {
			case m.Counter != nil:
				return m.GetCounter().GetValue()
			case m.Gauge != nil:
				return m.GetGauge().GetValue()
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	t.Fatalf("no %s%v", name, labels)
	return 0
}

// TestMetricsCountWhatHappens: requests of every outcome, a delivery seen
// twice and a lost connection, counted by a consumer with metrics.
func TestMetricsCountWhatHappens(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := start(t, setup{
		exchanges: []string{"dx_verdict"},
		handlers:  map[string]handler.Handler{"dx_verdict": handler.Typed("answers as asked", verdict)},
		before: func(c *Consumer) {
			m, err := metrics.NewConsumer(reg, c.vh.Name, c.Exchanges())
			if err != nil {
				t.Fatal(err)
			}
			c.metrics = m
		},
	})
	count := func(outcome string) float64 {
		return metricValue(t, reg, "rabbitmq_consumer_requests_total", map[string]string{"exchange": "dx_verdict", "outcome": outcome})
	}
	c := h.caller(true)
	for _, tt := range []struct {
		body    string
		success bool
		outcome string
	}{
		{`{"answer":"success"}`, true, "success"},
		{`{"answer":"failure"}`, false, "failure"},
		{`{"answer":"error"}`, false, "unexpected_error"},
		{`{"answer":7}`, false, "validation_failure"},
		{`[]`, false, "validation_failure"},
	} {
		before := count(tt.outcome)
		_, reply := c.Send("dx_verdict", h.queue(), []byte(tt.body), amqp.Publishing{})
		if r := c.Wait(reply); r.Success != tt.success {
			t.Fatalf("%s: reply %+v", tt.body, r)
		}
		// Counted once settled, just after the reply is published.
		testutil.WaitFor(t, tt.outcome+" counted", 10*time.Second, func() bool { return count(tt.outcome) == before+1 })
	}
	// The same request delivered twice: answered from its first outcome.
	_, first := c.Send("dx_verdict", h.queue(), []byte(`{"answer":"success"}`), amqp.Publishing{CorrelationId: "same-id"})
	c.Wait(first)
	_, again := c.Send("dx_verdict", h.queue(), []byte(`{"answer":"success"}`), amqp.Publishing{CorrelationId: "same-id"})
	c.Wait(again)
	testutil.WaitFor(t, "from_outcome counted", 10*time.Second, func() bool { return count("from_outcome") == 1 })

	if n := metricValue(t, reg, "rabbitmq_consumer_request_duration_seconds", map[string]string{"exchange": "dx_verdict"}); n != 7 {
		t.Errorf("durations observed = %v, want 7 (every answered request)", n)
	}
	if n := metricValue(t, reg, "rabbitmq_consumer_lock_wait_seconds", map[string]string{"exchange": "dx_verdict"}); n != 4 {
		t.Errorf("lock waits observed = %v, want 4 (the valid requests that ran)", n)
	}
	if n := metricValue(t, reg, "rabbitmq_consumer_requests_in_flight", map[string]string{"exchange": "dx_verdict"}); n != 0 {
		t.Errorf("in flight = %v", n)
	}
	connected := func() float64 { return metricValue(t, reg, "rabbitmq_consumer_connected", nil) }
	if connected() != 1 {
		t.Fatal("not connected")
	}
	h.vh.CloseConnectionsMatching(t, "rabbitmq-consumer", "metrics test")
	testutil.WaitFor(t, "the reconnection counted", 30*time.Second, func() bool {
		return metricValue(t, reg, "rabbitmq_consumer_reconnects_total", nil) == 1 && connected() == 1
	})
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if connected() != 0 {
		t.Error("still connected after the stop")
	}
}
