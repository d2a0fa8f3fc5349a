package consumer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/contract"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/handler"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/metrics"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// handlerGrace is how long a handler that has been told to stop (timeout,
// forced shutdown) is waited for before it is given up on.
const handlerGrace = 5 * time.Second

// incoming is one delivery as the pipeline sees it, free of AMQP.
type incoming struct {
	exchange      string
	correlationID string
	replyTo       string
	redelivered   bool
	deadline      time.Time // zero: none
	// acceptProgress is true when the caller asked for progress updates
	// (wire.AcceptProgressHeader).
	acceptProgress bool
	// attempt counts the runs of the request (see attemptHeader).
	attempt int
	// channelAlive, when set (locks_across_hosts), reports whether the
	// channel the request came on is still open: when it is not, the
	// broker has given the request back to the queue.
	channelAlive func() bool
	// key is the request's outcome key (see outcomeKey), set by respond.
	key      string
	body     []byte
	callBody []byte // the request as the handler gets it: decrypted, defaults applied
}

// result is what the pipeline decided for one delivery.
type result struct {
	// reply is the response body to publish; nil when no reply is possible.
	reply []byte
	// requeue gives the message back to the queue: it was not started
	// (draining) or was killed by a forced stop.
	requeue bool
	// outcome is how the request ended, for the metrics.
	outcome metrics.Outcome
	// retry publishes the request again, through the delay queue, to
	// run after retryAfter; it has no reply.
	retry      bool
	retryAfter time.Duration
}

// process runs the whole pipeline for one request: check, decode, decrypt,
// apply defaults, validate, lock, run the handler, check its response.
// stopping ends when the consumer stops taking work (a request still
// waiting for its lock then goes back to the queue); abort ends when
// running handlers must be killed. The locks taken are added to held, for
// the caller to release once the outcome is recorded.
func (c *Consumer) process(stopping, abort context.Context, log *requestLog, in incoming, held *heldLocks) result {
	start := time.Now()
	if in.replyTo == "" {
		log.Error().Int("bytes", len(in.body)).Msg("request has no reply_to property: it cannot be answered; acknowledged and dropped")
		return result{outcome: metrics.ValidationFailure}
	}
	rt := c.routes[in.exchange]
	req := c.check(rt, &in)
	log.Info().RawJSON("request", logBody(req.payload)).Bool("redelivered", in.redelivered).Msg("request received")
	// The request record is journaled at the handler's first progress
	// update, or once the request will not go back to the queue: a
	// request run again after a requeue reaches the log server twice only
	// when its first run reported progress (see runJournal).
	jr := c.newRunJournal(in, req)
	var a answer
	if len(req.errs) > 0 {
		jr.requestOnce()
		a = answer{reply: encodeReply(wire.ValidationFailure(req.errs))}
		log.Warn().Interface("errors", req.errs).Msg("request validation failed")
	} else {
		a = c.answer(stopping, abort, log, rt, in, req.obj, req.lock, held, jr)
		switch a.fate {
		case recalled:
			return result{reply: a.reply, outcome: metrics.FromOutcome}
		case requeued:
			return result{requeue: true, outcome: metrics.Requeued}
		case retryLater:
			return result{retry: true, retryAfter: a.retryAfter, outcome: metrics.RetryLater}
		case expired:
			jr.requestOnce()
			tb := "expired: the caller's deadline passed before the request could start"
			c.journal(logship.Record{Kind: logship.KindResponse, CorrelationID: in.correlationID, ResponsePayload: json.RawMessage("null"), Traceback: &tb})
			return result{outcome: metrics.Expired}
		case answered:
			jr.requestOnce()
		}
	}
	c.record(log, in, jr.secrets, a, time.Since(start))
	return result{reply: a.reply, outcome: outcomeOf(len(req.errs) > 0, a.traceback != "", a.reply)}
}

// checked is a request after its checks.
type checked struct {
	// obj is the decoded request, decrypted, with its defaults; nil when
	// it was proven valid from its bytes, or refused before decoding.
	obj map[string]any
	// fields are the names of the fields decrypted.
	fields []string
	// errs say why the request is refused; none when it is valid.
	errs []wire.ValidationError
	// lock is the request's lock key.
	lock string
	// payload is the request as logged and journaled, decrypted fields
	// masked.
	payload json.RawMessage
}

// check checks a request (correlation id, exchange, size), decodes,
// decrypts and validates it, with its defaults applied, unless the quick
// checks prove it valid from its bytes. It sets in.callBody to the request
// as the handler gets it.
func (c *Consumer) check(rt *route, in *incoming) checked {
	var req checked
	proven := false // proven valid from its bytes, not decoded
	switch {
	case in.correlationID == "":
		req.errs = []wire.ValidationError{{Location: []any{}, Message: "the request has no correlation_id property", Type: "missing_correlation_id"}}
	case rt == nil:
		req.errs = []wire.ValidationError{{Location: []any{}, Message: fmt.Sprintf("no handler serves exchange %q on this virtual host", in.exchange), Type: "unknown_exchange"}}
	case len(in.body) > c.maxRequestBytes:
		req.errs = []wire.ValidationError{{Location: []any{}, Message: fmt.Sprintf("the request body is %d bytes, more than the limit of %d", len(in.body), c.maxRequestBytes), Type: "too_large"}}
	default:
		if req.lock, proven = c.proveRequest(rt, in.body); proven {
			break
		}
		req.obj, req.errs = contract.DecodeRequest(in.body)
	}
	switch {
	case proven:
		req.payload = contract.Compact(in.body)
		in.callBody = req.payload
	case req.obj != nil:
		req.fields = decryptFields(req.obj, c.keys)
		changed := rt.contract.ApplyDefaults(req.obj)
		if len(req.fields) == 0 && !changed {
			// As it came (compacted): no need to encode it again.
			req.payload = contract.Compact(in.body)
			in.callBody = req.payload
		} else {
			req.payload = masked(req.obj, req.fields)
			in.callBody, _ = json.Marshal(req.obj)
		}
		if req.errs = contract.PlaintextErrors(req.obj, req.fields); len(req.errs) == 0 {
			req.errs = rt.contract.CheckRequest(req.obj)
		}
		req.lock = rt.lockKey(rt.contract.LockValue(req.obj))
	default:
		req.payload, _ = json.Marshal(truncate(string(in.body), 65536))
	}
	return req
}

// record logs and journals the answer of a request, its decrypted values
// (secrets) masked.
func (c *Consumer) record(log *requestLog, in incoming, secrets []string, a answer, took time.Duration) {
	traceback := a.traceback
	shown := maskSecrets(a.reply, secrets)
	for _, s := range secrets {
		traceback = strings.ReplaceAll(traceback, s, Mask)
	}
	ev := log.Info()
	if traceback != "" {
		ev = log.Error().Str("traceback", traceback)
	}
	ev.RawJSON("response", logBody(shown)).Dur("duration", took).Msg("request answered")
	rec := logship.Record{Kind: logship.KindResponse, CorrelationID: in.correlationID, ResponsePayload: shown}
	if traceback != "" {
		rec.Traceback = &traceback
	}
	c.journal(rec)
}

// answer is what became of a valid request.
type answer struct {
	// fate says whether the request was answered, goes back to the
	// queue, or expired.
	fate fate
	// reply is the response body to publish (answered only): the
	// handler's own response, checked and compact, or an encoded
	// wire.Response.
	reply []byte
	// traceback holds the details of a failure, for the log and the log
	// server; empty on success.
	traceback string
	// retryAfter is the delay before the request runs again (retryLater).
	retryAfter time.Duration
}

// fate is what became of a valid request.
type fate int

const (
	// answered: the request has its reply.
	answered fate = iota
	// requeued: the request goes back to the queue, not started (the
	// consumer stopped before it got its lock) or killed by a forced stop.
	requeued
	// expired: the caller's deadline passed before the request could
	// start; it is neither run nor answered.
	expired
	// retryLater: the handler said "not now"; the request is published
	// again after a delay.
	retryLater
	// recalled: the request was delivered again and another consumer
	// instance had recorded its outcome (locks_across_hosts): answered
	// from it, not run.
	recalled
)

// answer produces the response of a valid request: from the mock, or by
// running the handler under its lock (held: see process). With
// locks_across_hosts the lock is held across hosts too, as a lease, and a
// request delivered again is answered from the outcome another instance
// recorded, if any. jr journals its progress.
func (c *Consumer) answer(stopping, abort context.Context, log *requestLog, rt *route, in incoming, obj map[string]any, lock string, held *heldLocks, jr *runJournal) answer {
	if c.cfg.Mock {
		r, err := rt.contract.MockResponse(obj)
		if err != nil {
			return failed("mock: " + err.Error())
		}
		return answer{reply: encodeReply(r)}
	}
	waitStart := time.Now()
	unlock, err := c.locks.lock(stopping, lock)
	contended := false // another instance held the lease first
	if err == nil {
		held.add(unlock)
		if c.vh.LocksAcrossHosts {
			var release func()
			if release, contended, err = c.takeLease(stopping, log, in, lock); err == nil {
				held.add(release)
			}
		}
	}
	c.metrics.Exchange(in.exchange).LockWaited(time.Since(waitStart))
	if err != nil {
		log.Info().Msg("consumer stopping before the request started: returned to the queue")
		return answer{fate: requeued}
	}
	if c.vh.LocksAcrossHosts {
		if a, done := c.answeredElsewhere(stopping, log, in, contended); done {
			return a
		}
	}
	if !in.deadline.IsZero() && time.Now().After(in.deadline) {
		log.Warn().Time("deadline", in.deadline).Msg("the caller's deadline passed before the request could start: not run, not answered")
		return answer{fate: expired}
	}
	call := &handler.Call{Exchange: in.exchange, CorrelationID: in.correlationID, VirtualHost: c.vh.Name, Redelivered: in.redelivered, Attempt: in.attempt, Deadline: in.deadline, Body: in.callBody}
	progress, flushProgress := c.withProgress(abort, log, in, jr)
	raw, err := c.run(progress, log, rt, call)
	var later *handler.RetryLaterError
	if errors.As(err, &later) {
		a := c.retryLater(log, in, later.After)
		if a.fate == retryLater {
			handler.Progress(progress, wire.Progress{State: "Waiting", Message: fmt.Sprintf("not now: runs again in %v (attempt %d)", later.After, in.attempt+1)})
		}
		flushProgress()
		return a
	}
	flushProgress() // the last update goes before the reply
	wellFormed := handler.EncodesJSON(rt.handler)
	if err == nil && !rt.contract.ProveResponse(raw, wellFormed) {
		if err = rt.contract.CheckResponse(raw); err != nil {
			err = fmt.Errorf("%w\nresponse: %s", err, truncate(string(raw), 2048))
		}
	}
	if err != nil {
		if abort.Err() != nil {
			log.Warn().Err(err).Msg("handler killed by a forced stop: the request goes back to the queue")
			return answer{fate: requeued}
		}
		var he *handler.Error
		if errors.As(err, &he) {
			return failed(he.Traceback())
		}
		return failed(err.Error())
	}
	if wellFormed {
		return answer{reply: raw} // compact already
	}
	return answer{reply: contract.Compact(raw)}
}

// failed is the answer of a request whose handler failed: the unexpected
// error, with the failure's details.
func failed(traceback string) answer {
	return answer{reply: encodeReply(wire.UnexpectedFailure()), traceback: traceback}
}

// encodeReply encodes a reply the consumer makes itself.
func encodeReply[T any](r wire.Reply[T]) []byte {
	b, err := json.Marshal(r)
	if err != nil {
		panic(fmt.Sprintf("consumer: cannot encode a reply: %v", err)) // the consumer's own types always encode
	}
	return b
}

// run runs the handler with its timeout and waits for it.
func (c *Consumer) run(abort context.Context, log *requestLog, rt *route, call *handler.Call) (json.RawMessage, error) {
	timeout := rt.contract.Contract().Timeout()
	ctx, cancel := context.WithTimeout(abort, timeout)
	defer cancel()
	ctx = handler.WithRequestLog(ctx, log)
	if handler.StopsWithContext(rt.handler) {
		// No goroutine to watch the deadline: the handler returns when
		// ctx ends. One hand-over less per request.
		return rt.handler.Handle(ctx, call)
	}
	type ran struct {
		raw json.RawMessage
		err error
	}
	done := make(chan ran, 1)
	go func() {
		raw, err := rt.handler.Handle(ctx, call)
		done <- ran{raw, err}
	}()
	select {
	case r := <-done:
		return r.raw, r.err
	case <-ctx.Done():
	}
	reason := fmt.Sprintf("handler timed out after %v", timeout)
	if abort.Err() != nil {
		reason = "handler stopped: consumer stopping"
	}
	grace := time.NewTimer(handlerGrace)
	defer grace.Stop()
	select {
	case r := <-done:
		var he *handler.Error
		if errors.As(r.err, &he) {
			return nil, he
		}
		return nil, &handler.Error{Reason: reason, ExitStatus: -1}
	case <-grace.C:
		log.Error().Msg("handler did not stop within " + handlerGrace.String() + " of its deadline; giving up on it")
		return nil, &handler.Error{Reason: reason + " and did not stop", ExitStatus: -1}
	}
}

// proveRequest proves a request valid straight from its bytes, when
// nothing needs its decoded form (see contract.Compiled.ProveRequest; mock
// mode needs it too). It returns the request's lock key.
func (c *Consumer) proveRequest(rt *route, body []byte) (string, bool) {
	if c.cfg.Mock {
		return "", false
	}
	v, proven := rt.contract.ProveRequest(body, len(c.keys) > 0)
	if !proven {
		return "", false
	}
	return rt.lockKey(v), true
}

// lockKey is the lock a request takes, given its lock value (see
// contract.Compiled.LockValue): its exchange's, or the exchange's for the
// value.
func (rt *route) lockKey(value string) string {
	if value == "" {
		return rt.exchange
	}
	return rt.exchange + "\x00" + value
}

// truncate cuts s to n bytes, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// logBody keeps logged bodies short.
func logBody(b []byte) []byte {
	const max = 4096
	if len(b) <= max {
		return b
	}
	s, _ := json.Marshal(fmt.Sprintf("%s... (%d bytes)", b[:max], len(b)))
	return s
}

func (c *Consumer) journal(rec logship.Record) {
	if c.spool == nil || rec.CorrelationID == "" {
		return
	}
	if rec.Time.IsZero() {
		rec.Time = time.Now().UTC()
	}
	if err := c.spool.Append(rec); err != nil {
		c.metrics.SpoolWriteFailed()
		c.log.Error().Err(err).Str("correlation_id", rec.CorrelationID).Msg("cannot write log record to the spool")
	}
}
