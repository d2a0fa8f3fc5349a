package consumer

import (
	"context"
	"errors"
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/metrics"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// ErrDrainTimeout is returned by Run when a stop gave up on running
// requests (drain timeout or Abort); their messages went back to the queue.
var ErrDrainTimeout = errors.New("stopped before every running request finished; their messages went back to the queue")

// Run serves the virtual host until ctx is done, reconnecting whenever the
// broker goes away. When ctx is done it stops taking requests, lets running
// ones finish within the drain timeout (or until Abort), answers and
// acknowledges them, and returns nil; requests not started stay in the
// queue. It fails at once only when the first connection is refused in a
// way retrying cannot fix (*BrokerRefusedError).
func (c *Consumer) Run(ctx context.Context) error {
	defer c.Close() // after the drain: handlers and the outcomes file
	stopping, stop := context.WithCancel(context.Background())
	defer stop()
	abort, abortNow := context.WithCancel(context.Background())
	defer abortNow()
	defer c.startWorkers(c.vh.MaxSimultaneousRequests)()

	served := false
	attempt := 0
	var lastErr string
	for ctx.Err() == nil {
		s, err := c.connect(ctx)
		if err != nil {
			var refused *BrokerRefusedError
			if !served && errors.As(err, &refused) {
				return err
			}
			attempt++
			if err.Error() != lastErr {
				c.amqpLog.Error().Err(err).Int("attempt", attempt).Msg("cannot connect; retrying")
				lastErr = err.Error()
			}
			delay := c.backoff.Delay(attempt, nil)
			c.status("reconnecting, attempt %d: %v", attempt, err)
			if !c.sleep(ctx, delay) {
				break
			}
			continue
		}
		if attempt > 0 {
			c.amqpLog.Info().Int("attempts", attempt).Msg("connected again")
		}
		attempt, lastErr = 0, ""
		c.setCurrent(s)
		c.connected(served)
		if !served {
			served = true
			c.notify("READY=1")
		}
		c.status("consuming %d exchanges on queue %s at %s", len(c.routes), c.vh.Queue, s.addr)
		c.amqpLog.Info().Str("node", s.addr).Str("queue", c.vh.Queue).Strs("exchanges", c.Exchanges()).Int("prefetch", c.vh.MaxSimultaneousRequests).Msg("consuming")
		reason := c.serve(ctx, stopping, abort, s)
		if ctx.Err() != nil {
			return c.drain(s, stop, abortNow)
		}
		c.setCurrent(nil)
		c.metrics.Connected(false)
		s.kill()
		c.nodes.failed(s.addr)
		c.amqpLog.Warn().Str("reason", reason).Str("node", s.addr).Msg("connection lost; reconnecting")
		c.status("reconnecting: %s", reason)
	}
	return c.drain(nil, stop, abortNow)
}

// sleep waits d, answering health probes; false if ctx ended first.
func (c *Consumer) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		case p := <-c.probe:
			close(p)
		}
	}
}

// serve dispatches the session's deliveries until the session breaks or
// ctx ends, and says why it stopped.
func (c *Consumer) serve(ctx, stopping, abort context.Context, s *session) string {
	streamCancelled := s.streamCancelled() // nil without a stream: never ready
	for {
		select {
		case <-ctx.Done():
			return "stopping"
		case p := <-c.probe:
			close(p)
		case err := <-s.connClosed:
			return "connection closed: " + amqpReason(err)
		case err := <-s.chClosed:
			return "channel closed: " + amqpReason(err)
		case tag := <-s.cancelled:
			return fmt.Sprintf("the broker cancelled consumer %s (queue %s deleted?)", tag, c.vh.Queue)
		case tag := <-streamCancelled:
			return fmt.Sprintf("the broker cancelled consumer %s (stream %s deleted?)", tag, outcomesStream(c.vh.Queue))
		case d, ok := <-s.deliveries:
			if !ok {
				return "delivery channel closed"
			}
			if c.testHookDispatch != nil {
				c.testHookDispatch()
			}
			c.dispatch(stopping, abort, s, d)
		}
	}
}

func amqpReason(err *amqp.Error) string {
	if err == nil {
		return "closed normally"
	}
	return fmt.Sprintf("%d %s", err.Code, err.Reason)
}

// job is one delivery to handle.
type job struct {
	stopping, abort context.Context
	s               *session
	d               amqp.Delivery
}

// startWorkers starts n long-lived workers for deliveries (their stacks,
// grown once, are reused), and returns the function that stops them: idle
// workers exit at once, busy ones after their job (a stop that gave up on
// a job does not wait for it).
func (c *Consumer) startWorkers(n int) func() {
	c.work = make(chan job)
	for i := 0; i < n; i++ {
		go func() {
			for j := range c.work {
				c.runJob(j)
			}
		}()
	}
	return func() { close(c.work) }
}

// dispatch hands one delivery to an idle worker, or to a goroutine of its
// own when all are busy (after a reconnection, runs of the old session may
// still hold workers): the dispatcher never waits. The prefetch bounds how
// many run at once.
func (c *Consumer) dispatch(stopping, abort context.Context, s *session, d amqp.Delivery) {
	c.inflight.Add(1)
	c.nInflight.Add(1)
	j := job{stopping: stopping, abort: abort, s: s, d: d}
	select {
	case c.work <- j:
	default:
		go c.runJob(j)
	}
}

func (c *Consumer) runJob(j job) {
	defer c.inflight.Done()
	defer c.nInflight.Add(-1)
	c.handle(j.stopping, j.abort, j.s, j.d)
}

// handle answers one delivery, running its handler at most once per
// process: a request delivered again is answered from its outcome.
func (c *Consumer) handle(stopping, abort context.Context, s *session, d amqp.Delivery) {
	restoreExchange(&d)
	in := incoming{exchange: d.Exchange, correlationID: d.CorrelationId, replyTo: d.ReplyTo, redelivered: d.Redelivered, deadline: deadlineOf(d.Headers), body: d.Body,
		acceptProgress: wire.TrueHeader(d.Headers[wire.AcceptProgressHeader]), attempt: attemptOf(d.Headers)}
	if c.vh.LocksAcrossHosts {
		in.channelAlive = s.alive
	}
	log := &requestLog{base: &c.log, handler: &c.handlerLog, exchange: in.exchange, cid: in.correlationID}
	m, start := c.metrics.Exchange(in.exchange), time.Now()
	m.Started(in.redelivered)
	if c.overDeliveryLimit(d, log) {
		m.Finished(metrics.UnexpectedError, start) // as its caller sees it
		return
	}
	res := c.respond(stopping, abort, log, in)
	m.Finished(c.settle(s, d, log, res), start)
}

// respond decides the answer to one request: from the outcome of its first
// run when it was seen before, or by running the pipeline.
func (c *Consumer) respond(stopping, abort context.Context, log *requestLog, in incoming) result {
	if !in.deadline.IsZero() && !time.Now().Before(in.deadline) && !in.redelivered {
		// The broker enforces the expiration with its own clock: a request
		// that arrives already past its deadline means the caller's clock
		// is off. Trust the broker and ignore the deadline.
		log.Warn().Time("deadline", in.deadline).Msg("request arrived past the caller's deadline: is the caller's clock wrong? ignoring the deadline")
		in.deadline = time.Time{}
	}
	key := outcomeKey(in.exchange, in.correlationID, in.body)
	in.key = key // for the run's look-ups in the outcomes learned (across.go)
	o, first := c.outcomes.begin(key)
	if !first {
		log.Info().Bool("redelivered", in.redelivered).Msg("request delivered again: answering from its first run, not running the handler again")
		select {
		case <-o.finished:
		case <-abort.Done():
			select {
			case <-o.finished:
			default:
				// Stopped before the first run ended: back to the
				// queue, for the next process to answer.
				return result{requeue: true, outcome: metrics.Requeued}
			}
		}
		if o.abandoned {
			return result{requeue: true, outcome: metrics.Requeued}
		}
		return result{reply: o.reply, outcome: metrics.FromOutcome}
	}
	// The locks the run takes are held until its outcome is recorded,
	// so that the next holder of its lease, on any host, knows it.
	var held heldLocks
	defer held.releaseAll()
	res := c.process(stopping, abort, log, in, &held)
	if res.requeue || res.retry {
		c.outcomes.abandon(key, o)
		return res
	}
	c.outcomes.finish(key, o, res.reply)
	if c.vh.LocksAcrossHosts && res.outcome != metrics.FromOutcome {
		c.shareOutcome(stopping, log, key, res.reply)
	}
	return res
}

// settle publishes the reply and then acknowledges the delivery, or gives
// it back to the queue. The reply goes out on the live session even when the
// delivery's own session is gone; the acknowledgement can only go on the
// delivery's session, so such a request is delivered again and answered
// from its outcome. It returns the request's outcome: res's, or Requeued
// when a request to retry later went back to its queue instead.
func (c *Consumer) settle(s *session, d amqp.Delivery, log *requestLog, res result) metrics.Outcome {
	if c.testHookSettle != nil {
		c.testHookSettle()
	}
	if res.requeue {
		if err := d.Nack(false, true); err != nil && s.alive() {
			log.Warn().Err(err).Msg("cannot return the request to the queue")
		}
		return res.outcome
	}
	if res.retry {
		if err := c.republish(d, res.retryAfter); err != nil {
			log.Warn().Err(err).Msg("cannot publish the request again for later: it goes back to the queue")
			_ = d.Nack(false, true)
			return metrics.Requeued
		}
	}
	if res.reply != nil {
		if err := c.publish(d, res.reply); err != nil {
			// Not acknowledged: the broker delivers it again and its
			// outcome answers it, without running the handler again.
			log.Warn().Err(err).Msg("cannot publish the reply now; it is sent when the request is delivered again")
			_ = d.Nack(false, true)
			return res.outcome
		}
	}
	if err := d.Ack(false); err != nil {
		log.Info().Err(err).Msg("cannot acknowledge on the request's lost channel; the broker will redeliver it and it is answered from its outcome")
	}
	return res.outcome
}

// publish sends a reply on the live session: to the request's exchange with
// routing key reply_to, or through the default exchange for direct reply-to.
// The reply is persistent when the request was: a caller that asks its
// request to survive a broker restart (into a durable reply queue) gets a
// reply that survives one too.
func (c *Consumer) publish(d amqp.Delivery, reply []byte) error {
	return c.publishTo(d.Exchange, d.ReplyTo, amqp.Publishing{
		ContentType:   wire.ContentType,
		CorrelationId: d.CorrelationId,
		DeliveryMode:  replyDeliveryMode(d.DeliveryMode),
		Body:          reply,
	})
}

// publishTo publishes p to the caller of a request that came through
// exchange with reply_to replyTo, on the live session: to exchange with
// routing key replyTo, or through the default exchange for direct
// reply-to.
func (c *Consumer) publishTo(exchange, replyTo string, p amqp.Publishing) error {
	s := c.live()
	if s == nil {
		return errors.New("not connected")
	}
	if wire.IsDirectReplyTo(replyTo) {
		exchange = ""
	}
	return s.ch.PublishWithContext(context.Background(), exchange, replyTo, false, false, p)
}

// replyDeliveryMode is the delivery mode of the reply to a request
// delivered with mode: persistent for persistent, transient otherwise.
func replyDeliveryMode(mode uint8) uint8 {
	if mode == amqp.Persistent {
		return amqp.Persistent
	}
	return amqp.Transient
}

// drain stops a Run: cancel the consumer, return what was delivered but
// not started, wait for running requests within the drain timeout (or
// Abort), then close.
func (c *Consumer) drain(s *session, stop, abortNow context.CancelFunc) error {
	c.notify("STOPPING=1")
	n := c.InFlight()
	c.status("draining %d requests", n)
	c.log.Info().Int("in_flight", n).Dur("drain_timeout", c.drainTimeout).Msg("stopping: no new requests; finishing those running")
	if s != nil && s.alive() {
		cancelled := make(chan struct{})
		go func() {
			defer close(cancelled)
			_ = s.ch.Cancel(s.tag, false)
		}()
		select {
		case <-cancelled:
		case <-time.After(5 * time.Second):
		}
		// Deliveries that arrived before the cancel took effect were not
		// started: they go back to the queue for the next process.
	flush:
		for {
			select {
			case d, ok := <-s.deliveries:
				if !ok {
					break flush
				}
				_ = d.Nack(false, true)
			default:
				break flush
			}
		}
	}
	stop() // requests waiting for their lock go back to the queue
	done := make(chan struct{})
	go func() {
		c.inflight.Wait()
		close(done)
	}()
	timer := time.NewTimer(c.drainTimeout)
	defer timer.Stop()
	var err error
wait:
	for {
		select {
		case <-done:
			break wait
		case <-timer.C:
			err = ErrDrainTimeout
			break wait
		case <-c.abortCh:
			err = ErrDrainTimeout
			break wait
		case p := <-c.probe:
			close(p)
		}
	}
	if err != nil {
		c.log.Error().Int("in_flight", c.InFlight()).Msg("drain timeout or second signal: killing running handlers; their requests go back to the queue")
		abortNow()
		select {
		case <-done:
		case <-time.After(handlerGrace + time.Second):
		}
	}
	c.setCurrent(nil)
	c.metrics.Connected(false)
	if s != nil {
		if s.alive() {
			_ = s.ch.Close()
		}
		s.kill()
	}
	c.leases.closeAll()
	c.log.Info().Msg("stopped")
	return err
}

// deadlineOf reads the caller's deadline header, if any.
func deadlineOf(h amqp.Table) time.Time {
	switch v := h[wire.DeadlineHeader].(type) {
	case int64:
		return time.UnixMilli(v)
	case int32:
		return time.UnixMilli(int64(v))
	case int:
		return time.UnixMilli(int64(v))
	}
	return time.Time{}
}
