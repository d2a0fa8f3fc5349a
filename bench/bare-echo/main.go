// Command bare-echo is the benchmark's baseline: the simplest correct RPC
// echo server with amqp091-go. It declares the same topology as the
// consumer, consumes with the same prefetch and manual acks, and for each
// request publishes the request back as the response data (to the request's
// exchange with routing key reply_to, or the default exchange for direct
// reply-to) and then acks. No validation, no locks, no logging.
//
// With --coalesce it writes through the same coalescing connection as the
// consumer (internal/coalesce): a reference point for the consumer's own
// work, apart from how it writes to the socket.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/coalesce"
)

func main() {
	url := flag.String("url", "amqp://guest:guest@127.0.0.1:5672/", "broker URL with the virtual host")
	queue := flag.String("queue", "", "queue")
	exchange := flag.String("exchange", "", "exchange")
	prefetch := flag.Int("prefetch", 64, "prefetch")
	coalesced := flag.Bool("coalesce", false, "coalesce socket writes as the consumer does")
	flag.Parse()
	if err := run(*url, *queue, *exchange, *prefetch, *coalesced); err != nil {
		fmt.Fprintln(os.Stderr, "bare-echo:", err)
		os.Exit(1)
	}
}

func run(url, queue, exchange string, prefetch int, coalesced bool) error {
	// Without --coalesce, what amqp.Dial(url) does.
	cfg := amqp.Config{Locale: "en_US"}
	if coalesced {
		cfg.Dial = coalesce.Dialer(amqp.DefaultDial(30 * time.Second))
	}
	conn, err := amqp.DialConfig(url, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	if err := ch.Qos(prefetch, 0, false); err != nil {
		return err
	}
	if _, err := ch.QueueDeclare(queue, true, false, false, false, nil); err != nil {
		return err
	}
	if err := ch.ExchangeDeclare(exchange, "direct", false, false, false, false, nil); err != nil {
		return err
	}
	if err := ch.QueueBind(queue, queue, exchange, false, nil); err != nil {
		return err
	}
	deliveries, err := ch.Consume(queue, "", false, false, false, false, nil)
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "consuming")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case d, ok := <-deliveries:
			if !ok {
				return fmt.Errorf("deliveries closed")
			}
			go func(d amqp.Delivery) {
				ex := d.Exchange
				if strings.HasPrefix(d.ReplyTo, "amq.rabbitmq.reply-to") {
					ex = ""
				}
				body := append(append([]byte(`{"success":true,"message":"echo","data":`), d.Body...), '}')
				err := ch.PublishWithContext(ctx, ex, d.ReplyTo, false, false, amqp.Publishing{
					ContentType: "application/json", CorrelationId: d.CorrelationId, Body: body,
				})
				if err == nil {
					_ = d.Ack(false)
				}
			}(d)
		}
	}
}
