package consumer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/coalesce"
)

// dialTimeout bounds the TCP and TLS handshake with the broker.
const dialTimeout = 10 * time.Second

// heartbeat is the AMQP heartbeat interval: a dead peer is noticed within
// about twice this.
const heartbeat = 10 * time.Second

// session is one connection and channel with its consumer registered.
// Deliveries belong to the session they came on: they can be acknowledged
// only while it lives.
type session struct {
	conn       *amqp.Connection
	addr       string // the broker node's host:port
	ch         *amqp.Channel
	confirm    *amqp.Channel    // in confirm mode: requests published again (see republish)
	returns    chan amqp.Return // the confirm channel's unroutable publishes
	republishM sync.Mutex       // one republish at a time, so a return is its own
	tag        string
	deliveries <-chan amqp.Delivery
	connClosed chan *amqp.Error
	chClosed   chan *amqp.Error
	cancelled  chan string
	dead       chan struct{} // closed when the session is given up
	deadOnce   atomic.Bool

	// stream is the outcomes stream, with locks_across_hosts (see
	// across.go); nil otherwise.
	stream *outcomeStream
}

func (s *session) kill() {
	if s.deadOnce.CompareAndSwap(false, true) {
		close(s.dead)
		_ = s.conn.Close()
	}
}

// streamCancelled tells when the broker cancels the outcomes stream's
// consumer; nil without one.
func (s *session) streamCancelled() <-chan string {
	if s.stream == nil {
		return nil
	}
	return s.stream.cancelled
}

func (s *session) alive() bool {
	select {
	case <-s.dead:
		return false
	default:
		return !s.conn.IsClosed()
	}
}

// BrokerRefusedError is a connection the broker (or its certificate)
// refused in a way that retrying cannot fix: bad credentials, a virtual host
// that does not exist, a certificate that does not verify.
type BrokerRefusedError struct {
	Err error
}

func (e *BrokerRefusedError) Error() string { return e.Err.Error() }
func (e *BrokerRefusedError) Unwrap() error { return e.Err }

var sessionSeq atomic.Int64

// connect opens a session: connection, channel, prefetch, topology,
// consumer, on the first broker node that accepts it (see nodeList).
func (c *Consumer) connect(ctx context.Context) (*session, error) {
	conn, addr, err := c.nodes.dial(ctx, c.dialNode)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	s := &session{conn: conn, addr: addr, dead: make(chan struct{})}
	ok := false
	defer func() {
		if !ok {
			s.kill()
			c.nodes.failed(addr)
		}
	}()
	if err := c.declare(s); err != nil {
		return nil, err
	}
	s.tag = fmt.Sprintf("rabbitmq-consumer-%s-%d-%d", host, os.Getpid(), sessionSeq.Add(1))
	if c.vh.LocksAcrossHosts {
		if err := c.openAcrossHosts(s); err != nil {
			return nil, err
		}
	}
	s.deliveries, err = s.ch.Consume(c.vh.Queue, s.tag, false, false, false, false, nil)
	if err != nil {
		return nil, fmt.Errorf("consume queue %q: %w", c.vh.Queue, err)
	}
	ok = true
	return s, nil
}

// dialNode opens a connection to the broker node at addr (host:port).
func (c *Consumer) dialNode(addr string) (*amqp.Connection, error) {
	return c.dialNodeFor(addr, "")
}

// dialNodeFor opens a connection to the broker node at addr for a
// purpose, named in the connection's name when not empty.
func (c *Consumer) dialNodeFor(addr, purpose string) (*amqp.Connection, error) {
	srv := c.cfg.Server
	host, portText, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portText)
	// The scheme stays amqp: with server.ssl, the dial function speaks TLS.
	uri := amqp.URI{Scheme: "amqp", Host: host, Port: port, Username: srv.Username, Password: srv.Password, Vhost: c.vh.Name}
	me, _ := os.Hostname()
	name := fmt.Sprintf("rabbitmq-consumer %s@%s pid %d", c.vh.Name, me, os.Getpid())
	if purpose != "" {
		name += " " + purpose
	}
	dial := amqp.DefaultDial(dialTimeout)
	if srv.SSL {
		dial = tlsDialer(dial, &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12})
	}
	cfg := amqp.Config{
		Vhost:     c.vh.Name,
		Heartbeat: heartbeat,
		Locale:    "en_US",
		// Replies and acknowledgements made at the same time share
		// system calls (and TLS records).
		Dial: coalesce.Dialer(dial),
		Properties: amqp.Table{
			"connection_name": name,
			"product":         "rabbitmq-consumer",
		},
	}
	conn, err := amqp.DialConfig(uri.String(), cfg)
	if err != nil {
		return nil, classifyDial(addr, c.vh.Name, err)
	}
	return conn, nil
}

// tlsDialer makes TLS connections over dial's, handshaking within the
// deadline dial sets. TLS sits below the coalescing connection, so that
// its close_notify leaves after everything buffered.
func tlsDialer(dial func(network, addr string) (net.Conn, error), cfg *tls.Config) func(network, addr string) (net.Conn, error) {
	return func(network, addr string) (net.Conn, error) {
		conn, err := dial(network, addr)
		if err != nil {
			return nil, err
		}
		tc := tls.Client(conn, cfg)
		if err := tc.Handshake(); err != nil {
			_ = conn.Close()
			return nil, err
		}
		return tc, nil
	}
}

// declare opens the channel, sets the prefetch and declares the durable
// queue and the exchanges (see declareExchange), binding each to the queue
// with the queue's name as routing key. A queue that already exists with
// other properties (declared by another program) is used as it is, but
// for a classic queue where a quorum queue is configured (see
// queueTypeMismatch). A quorum queue's dead-letter queue is declared first.
func (c *Consumer) declare(s *session) error {
	open := func() error {
		ch, err := s.conn.Channel()
		if err != nil {
			return fmt.Errorf("open channel: %w", err)
		}
		if err := ch.Qos(c.vh.MaxSimultaneousRequests, 0, false); err != nil {
			return fmt.Errorf("set prefetch: %w", err)
		}
		s.ch = ch
		return nil
	}
	// try runs a declaration; on PRECONDITION_FAILED (existing with other
	// properties) it reopens the channel and checks existence passively.
	try := func(what string, declare, passive func(*amqp.Channel) error) error {
		err := declare(s.ch)
		var ae *amqp.Error
		var refused *BrokerRefusedError
		if !errors.As(err, &refused) && errors.As(err, &ae) && ae.Code == amqp.PreconditionFailed {
			c.amqpLog.Warn().Str("reason", ae.Reason).Msg(what + " exists with other properties; using it as it is")
			if err := open(); err != nil {
				return err
			}
			err = passive(s.ch)
		}
		if err != nil {
			return fmt.Errorf("declare %s: %w", what, err)
		}
		return nil
	}
	if err := open(); err != nil {
		return err
	}
	q := c.vh.Queue
	queues := []struct{ what, name string }{{"queue", q}}
	if c.vh.Quorum() {
		// First, so that dead letters always have somewhere to go.
		queues = []struct{ what, name string }{{"dead-letter queue", c.vh.DeadLetterQueue}, {"queue", q}}
	}
	for _, dq := range queues {
		args := queueArguments(c.vh)
		if dq.name != q {
			args = deadLetterArguments()
		}
		if err := try(dq.what+" "+strconv.Quote(dq.name),
			func(ch *amqp.Channel) error {
				_, err := ch.QueueDeclare(dq.name, true, false, false, false, args)
				if c.vh.Quorum() {
					err = queueTypeMismatch(s.conn, err, c.vh.Name, dq.name)
				}
				return err
			},
			func(ch *amqp.Channel) error {
				_, err := ch.QueueDeclarePassive(dq.name, true, false, false, false, nil)
				return err
			},
		); err != nil {
			return err
		}
	}
	for _, name := range c.vh.ExchangeNames() {
		if err := c.declareExchange(s, name, open); err != nil {
			return err
		}
		if err := s.ch.QueueBind(q, q, name, false, nil); err != nil {
			return fmt.Errorf("bind queue %q to exchange %q: %w", q, name, err)
		}
	}
	c.declareDelay(s)
	s.connClosed = s.conn.NotifyClose(make(chan *amqp.Error, 1))
	s.chClosed = s.ch.NotifyClose(make(chan *amqp.Error, 1))
	s.cancelled = s.ch.NotifyCancel(make(chan string, 1))
	return nil
}

// classifyDial turns a dial error into a clear one, marking those that
// retrying cannot fix.
func classifyDial(addr, vhost string, err error) error {
	var ae *amqp.Error
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var certErr *tls.CertificateVerificationError
	var invalid x509.CertificateInvalidError
	var record tls.RecordHeaderError
	switch {
	case errors.As(err, &ae) && ae.Code == amqp.AccessRefused, errors.Is(err, amqp.ErrCredentials), errors.Is(err, amqp.ErrSASL):
		return &BrokerRefusedError{Err: fmt.Errorf("broker %s refused the credentials (check server.username and server.password): %w", addr, err)}
	case errors.As(err, &ae) && ae.Code == amqp.NotAllowed, errors.Is(err, amqp.ErrVhost):
		return &BrokerRefusedError{Err: fmt.Errorf("broker %s refused virtual host %q (does it exist, and may the user use it?): %w", addr, vhost, err)}
	case errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &certErr), errors.As(err, &invalid):
		return &BrokerRefusedError{Err: fmt.Errorf("TLS: the certificate of broker %s does not verify (trusted CAs: the system's, or SSL_CERT_FILE): %w", addr, err)}
	case errors.As(err, &record):
		return &BrokerRefusedError{Err: fmt.Errorf("TLS: broker %s does not speak TLS on that port (server.ssl is true; is server.port the broker's TLS port?): %w", addr, err)}
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("cannot reach broker %s: %w", addr, err)
	}
	return fmt.Errorf("connect to broker %s: %w", addr, err)
}

// declareExchange declares an exchange as configured: by default as the
// reference declares it (not durable), so that the reference RPC client's
// own declaration before every call is equivalent. An exchange that exists
// with other properties — declared durable by an earlier version of this
// consumer — would make every call of that client fail with 406
// PRECONDITION_FAILED: it is deleted and declared again as configured,
// with one warning. Deleting it drops the bindings of callers' reply
// queues to it; callers that bind per call (the reference client,
// rabbitmq-rpc) are unaffected, a long-running caller must reconnect.
func (c *Consumer) declareExchange(s *session, name string, reopen func() error) error {
	e := c.vh.Exchanges[name]
	err := s.ch.ExchangeDeclare(name, e.Type, e.Durable, false, false, false, nil)
	var ae *amqp.Error
	if !errors.As(err, &ae) || ae.Code != amqp.PreconditionFailed {
		if err != nil {
			return fmt.Errorf("declare exchange %q: %w", name, err)
		}
		return nil
	}
	// The refusal closed the channel.
	if err := reopen(); err != nil {
		return err
	}
	c.amqpLog.Warn().Str("exchange", name).Str("type", e.Type).Bool("durable", e.Durable).Str("reason", ae.Reason).
		Msgf("exchange %q exists with other properties than configured (earlier versions declared every exchange durable); deleting it and declaring it as configured (type %s, durable %v). The reference RPC client needs it non-durable; keep it durable only with exchanges.%s.durable: true",
			name, e.Type, e.Durable, name)
	if err := s.ch.ExchangeDelete(name, false, false); err != nil {
		return fmt.Errorf("delete exchange %q to declare it again: %w", name, err)
	}
	if err := s.ch.ExchangeDeclare(name, e.Type, e.Durable, false, false, false, nil); err != nil {
		return fmt.Errorf("declare exchange %q again: %w", name, err)
	}
	return nil
}
