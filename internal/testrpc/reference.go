package testrpc

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// ReferenceCall makes one call exactly as the reference Python RPC client
// (python3-cyberfusion-rpc-client, on pika) does, with pika's default for
// every flag it leaves unset: one connection and channel;
// queue_declare(queue="", exclusive=True); exchange_declare(exchange,
// exchange_type='direct') — not passive, not durable, not auto-delete, not
// internal; queue_bind of the reply queue to the exchange with the reply
// queue's name as routing key; a consumer with auto-ack; then a publish to
// the exchange with routing key queue and content_type, reply_to, a UUID4
// correlation_id and expiration = timeout in milliseconds. It returns the
// broker's refusal (e.g. 406 PRECONDITION_FAILED from the exchange
// declaration) as an error, and an error when no reply comes in time.
func ReferenceCall(url, exchange, queue string, body []byte, timeout time.Duration) (wire.Response, error) {
	conn, err := amqp.Dial(url)
	if err != nil {
		return wire.Response{}, fmt.Errorf("connect: %w", err)
	}
	defer func() { _ = conn.Close() }()
	ch, err := conn.Channel()
	if err != nil {
		return wire.Response{}, fmt.Errorf("open channel: %w", err)
	}
	// queue_declare(queue='', exclusive=True): passive, durable and
	// auto_delete keep pika's default, False.
	q, err := ch.QueueDeclare("", false, false, true, false, nil)
	if err != nil {
		return wire.Response{}, fmt.Errorf("queue_declare: %w", err)
	}
	// exchange_declare(exchange, exchange_type='direct'): passive=False,
	// durable=False, auto_delete=False, internal=False, arguments=None.
	if err := ch.ExchangeDeclare(exchange, "direct", false, false, false, false, nil); err != nil {
		return wire.Response{}, fmt.Errorf("exchange_declare: %w", err)
	}
	// queue_bind(exchange, queue): pika's routing_key defaults to the queue name.
	if err := ch.QueueBind(q.Name, q.Name, exchange, false, nil); err != nil {
		return wire.Response{}, fmt.Errorf("queue_bind: %w", err)
	}
	deliveries, err := ch.Consume(q.Name, "", true, false, false, false, nil)
	if err != nil {
		return wire.Response{}, fmt.Errorf("basic_consume: %w", err)
	}
	id := uuid.NewString()
	err = ch.PublishWithContext(context.Background(), exchange, queue, false, false, amqp.Publishing{
		ContentType:   wire.ContentType,
		ReplyTo:       q.Name,
		CorrelationId: id,
		Expiration:    strconv.FormatInt(timeout.Milliseconds(), 10),
		Body:          body,
	})
	if err != nil {
		return wire.Response{}, fmt.Errorf("basic_publish: %w", err)
	}
	closed := ch.NotifyClose(make(chan *amqp.Error, 1))
	limit := time.After(timeout)
	for {
		select {
		case d, ok := <-deliveries:
			if !ok {
				return wire.Response{}, fmt.Errorf("reply queue consumer ended: %v", <-closed)
			}
			if d.CorrelationId != id {
				continue
			}
			var r wire.Response
			if err := json.Unmarshal(d.Body, &r); err != nil {
				return wire.Response{}, fmt.Errorf("unparsable reply %q: %w", d.Body, err)
			}
			return r, nil
		case e := <-closed:
			return wire.Response{}, fmt.Errorf("channel closed: %v", e)
		case <-limit:
			return wire.Response{}, fmt.Errorf("no reply within %v (TimeoutError)", timeout)
		}
	}
}
