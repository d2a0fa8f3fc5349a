package consumer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// The outcomes stream: with virtual_hosts.<vhost>.locks_across_hosts,
// every finished run's outcome is published, with a publisher confirm and
// before its request is acknowledged, to the stream <queue>.outcomes; every
// instance of the virtual host reads the stream into its outcomes cache. A
// redelivered request, once it holds its lease, publishes a marker and
// reads the stream up to it (sync), so that every outcome confirmed before
// is known, and is answered from its outcome when it has one.

// Bounds of the outcomes stream: entries older than outcomesMaxAge are
// deleted a segment at a time, segments being of outcomesSegmentBytes.
const (
	outcomesMaxAge       = "1h"
	outcomesSegmentBytes = 8 << 20
)

// streamPrefetch is how many stream entries the broker sends ahead of
// their acknowledgement.
const streamPrefetch = 500

// streamPublishTimeout bounds the wait for the confirmation of an outcome
// or a marker.
const streamPublishTimeout = 30 * time.Second

// Types (the AMQP type property) of stream entries.
const (
	streamEntryOutcome = "outcome" // body: an outcomeLine
	streamEntryMarker  = "marker"  // message id: the marker's id
)

// streamOffsetHeader is the header that carries a stream entry's offset.
const streamOffsetHeader = "x-stream-offset"

// streamOffsetArg is the consume argument that says where reading starts.
const streamOffsetArg = "x-stream-offset"

// outcomesStream is the name of the outcomes stream of queue.
func outcomesStream(queue string) string { return queue + ".outcomes" }

// streamArguments are the outcomes stream's arguments.
func streamArguments() amqp.Table {
	return amqp.Table{
		amqp.QueueTypeArg:                 amqp.QueueTypeStream,
		amqp.StreamMaxAgeArg:              outcomesMaxAge,
		amqp.StreamMaxSegmentSizeBytesArg: int64(outcomesSegmentBytes),
	}
}

// streamStart is where reading the stream starts: from its first entry
// retained on the first connection (next < 0), after the last entry read
// on a later one.
func streamStart(next int64) any {
	if next < 0 {
		return "first"
	}
	return next
}

// outcomeEntry is the stream entry of a finished outcome.
func outcomeEntry(key string, reply []byte) (amqp.Publishing, error) {
	body, err := json.Marshal(outcomeLine{Key: key, Reply: reply})
	if err != nil {
		return amqp.Publishing{}, fmt.Errorf("encode an outcome: %w", err)
	}
	return amqp.Publishing{Type: streamEntryOutcome, ContentType: "application/json", DeliveryMode: amqp.Persistent, Body: body}, nil
}

// markerEntry is the stream entry of a marker.
func markerEntry(id string) amqp.Publishing {
	return amqp.Publishing{Type: streamEntryMarker, MessageId: id, DeliveryMode: amqp.Persistent}
}

// streamEntry is a stream entry as read.
type streamEntry struct {
	offset    int64 // -1: none given
	marker    string
	key       string
	reply     []byte
	malformed bool
}

// readEntry decodes a stream delivery.
func readEntry(d amqp.Delivery) streamEntry {
	e := streamEntry{offset: -1}
	switch v := d.Headers[streamOffsetHeader].(type) {
	case int64:
		e.offset = v
	case int32:
		e.offset = int64(v)
	}
	switch d.Type {
	case streamEntryMarker:
		e.marker = d.MessageId
	case streamEntryOutcome:
		var l outcomeLine
		if json.Unmarshal(d.Body, &l) != nil || l.Key == "" || len(l.Reply) == 0 {
			e.malformed = true
			break
		}
		e.key, e.reply = l.Key, l.Reply
	default:
		e.malformed = true
	}
	return e
}

// outcomeStream is a session's link to the outcomes stream: a channel in
// confirm mode to publish on, and a consumer reading it.
type outcomeStream struct {
	name       string
	pub        *amqp.Channel
	deliveries <-chan amqp.Delivery
	cancelled  chan string // the broker cancelled the reading consumer

	mu      sync.Mutex
	markers map[string]chan struct{} // the markers waited for, by id
}

// openStream declares the outcomes stream on conn and starts consuming it
// from next (see streamStart).
func openStream(conn *amqp.Connection, queue, tag string, next int64) (*outcomeStream, error) {
	st := &outcomeStream{name: outcomesStream(queue), markers: map[string]chan struct{}{}}
	ch, err := conn.Channel()
	if err != nil {
		return nil, fmt.Errorf("open the outcomes stream's channel: %w", err)
	}
	if _, err := ch.QueueDeclare(st.name, true, false, false, false, streamArguments()); err != nil {
		var ae *amqp.Error
		if !errors.As(err, &ae) || ae.Code != amqp.PreconditionFailed {
			return nil, fmt.Errorf("declare the outcomes stream %s (streams need RabbitMQ 3.9 or later): %w", st.name, err)
		}
		// Declared before with other bounds: used as it is.
		if ch, err = conn.Channel(); err != nil {
			return nil, fmt.Errorf("open the outcomes stream's channel: %w", err)
		}
		if _, err := ch.QueueDeclarePassive(st.name, true, false, false, false, nil); err != nil {
			return nil, fmt.Errorf("declare the outcomes stream %s: %w", st.name, err)
		}
	}
	if err := ch.Confirm(false); err != nil {
		return nil, fmt.Errorf("outcomes stream: confirm mode: %w", err)
	}
	st.pub = ch
	rd, err := conn.Channel()
	if err != nil {
		return nil, fmt.Errorf("open the outcomes stream's channel: %w", err)
	}
	if err := rd.Qos(streamPrefetch, 0, false); err != nil {
		return nil, fmt.Errorf("outcomes stream: prefetch: %w", err)
	}
	st.cancelled = rd.NotifyCancel(make(chan string, 1))
	st.deliveries, err = rd.Consume(st.name, tag, false, false, false, false, amqp.Table{streamOffsetArg: streamStart(next)})
	if err != nil {
		return nil, fmt.Errorf("consume the outcomes stream %s: %w", st.name, err)
	}
	return st, nil
}

// publish publishes an entry and waits for its confirmation.
func (st *outcomeStream) publish(ctx context.Context, p amqp.Publishing) error {
	ctx, cancel := context.WithTimeout(ctx, streamPublishTimeout)
	defer cancel()
	dc, err := st.pub.PublishWithDeferredConfirmWithContext(ctx, "", st.name, false, false, p)
	if err != nil {
		return fmt.Errorf("publish to the outcomes stream: %w", err)
	}
	acked, err := dc.WaitContext(ctx)
	switch {
	case err != nil:
		return fmt.Errorf("wait for the outcomes stream's confirmation: %w", err)
	case !acked:
		return errors.New("the broker refused an entry of the outcomes stream (negative confirmation)")
	}
	return nil
}

// publishOutcome publishes a finished outcome and waits for its
// confirmation.
func (st *outcomeStream) publishOutcome(ctx context.Context, key string, reply []byte) error {
	p, err := outcomeEntry(key, reply)
	if err != nil {
		return err
	}
	return st.publish(ctx, p)
}

// sync publishes a marker and waits until the reader has read it: every
// outcome confirmed before sync began has then been read. It gives up when
// ctx ends or dead is closed.
func (st *outcomeStream) sync(ctx context.Context, dead <-chan struct{}) error {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	seen := make(chan struct{})
	st.mu.Lock()
	st.markers[id] = seen
	st.mu.Unlock()
	defer func() {
		st.mu.Lock()
		delete(st.markers, id)
		st.mu.Unlock()
	}()
	if err := st.publish(ctx, markerEntry(id)); err != nil {
		return err
	}
	select {
	case <-seen:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("read the outcomes stream up to a marker: %w", ctx.Err())
	case <-dead:
		return errors.New("read the outcomes stream up to a marker: connection lost")
	}
}

// read reads the stream until its consumer ends, telling learn of each
// outcome and at of each entry's offset, and waking the markers' waiters.
func (st *outcomeStream) read(learn func(key string, reply []byte), at func(offset int64)) {
	for d := range st.deliveries {
		e := readEntry(d)
		if e.offset >= 0 {
			at(e.offset)
		}
		switch {
		case e.marker != "":
			st.mu.Lock()
			if seen := st.markers[e.marker]; seen != nil {
				close(seen)
				delete(st.markers, e.marker)
			}
			st.mu.Unlock()
		case !e.malformed:
			learn(e.key, e.reply)
		}
		_ = d.Ack(false)
	}
}
