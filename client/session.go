package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// session is one connection with its publishing channel and reply consumer.
type session struct {
	conn    *amqp.Connection
	ch      *amqp.Channel
	replyTo string // the reply queue, or direct reply-to
	direct  bool
	returns chan amqp.Return
	lost    chan struct{} // closed when the connection or channel closes

	drainMu sync.Mutex // one drainReturns at a time
	bindMu  sync.Mutex // one exchange check and bind at a time
	mu      sync.Mutex
	pending map[string]*pendingCall
	bound   map[string]bool
	failed  error // set once the session is closed
}

type pendingCall struct {
	reply    chan wire.Response
	progress chan wire.Progress // nil: the call takes no progress
	returned *amqp.Return
}

// progressBuffer is how many progress updates wait for a call's callback.
const progressBuffer = 64

func openSession(conn *amqp.Connection, direct bool) (*session, error) {
	ch, err := conn.Channel()
	if err != nil {
		return nil, fmt.Errorf("open channel: %w", err)
	}
	if err := ch.Confirm(false); err != nil {
		return nil, fmt.Errorf("enable publisher confirms: %w", err)
	}
	s := &session{conn: conn, ch: ch, direct: direct, lost: make(chan struct{}),
		pending: map[string]*pendingCall{}, bound: map[string]bool{}}
	var deliveries <-chan amqp.Delivery
	if direct {
		s.replyTo = wire.DirectReplyTo
		deliveries, err = ch.Consume(wire.DirectReplyTo, "", true, false, false, false, nil)
	} else {
		q, qerr := ch.QueueDeclare("", false, true, true, false, nil)
		if qerr != nil {
			return nil, fmt.Errorf("declare reply queue: %w", qerr)
		}
		s.replyTo = q.Name
		deliveries, err = ch.Consume(q.Name, "", true, true, false, false, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("consume replies: %w", err)
	}
	// Returns are read only by calls, right after their confirmation (see
	// drainReturns); the buffer is large enough that the library never waits
	// on it.
	s.returns = ch.NotifyReturn(make(chan amqp.Return, 4096))
	connClosed := conn.NotifyClose(make(chan *amqp.Error, 1))
	chClosed := ch.NotifyClose(make(chan *amqp.Error, 1))
	go s.dispatch(deliveries)
	go func() {
		select {
		case <-connClosed:
		case <-chClosed:
		}
		close(s.lost)
	}()
	return s, nil
}

// dispatch hands each reply to the call waiting for it; replies nobody
// waits for (a call that gave up, a second answer) are dropped.
func (s *session) dispatch(deliveries <-chan amqp.Delivery) {
	for d := range deliveries {
		if wire.TrueHeader(d.Headers[wire.ProgressHeader]) {
			s.progress(d)
			continue
		}
		var r wire.Response
		if err := json.Unmarshal(d.Body, &r); err != nil {
			r = wire.Response{Message: "unparsable reply: " + err.Error()}
		}
		s.mu.Lock()
		p := s.pending[d.CorrelationId]
		delete(s.pending, d.CorrelationId)
		s.mu.Unlock()
		if p != nil {
			p.reply <- r
		}
	}
}

// progress hands a progress update to the call waiting for it, if it
// takes progress and has room; otherwise it is dropped.
func (s *session) progress(d amqp.Delivery) {
	var pr wire.Progress
	if err := json.Unmarshal(d.Body, &pr); err != nil {
		return
	}
	s.mu.Lock()
	p := s.pending[d.CorrelationId]
	s.mu.Unlock()
	if p == nil || p.progress == nil {
		return
	}
	select {
	case p.progress <- pr:
	default:
	}
}

func (s *session) record(r amqp.Return) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.pending[r.CorrelationId]; p != nil {
		p.returned = &r
	}
}

// drainReturns records the returns already received. The broker sends a
// mandatory message's return before its confirmation, and the library
// queues it before resolving the confirmation, so after a confirmation its
// return, if any, is in the channel.
func (s *session) drainReturns() {
	s.drainMu.Lock()
	defer s.drainMu.Unlock()
	for {
		select {
		case r, ok := <-s.returns:
			if !ok {
				return
			}
			s.record(r)
		default:
			return
		}
	}
}

// close fails every pending call with err.
func (s *session) close(err error) {
	s.mu.Lock()
	s.failed = err
	pending := s.pending
	s.pending = map[string]*pendingCall{}
	s.mu.Unlock()
	for _, p := range pending {
		close(p.reply)
	}
	_ = s.conn.Close()
}

// bind checks, once per exchange, that the exchange exists (publishing to
// a missing one would close the channel), and binds the reply queue to it
// (the reference client's way: the consumer answers to the request's
// exchange with routing key reply_to).
func (s *session) bind(exchange, routingKey string) error {
	s.bindMu.Lock()
	defer s.bindMu.Unlock()
	s.mu.Lock()
	done := s.bound[exchange] || exchange == ""
	s.mu.Unlock()
	if done {
		return nil
	}
	// A passive declare of a missing exchange closes its channel: use a
	// throwaway one.
	probe, err := s.conn.Channel()
	if err != nil {
		return fmt.Errorf("open channel: %w", err)
	}
	err = probe.ExchangeDeclarePassive(exchange, "direct", true, false, false, false, nil)
	var ae *amqp.Error
	if errors.As(err, &ae) && ae.Code == amqp.NotFound {
		return &UnroutableError{Exchange: exchange, RoutingKey: routingKey, Reason: "the exchange does not exist (is a consumer for it running?)"}
	}
	if err != nil {
		return fmt.Errorf("check exchange %q: %w", exchange, err)
	}
	_ = probe.Close()
	if !s.direct {
		if err := s.ch.QueueBind(s.replyTo, s.replyTo, exchange, false, nil); err != nil {
			return fmt.Errorf("bind reply queue to exchange %q: %w", exchange, err)
		}
	}
	s.mu.Lock()
	s.bound[exchange] = true
	s.mu.Unlock()
	return nil
}

// newCorrelationID returns a random UUID (version 4) in its canonical
// form, as the reference client's str(uuid.uuid4()): the reference log
// server rejects the records of any other correlation id.
func newCorrelationID() string {
	return uuid.NewString()
}

// call publishes one request and waits for its reply.
// With progress set, it asks for progress updates and calls progress with
// each before it returns the reply.
func (s *session) call(ctx context.Context, exchange, routingKey string, body []byte, progress func(wire.Progress)) (wire.Response, error) {
	if err := s.bind(exchange, routingKey); err != nil {
		return wire.Response{}, err
	}
	id := newCorrelationID()
	p := &pendingCall{reply: make(chan wire.Response, 1)}
	headers := amqp.Table{}
	if progress != nil {
		p.progress = make(chan wire.Progress, progressBuffer)
		headers[wire.AcceptProgressHeader] = int32(1)
	}
	s.mu.Lock()
	if s.failed != nil {
		s.mu.Unlock()
		return wire.Response{}, s.failed
	}
	s.pending[id] = p
	s.mu.Unlock()
	forget := func() {
		s.mu.Lock()
		delete(s.pending, id)
		s.mu.Unlock()
	}
	deadline, _ := ctx.Deadline()
	headers[wire.DeadlineHeader] = deadline.UnixMilli()
	ttl := time.Until(deadline).Milliseconds()
	if ttl < 1 {
		forget()
		return wire.Response{}, fmt.Errorf("call %s: %w", exchange, ErrTimeout)
	}
	msg := amqp.Publishing{
		ContentType:   wire.ContentType,
		CorrelationId: id,
		ReplyTo:       s.replyTo,
		Expiration:    strconv.FormatInt(ttl, 10),
		Timestamp:     time.Now(),
		Headers:       headers,
		Body:          body,
	}
	dc, err := s.ch.PublishWithDeferredConfirmWithContext(ctx, exchange, routingKey, true, false, msg)
	if err != nil {
		forget()
		return wire.Response{}, fmt.Errorf("publish to exchange %q: %w", exchange, err)
	}
	acked, err := dc.WaitContext(ctx)
	if err != nil {
		forget()
		return wire.Response{}, s.ended(ctx, exchange, err)
	}
	if !acked {
		forget()
		return wire.Response{}, fmt.Errorf("the broker refused the request to exchange %q (negative confirmation)", exchange)
	}
	s.drainReturns()
	s.mu.Lock()
	ret := p.returned
	s.mu.Unlock()
	if ret != nil {
		forget()
		return wire.Response{}, &UnroutableError{Exchange: exchange, RoutingKey: routingKey, Reason: fmt.Sprintf("%d %s (no queue is bound with that routing key)", ret.ReplyCode, ret.ReplyText)}
	}
	for {
		select {
		case pr := <-p.progress: // nil without progress: never ready
			progress(pr)
		case r, ok := <-p.reply:
			if !ok {
				return wire.Response{}, fmt.Errorf("call %s: %w", exchange, s.failedErr())
			}
			drainProgress(p.progress, progress)
			return r, nil
		case <-ctx.Done():
			forget()
			return wire.Response{}, s.ended(ctx, exchange, ctx.Err())
		}
	}
}

// drainProgress passes on the updates that came before the reply.
func drainProgress(updates chan wire.Progress, progress func(wire.Progress)) {
	for {
		select {
		case pr := <-updates:
			progress(pr)
		default:
			return
		}
	}
}

func (s *session) failedErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed != nil {
		return s.failed
	}
	return ErrConnectionLost
}

// ended names why a call stopped waiting.
func (s *session) ended(ctx context.Context, exchange string, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("call %s: %w", exchange, ErrTimeout)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("call %s: %w", exchange, err)
}
