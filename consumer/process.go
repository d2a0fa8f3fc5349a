package consumer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship"
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
	body          []byte
	callBody      []byte // the request as the handler gets it: decrypted, defaults applied
}

// result is what the pipeline decided for one delivery.
type result struct {
	// reply is the response body to publish; nil when no reply is possible.
	reply []byte
	// requeue gives the message back to the queue: it was not started
	// (draining) or was killed by a forced stop.
	requeue bool
}

// process runs the whole pipeline for one request: check, decode, decrypt,
// apply defaults, validate, lock, run the handler, check its response.
// stopping ends when the consumer stops taking work (a request still
// waiting for its lock then goes back to the queue); abort ends when
// running handlers must be killed.
func (c *Consumer) process(stopping, abort context.Context, log *requestLog, in incoming) result {
	start := time.Now()
	if in.replyTo == "" {
		log.Error().Int("bytes", len(in.body)).Msg("request has no reply_to property: it cannot be answered; acknowledged and dropped")
		return result{}
	}
	rt := c.routes[in.exchange]
	var (
		obj    map[string]any
		fields []string
		errs   []wire.ValidationError
		lock   string // the request's lock key
		proven bool   // proven valid from its bytes, not decoded
	)
	switch {
	case in.correlationID == "":
		errs = []wire.ValidationError{{Location: []any{}, Message: "the request has no correlation_id property", Type: "missing_correlation_id"}}
	case rt == nil:
		errs = []wire.ValidationError{{Location: []any{}, Message: fmt.Sprintf("no handler serves exchange %q on this virtual host", in.exchange), Type: "unknown_exchange"}}
	case len(in.body) > c.maxRequestBytes:
		errs = []wire.ValidationError{{Location: []any{}, Message: fmt.Sprintf("the request body is %d bytes, more than the limit of %d", len(in.body), c.maxRequestBytes), Type: "too_large"}}
	default:
		if lock, proven = c.quickRequest(rt, in.body); proven {
			break
		}
		var err error
		if obj, err = decodeObject(in.body); err != nil {
			errs = []wire.ValidationError{decodeFailure(err)}
		}
	}
	var payload json.RawMessage
	switch {
	case proven:
		payload = compact(in.body)
		in.callBody = payload
	case obj != nil:
		fields = decryptFields(obj, c.keys)
		changed := rt.defaults.apply(obj)
		if len(fields) == 0 && !changed {
			// As it came (compacted): no need to encode it again.
			payload = compact(in.body)
			in.callBody = payload
		} else {
			payload = masked(obj, fields)
			in.callBody, _ = json.Marshal(obj)
		}
		if errs = plaintextErrors(obj, fields); len(errs) == 0 {
			errs = rt.request.check(obj)
		}
		lock = lockKey(rt, obj)
	default:
		payload, _ = json.Marshal(truncate(string(in.body), 65536))
	}
	log.Info().RawJSON("request", logBody(payload)).Bool("redelivered", in.redelivered).Msg("request received")
	// Journaled once the request will not go back to the queue: a request
	// run again after a requeue must not reach the log server twice.
	request := logship.Record{
		Kind: logship.KindRequest, CorrelationID: in.correlationID, RequestPayload: payload,
		VirtualHostName: c.vh.Name, QueueName: c.vh.Queue, RabbitMQUsername: c.cfg.Server.Username,
		Hostname: c.hostname, ExchangeName: in.exchange,
	}

	var resp any
	var traceback string
	if len(errs) > 0 {
		c.journal(request)
		resp = wire.ValidationFailure(errs)
		log.Warn().Interface("errors", errs).Msg("request validation failed")
	} else {
		r, tb, requeue, expired := c.answer(stopping, abort, log, rt, in, obj, lock)
		if requeue {
			return result{requeue: true}
		}
		c.journal(request)
		if expired {
			tb := "expired: the caller's deadline passed before the request could start"
			c.journal(logship.Record{Kind: logship.KindResponse, CorrelationID: in.correlationID, ResponsePayload: json.RawMessage("null"), Traceback: &tb})
			return result{}
		}
		resp, traceback = r, tb
	}
	var reply []byte
	if raw, ok := resp.(json.RawMessage); ok {
		reply = raw // the handler's own response, checked and compacted
	} else {
		reply = mustJSON(resp)
	}
	secrets := secretsOf(obj, fields)
	shown := maskSecrets(reply, secrets)
	for _, s := range secrets {
		traceback = strings.ReplaceAll(traceback, s, Mask)
	}
	ev := log.Info()
	if traceback != "" {
		ev = log.Error().Str("traceback", traceback)
	}
	ev.RawJSON("response", logBody(shown)).Dur("duration", time.Since(start)).Msg("request answered")
	rec := logship.Record{Kind: logship.KindResponse, CorrelationID: in.correlationID, ResponsePayload: shown}
	if traceback != "" {
		rec.Traceback = &traceback
	}
	c.journal(rec)
	return result{reply: reply}
}

// answer produces the response of a valid request: from the mock, or by
// running the handler under its lock.
// The response is a wire.Response, or the handler's checked response as
// json.RawMessage.
func (c *Consumer) answer(stopping, abort context.Context, log *requestLog, rt *route, in incoming, obj map[string]any, lock string) (resp any, traceback string, requeue, expired bool) {
	if c.cfg.Mock {
		r, err := rt.mockResponse(obj)
		if err != nil {
			return wire.UnexpectedFailure(), "mock: " + err.Error(), false, false
		}
		return r, "", false, false
	}
	unlock, err := c.locks.lock(stopping, lock)
	if err != nil {
		log.Info().Msg("consumer stopping before the request started: returned to the queue")
		return wire.Response{}, "", true, false
	}
	defer unlock()
	if !in.deadline.IsZero() && time.Now().After(in.deadline) {
		log.Warn().Time("deadline", in.deadline).Msg("the caller's deadline passed before the request could start: not run, not answered")
		return wire.Response{}, "", false, true
	}
	call := &Call{Exchange: in.exchange, CorrelationID: in.correlationID, VirtualHost: c.vh.Name, Redelivered: in.redelivered, Deadline: in.deadline, Body: in.callBody}
	raw, err := c.run(abort, log, rt, call)
	_, wellFormed := rt.handler.(encodesJSON)
	if err == nil && !rt.quickResponse(raw, wellFormed) {
		if err = rt.checkResponse(raw); err != nil {
			err = fmt.Errorf("%w\nresponse: %s", err, truncate(string(raw), 2048))
		}
	}
	if err != nil {
		if abort.Err() != nil {
			log.Warn().Err(err).Msg("handler killed by a forced stop: the request goes back to the queue")
			return wire.Response{}, "", true, false
		}
		var he *HandlerError
		if errors.As(err, &he) {
			return wire.UnexpectedFailure(), he.Traceback(), false, false
		}
		return wire.UnexpectedFailure(), err.Error(), false, false
	}
	if wellFormed {
		return raw, "", false, false // compact already
	}
	return json.RawMessage(compact(raw)), "", false, false
}

// compact elides the insignificant spaces of valid JSON; JSON without any
// space is returned as it is.
func compact(valid []byte) []byte {
	if !bytes.ContainsAny(valid, " \t\r\n") {
		return valid
	}
	var buf bytes.Buffer
	buf.Grow(len(valid))
	_ = json.Compact(&buf, valid)
	return buf.Bytes()
}

// run runs the handler with its timeout and waits for it.
func (c *Consumer) run(abort context.Context, log *requestLog, rt *route, call *Call) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(abort, rt.Timeout())
	defer cancel()
	ctx = withRequestLog(ctx, log)
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
	reason := fmt.Sprintf("handler timed out after %v", rt.Timeout())
	if abort.Err() != nil {
		reason = "handler stopped: consumer stopping"
	}
	grace := time.NewTimer(handlerGrace)
	defer grace.Stop()
	select {
	case r := <-done:
		var he *HandlerError
		if errors.As(r.err, &he) {
			return nil, he
		}
		return nil, &HandlerError{Reason: reason, ExitStatus: -1}
	case <-grace.C:
		log.Error().Msg("handler did not stop within " + handlerGrace.String() + " of its deadline; giving up on it")
		return nil, &HandlerError{Reason: reason + " and did not stop", ExitStatus: -1}
	}
}

// quickRequest proves a request valid straight from its bytes, when
// nothing needs its decoded form: no defaults to apply, not mock mode, no
// top-level string that may be a Fernet token, and a lock value whose bytes
// are what lockKey makes of it. It returns the request's lock key.
func (c *Consumer) quickRequest(rt *route, body []byte) (string, bool) {
	if rt.defaults != nil || c.cfg.Mock {
		return "", false
	}
	top := rawTop{lockAttribute: rt.LockAttribute, tokens: len(c.keys) > 0}
	if !rt.request.quick.proveObject(body, &top) || top.maybeToken {
		return "", false
	}
	if rt.LockAttribute == "" {
		return rt.exchange, true
	}
	v := top.lockValue
	if v == nil {
		v = []byte("null")
	}
	if !encodesAsItself(v) {
		return "", false
	}
	return rt.exchange + "\x00" + string(v), true
}

// encodesAsItself is true for a JSON scalar that encoding/json, decoding
// and encoding it again, writes back byte for byte: a number, true, false,
// null, or a string without escapes or the characters it escapes.
func encodesAsItself(v []byte) bool {
	switch v[0] {
	case '{', '[':
		return false
	case '"':
		s, _, plain := rawString(v, 0)
		return plain && !bytes.ContainsAny(s, "<>&\u2028\u2029")
	}
	return true
}

// lockKey is the lock a request takes: its exchange's, or the exchange's
// for the value of the lock attribute.
func lockKey(rt *route, obj map[string]any) string {
	if rt.LockAttribute == "" {
		return rt.exchange
	}
	v, _ := json.Marshal(obj[rt.LockAttribute])
	return rt.exchange + "\x00" + string(v)
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
	rec.Time = time.Now().UTC()
	if err := c.spool.Append(rec); err != nil {
		c.log.Error().Err(err).Str("correlation_id", rec.CorrelationID).Msg("cannot write log record to the spool")
	}
}
