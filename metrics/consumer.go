package metrics

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcome is how a request ended: the value of the outcome label of
// rabbitmq_consumer_requests_total.
type Outcome int

// The outcomes of a request.
const (
	// Success: the handler answered with a success response.
	Success Outcome = iota
	// Failure: the handler answered with a failure response.
	Failure
	// ValidationFailure: the request broke its contract and was answered
	// with the validation errors, without running the handler.
	ValidationFailure
	// UnexpectedError: the handler crashed, timed out or broke its
	// response contract; the caller got an unexpected-error response.
	UnexpectedError
	// FromOutcome: a request delivered again, answered from the recorded
	// outcome of its first run without running the handler again.
	FromOutcome
	// Requeued: not answered, given back to the queue (the consumer was
	// stopping); it is counted again when it is answered.
	Requeued
	// Expired: the caller's deadline passed before the request could
	// start; not run, not answered.
	Expired
	// RetryLater: the handler said "not now, retry later"; not answered,
	// published again through the delay queue to run later, when it is
	// counted again.
	RetryLater
	nOutcomes
)

var outcomeNames = [nOutcomes]string{"success", "failure", "validation_failure", "unexpected_error", "from_outcome", "requeued", "expired", "retry_later"}

// String is the label value.
func (o Outcome) String() string {
	if o < 0 || o >= nOutcomes {
		return "unknown"
	}
	return outcomeNames[o]
}

// DurationBuckets are the request duration histogram's upper bounds in
// seconds: from 5 ms up to 1800 s, the broker's default acknowledgement
// timeout (consumer_timeout), past which a request cannot be answered.
var DurationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800}

// LockWaitBuckets are the lock wait histogram's upper bounds in seconds.
var LockWaitBuckets = []float64{0.0001, 0.001, 0.01, 0.1, 1, 10, 60, 300, 1800}

// OtherExchange is the exchange label of requests that arrive through an
// exchange the virtual host does not configure: bounded, whatever is bound
// to the queue.
const OtherExchange = "other"

// Consumer holds one virtual host's consumer metrics. A nil *Consumer is
// valid and records nothing, so that code paths need no check.
type Consumer struct {
	exchanges  map[string]*Exchange
	other      *Exchange
	reconnects prometheus.Counter
	connected  prometheus.Gauge
	spoolFails prometheus.Counter
}

// Exchange holds the metrics of one exchange, resolved once so that
// recording a request costs no label lookup. A nil *Exchange records
// nothing.
type Exchange struct {
	requests     [nOutcomes]prometheus.Counter
	duration     prometheus.Observer
	inFlight     prometheus.Gauge
	lockWait     prometheus.Observer
	redeliveries prometheus.Counter
	processes    prometheus.Gauge
	restarts     prometheus.Counter
}

// NewConsumer registers on reg the metrics of the consumer of vhost, which
// serves the exchanges named (their label values; any other exchange is
// counted as OtherExchange).
func NewConsumer(reg prometheus.Registerer, vhost string, exchanges []string) (*Consumer, error) {
	vl := prometheus.Labels{"vhost": vhost}
	opts := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: Namespace, Name: name, Help: help, ConstLabels: vl}
	}
	requests := prometheus.NewCounterVec(prometheus.CounterOpts(opts("requests_total",
		"Requests handled, by exchange and outcome (success, failure, validation_failure, unexpected_error, from_outcome, requeued, expired, retry_later).")),
		[]string{"exchange", "outcome"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "request_duration_seconds", ConstLabels: vl,
		Help: "Time from a request's delivery to its answer, for answered requests.", Buckets: DurationBuckets}, []string{"exchange"})
	inFlight := prometheus.NewGaugeVec(prometheus.GaugeOpts(opts("requests_in_flight",
		"Requests being handled now (waiting for their lock or running).")), []string{"exchange"})
	lockWait := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "lock_wait_seconds", ConstLabels: vl,
		Help: "Time a request waited for its lock (its exchange's, or its lock attribute value's) before running.", Buckets: LockWaitBuckets}, []string{"exchange"})
	redeliveries := prometheus.NewCounterVec(prometheus.CounterOpts(opts("redeliveries_total",
		"Requests the broker delivered again (the redelivered flag was set).")), []string{"exchange"})
	processes := prometheus.NewGaugeVec(prometheus.GaugeOpts(opts("handler_processes",
		"Persistent handler processes running.")), []string{"exchange"})
	restarts := prometheus.NewCounterVec(prometheus.CounterOpts(opts("handler_restarts_total",
		"Persistent handler processes replaced after they crashed, timed out or broke the protocol.")), []string{"exchange"})
	c := &Consumer{
		exchanges: map[string]*Exchange{},
		reconnects: prometheus.NewCounter(prometheus.CounterOpts(opts("reconnects_total",
			"Connections to the broker made again after one was lost."))),
		connected: prometheus.NewGauge(prometheus.GaugeOpts(opts("connected",
			"1 while the consumer is connected to the broker and consuming, else 0."))),
		spoolFails: prometheus.NewCounter(prometheus.CounterOpts(opts("spool_write_failures_total",
			"Request or response records that could not be written to the log-shipping spool."))),
	}
	for _, col := range []prometheus.Collector{requests, duration, inFlight, lockWait, redeliveries, processes, restarts, c.reconnects, c.connected, c.spoolFails} {
		if err := reg.Register(col); err != nil {
			return nil, fmt.Errorf("register consumer metrics: %w", err)
		}
	}
	mk := func(ex string) *Exchange {
		e := &Exchange{
			duration:     duration.WithLabelValues(ex),
			inFlight:     inFlight.WithLabelValues(ex),
			lockWait:     lockWait.WithLabelValues(ex),
			redeliveries: redeliveries.WithLabelValues(ex),
			processes:    processes.WithLabelValues(ex),
			restarts:     restarts.WithLabelValues(ex),
		}
		for o := Outcome(0); o < nOutcomes; o++ {
			e.requests[o] = requests.WithLabelValues(ex, o.String())
		}
		return e
	}
	for _, ex := range exchanges {
		c.exchanges[ex] = mk(ex)
	}
	c.other = mk(OtherExchange)
	return c, nil
}

// Exchange returns the metrics of the exchange named; nil for a nil c.
func (c *Consumer) Exchange(name string) *Exchange {
	if c == nil {
		return nil
	}
	if e, ok := c.exchanges[name]; ok {
		return e
	}
	return c.other
}

// Connected records that the consumer consumes (true) or lost its
// connection (false).
func (c *Consumer) Connected(up bool) {
	if c == nil {
		return
	}
	if up {
		c.connected.Set(1)
	} else {
		c.connected.Set(0)
	}
}

// Reconnected counts a connection made again after one was lost.
func (c *Consumer) Reconnected() {
	if c != nil {
		c.reconnects.Inc()
	}
}

// SpoolWriteFailed counts a record the spool could not take.
func (c *Consumer) SpoolWriteFailed() {
	if c != nil {
		c.spoolFails.Inc()
	}
}

// Started records a delivery being taken up; redelivered is its flag.
func (e *Exchange) Started(redelivered bool) {
	if e == nil {
		return
	}
	e.inFlight.Inc()
	if redelivered {
		e.redeliveries.Inc()
	}
}

// Finished records how a request started at start ended. The duration is
// observed for the requests that were answered (not for Requeued, Expired
// and RetryLater).
func (e *Exchange) Finished(o Outcome, start time.Time) {
	if e == nil {
		return
	}
	e.inFlight.Dec()
	if o < 0 || o >= nOutcomes {
		o = UnexpectedError
	}
	e.requests[o].Inc()
	if o != Requeued && o != Expired && o != RetryLater {
		e.duration.Observe(time.Since(start).Seconds())
	}
}

// LockWaited records how long a request waited for its lock.
func (e *Exchange) LockWaited(d time.Duration) {
	if e != nil {
		e.lockWait.Observe(d.Seconds())
	}
}

// ProcessStarted and ProcessEnded track the persistent handler processes
// running.
func (e *Exchange) ProcessStarted() {
	if e != nil {
		e.processes.Inc()
	}
}

// ProcessEnded records a persistent handler process that ended.
func (e *Exchange) ProcessEnded() {
	if e != nil {
		e.processes.Dec()
	}
}

// HandlerRestarted counts a persistent handler process replaced after a
// crash, a timeout or a protocol breach.
func (e *Exchange) HandlerRestarted() {
	if e != nil {
		e.restarts.Inc()
	}
}
