package consumer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/config"
)

// Retry later: a handler that answers "not now" (handler.RetryLaterError)
// has its request published again, after its delay, through the virtual
// host's delay queue: a durable queue without consumers where the request
// waits for its per-message TTL and is then dead-lettered, through the
// default exchange, back to the virtual host's queue. The request keeps
// its properties and headers; it gains attemptHeader (the run it will be)
// and exchangeHeader (the exchange it was published to, which
// dead-lettering through the default exchange loses).
const (
	// attemptHeader counts the runs of a request: absent on the first.
	attemptHeader = "x-rpc-attempt"
	// exchangeHeader is the exchange a request republished after a retry
	// later was first published to.
	exchangeHeader = "x-rpc-exchange"
	// DefaultRetryLimit is how many times a request is published again
	// when its handler keeps asking to retry later; then its caller gets
	// the unexpected error.
	DefaultRetryLimit = config.DefaultRetryLimit
)

// delayQueue is the name of the delay queue of the virtual host's queue.
func delayQueue(queue string) string { return queue + ".retry-later" }

// declareDelay opens the session's channel in confirm mode, on which
// requests are published again, and declares the delay queue: of the
// virtual host's queue type, so that with quorum queues it outlives a
// node. A failure is logged, not fatal: a request whose handler asks to
// retry later then goes back to its queue at once.
func (c *Consumer) declareDelay(s *session) {
	ch, err := s.conn.Channel()
	if err == nil {
		err = ch.Confirm(false)
	}
	if err == nil {
		_, err = ch.QueueDeclare(delayQueue(c.vh.Queue), true, false, false, false, delayArguments(c.vh))
	}
	if err != nil {
		c.amqpLog.Warn().Err(err).Str("queue", delayQueue(c.vh.Queue)).Msg("cannot declare the delay queue: requests whose handler asks to retry later go back to the queue at once")
		if ch != nil {
			_ = ch.Close()
		}
		return
	}
	// The broker sends a publish's basic.return before its basic.ack, and
	// the client hands both over in that order: one slot is enough for
	// the one republish in flight.
	s.returns = ch.NotifyReturn(make(chan amqp.Return, 1))
	s.confirm = ch
}

// delayArguments are the delay queue's arguments: its dead letters go back
// to the virtual host's queue; a quorum queue for a quorum queue,
// dead-lettering at least once.
func delayArguments(vh config.VirtualHost) amqp.Table {
	args := amqp.Table{"x-dead-letter-exchange": "", "x-dead-letter-routing-key": vh.Queue}
	if vh.Quorum() {
		args[amqp.QueueTypeArg] = amqp.QueueTypeQuorum
		args["x-dead-letter-strategy"] = "at-least-once"
		args[amqp.QueueOverflowArg] = amqp.QueueOverflowRejectPublish
	}
	return args
}

// attemptOf is the run a delivery is: 1 unless it was published again.
func attemptOf(h amqp.Table) int {
	switch v := h[attemptHeader].(type) {
	case int32:
		return max(int(v), 1)
	case int64:
		return max(int(v), 1)
	}
	return 1
}

// republish publishes d again, through the delay queue, to run after
// delay as the next attempt, and waits for the broker's confirmation.
func (c *Consumer) republish(d amqp.Delivery, delay time.Duration) error {
	s := c.live()
	if s == nil || s.confirm == nil {
		return errors.New("not connected")
	}
	headers := amqp.Table{}
	for k, v := range d.Headers {
		if k != "x-death" && k != "x-first-death-exchange" && k != "x-first-death-queue" && k != "x-first-death-reason" &&
			k != "x-last-death-exchange" && k != "x-last-death-queue" && k != "x-last-death-reason" {
			headers[k] = v
		}
	}
	headers[attemptHeader] = int32(attemptOf(d.Headers) + 1)
	headers[exchangeHeader] = d.Exchange
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s.republishM.Lock()
	defer s.republishM.Unlock()
	select {
	case <-s.returns: // left by a publish that gave up waiting
	default:
	}
	dc, err := s.confirm.PublishWithDeferredConfirmWithContext(ctx, "", delayQueue(c.vh.Queue), true, false, amqp.Publishing{
		Headers: headers, ContentType: d.ContentType, ContentEncoding: d.ContentEncoding,
		DeliveryMode: amqp.Persistent, CorrelationId: d.CorrelationId, ReplyTo: d.ReplyTo,
		Expiration: strconv.FormatInt(max(delay.Milliseconds(), 0), 10),
		MessageId:  d.MessageId, Timestamp: d.Timestamp, Type: d.Type, UserId: d.UserId, AppId: d.AppId,
		Body: d.Body,
	})
	if err != nil {
		return fmt.Errorf("publish to the delay queue: %w", err)
	}
	acked, err := dc.WaitContext(ctx)
	switch {
	case err != nil:
		return fmt.Errorf("wait for the delay queue's confirmation: %w", err)
	case !acked:
		return errors.New("the broker refused the request into the delay queue (negative confirmation)")
	}
	select {
	case <-s.returns:
		// Confirmed, but routed nowhere: the delay queue is gone (deleted
		// since the consumer declared it). Acking now would lose it.
		return fmt.Errorf("the delay queue %s does not exist: the broker returned the request unrouted", delayQueue(c.vh.Queue))
	default:
	}
	return nil
}

// restoreExchange gives a request dead-lettered back from the delay queue
// the exchange it was first published to.
func restoreExchange(d *amqp.Delivery) {
	if v, ok := d.Headers[exchangeHeader].(string); ok && v != "" {
		d.Exchange = v
	}
}
