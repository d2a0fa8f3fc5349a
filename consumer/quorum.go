package consumer

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// deliveryCountHeader is the header a quorum queue sets on a message it
// delivers again: how many times it was delivered and not settled (its
// consumer's channel died, or it was returned to the queue).
const deliveryCountHeader = "x-delivery-count"

// queueArguments are the arguments the virtual host's queue is declared
// with: none for a classic queue, as the reference declares it. A quorum
// queue dead-letters through the default exchange into the dead-letter
// queue, at least once (which needs overflow reject-publish). Its broker
// delivery limit is one more than the configured one: the consumer itself
// dead-letters a request at the configured limit, answering its caller
// (see overDeliveryLimit); the broker's limit only catches a request whose
// last delivery was lost too.
func queueArguments(vh config.VirtualHost) amqp.Table {
	if !vh.Quorum() {
		return nil
	}
	return amqp.Table{
		amqp.QueueTypeArg:           amqp.QueueTypeQuorum,
		"x-delivery-limit":          int64(vh.DeliveryLimit + 1),
		"x-dead-letter-exchange":    "",
		"x-dead-letter-routing-key": vh.DeadLetterQueue,
		"x-dead-letter-strategy":    "at-least-once",
		amqp.QueueOverflowArg:       amqp.QueueOverflowRejectPublish,
	}
}

// deadLetterArguments are the arguments of a quorum queue's dead-letter
// queue: a quorum queue too, so that dead letters are replicated.
func deadLetterArguments() amqp.Table {
	return amqp.Table{amqp.QueueTypeArg: amqp.QueueTypeQuorum}
}

// queueTypeMismatch tells, after the broker refused to declare a quorum
// queue with its arguments (406 PRECONDITION_FAILED), whether the queue
// exists with another type: the broker names the first argument that
// differs, which need not be x-queue-type, so a declaration with
// x-queue-type alone, on a channel of its own, asks. A type mismatch is a
// *BrokerRefusedError that says what to do; otherwise err is returned as
// it is (a quorum queue with other arguments, used as it is).
func queueTypeMismatch(conn *amqp.Connection, err error, vhost, queue string) error {
	var ae *amqp.Error
	if !errors.As(err, &ae) || ae.Code != amqp.PreconditionFailed {
		return err
	}
	ch, cerr := conn.Channel()
	if cerr != nil {
		return err
	}
	_, perr := ch.QueueDeclare(queue, true, false, false, false, amqp.Table{amqp.QueueTypeArg: amqp.QueueTypeQuorum})
	_ = ch.Close()
	var pe *amqp.Error
	if !errors.As(perr, &pe) || pe.Code != amqp.PreconditionFailed || !strings.Contains(pe.Reason, "'"+amqp.QueueTypeArg+"'") {
		return err
	}
	return &BrokerRefusedError{Err: fmt.Errorf("queue %q exists with another type than virtual_hosts.%s.queue_type (quorum): a queue's type cannot change and the consumer never deletes a queue; drain it, then delete it (rabbitmqctl delete_queue -p %s %s) or move its messages to a new queue (a shovel), and start again; deleting it loses the messages in it (%s)",
		queue, vhost, strconv.Quote(vhost), queue, pe.Reason)}
}

// deliveryCount is how many times the delivery was delivered before
// without being settled.
func deliveryCount(h amqp.Table) int64 {
	switch v := h[deliveryCountHeader].(type) {
	case int64:
		return v
	case int32:
		return int64(v)
	case int16:
		return int64(v)
	case int8:
		return int64(v)
	case int:
		return int64(v)
	}
	return 0
}

// overDeliveryLimit dead-letters a request of a quorum queue that was
// delivered delivery_limit times without being settled (its handler
// crashed the consumer each time, say): it is not run again; its caller
// gets the unexpected error, when it can be sent; one line is logged; and
// it is rejected, which moves it to the dead-letter queue. A request whose
// run finished here before is left to be answered from its outcome. It
// reports whether it dead-lettered the request.
func (c *Consumer) overDeliveryLimit(d amqp.Delivery, log *requestLog) bool {
	if !c.vh.Quorum() {
		return false
	}
	n := deliveryCount(d.Headers)
	if n < int64(c.vh.DeliveryLimit) {
		return false
	}
	if c.outcomes.answered(outcomeKey(d.Exchange, d.CorrelationId, d.Body)) {
		// Its run finished here before: answered from that run's
		// outcome, and acknowledged, rather than dead-lettered.
		log.Info().Int64("deliveries", n).Msg("request over its delivery limit, but answered before: answering from its outcome")
		return false
	}
	replied := false
	var replyErr error
	reply := encodeReply(wire.UnexpectedFailure())
	if d.ReplyTo != "" {
		if replyErr = c.publish(d, reply); replyErr == nil {
			replied = true
		}
	}
	traceback := fmt.Sprintf("delivered %d times without being settled (delivery_limit %d): not run again; dead-lettered to queue %s", n, c.vh.DeliveryLimit, c.vh.DeadLetterQueue)
	ev := log.Error().Int64("deliveries", n).Str("dead_letter_queue", c.vh.DeadLetterQueue).Bool("replied", replied)
	if replyErr != nil {
		ev = ev.AnErr("reply_error", replyErr)
	}
	ev.Msg("request over its delivery limit (did its handler crash the consumer each time?): dead-lettered, not run again")
	c.journal(c.requestRecord(d.Exchange, d.CorrelationId, journalPayload(d.Body)))
	// The reply the caller got, or would have got: a log server takes only
	// an object as a response payload.
	c.journal(logship.Record{Kind: logship.KindResponse, CorrelationID: d.CorrelationId, ResponsePayload: reply, Traceback: &traceback})
	if err := d.Reject(false); err != nil {
		log.Warn().Err(err).Msg("cannot dead-letter the request on its lost channel; the broker delivers it again")
	}
	return true
}

// journalPayload is the request body as journaled: the JSON as it came,
// or, when it is not JSON, a JSON string of its (truncated) bytes.
func journalPayload(body []byte) []byte {
	if json.Valid(body) {
		return body
	}
	b, _ := json.Marshal(truncate(string(body), 65536))
	return b
}
