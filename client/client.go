// Package client is the Go RPC client of rabbitmq-consumer: one connection,
// many concurrent calls over one reply queue (or direct reply-to), each call
// a future keyed by its correlation id. A call's context deadline is also the
// request's expiration; requests are published with publisher confirms and
// as mandatory, so an unroutable request fails at once. Fields can be
// Fernet-encrypted with the virtual host's key; the connection is
// re-established automatically.
package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fernet/fernet-go"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// DefaultTimeout bounds a call whose context has no deadline.
const DefaultTimeout = 30 * time.Second

// Config says where and how the client calls.
type Config struct {
	// Server is the broker.
	Server config.Server
	// VirtualHost is the RabbitMQ virtual host.
	VirtualHost string
	// Queue is the consumer's queue: the routing key of requests.
	Queue string
	// FernetKey, if set, encrypts the fields a call names (Encrypt).
	FernetKey string
	// DirectReplyTo receives replies through RabbitMQ's direct reply-to
	// instead of an exclusive reply queue bound to each exchange called.
	DirectReplyTo bool
	// DefaultTimeout bounds calls whose context has no deadline; 0 means
	// DefaultTimeout.
	DefaultTimeout time.Duration
}

// FromFile makes a Config from the consumers' configuration file, for the
// named virtual host.
func FromFile(cfg *config.Config, vhost string) (Config, error) {
	vh, err := cfg.VirtualHost(vhost)
	if err != nil {
		return Config{}, err
	}
	return Config{Server: cfg.Server, VirtualHost: vh.Name, Queue: vh.Queue, FernetKey: vh.FernetKey}, nil
}

// Client makes RPC calls on one virtual host. It is safe for concurrent use.
type Client struct {
	cfg Config
	key *fernet.Key

	mu      sync.Mutex
	cur     *session      // nil while disconnected
	ready   chan struct{} // closed once cur is set
	closed  chan struct{}
	done    chan struct{} // closed when the reconnect loop ends
	closing sync.Once
}

// Dial connects to the broker and starts a client. It fails at once when the
// first connection fails; later losses are repaired in the background.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.Queue == "" {
		return nil, errors.New("client: no queue (the consumer's routing key) configured")
	}
	if cfg.DefaultTimeout <= 0 {
		cfg.DefaultTimeout = DefaultTimeout
	}
	c := &Client{
		cfg:    cfg,
		ready:  make(chan struct{}),
		closed: make(chan struct{}),
		done:   make(chan struct{}),
	}
	if cfg.FernetKey != "" {
		k, err := fernet.DecodeKey(cfg.FernetKey)
		if err != nil {
			return nil, fmt.Errorf("client: fernet key: %w", err)
		}
		c.key = k
	}
	s, err := c.connect()
	if err != nil {
		return nil, err
	}
	c.setSession(s)
	go c.reconnect(s)
	return c, nil
}

// Close closes the connection; calls in flight fail with ErrClosed.
func (c *Client) Close() error {
	c.closing.Do(func() { close(c.closed) })
	<-c.done
	return nil
}

func (c *Client) setSession(s *session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cur = s
	if s != nil {
		close(c.ready)
	} else {
		c.ready = make(chan struct{})
	}
}

// session waits for a live session.
func (c *Client) session(ctx context.Context) (*session, error) {
	for {
		c.mu.Lock()
		s, ready := c.cur, c.ready
		c.mu.Unlock()
		if s != nil {
			return s, nil
		}
		select {
		case <-ready:
		case <-c.closed:
			return nil, ErrClosed
		case <-ctx.Done():
			return nil, fmt.Errorf("not connected to the broker: %w", ErrTimeout)
		}
	}
}

// reconnect replaces a lost session, with exponential backoff and jitter,
// until the client is closed.
func (c *Client) reconnect(s *session) {
	defer close(c.done)
	for {
		select {
		case <-c.closed:
			s.close(ErrClosed)
			return
		case <-s.lost:
		}
		c.setSession(nil)
		s.close(ErrConnectionLost)
		delay := 100 * time.Millisecond
		for {
			next, err := c.connect()
			if err == nil {
				s = next
				c.setSession(s)
				break
			}
			t := time.NewTimer(delay/2 + rand.N(delay/2+1))
			select {
			case <-c.closed:
				t.Stop()
				return
			case <-t.C:
			}
			if delay < 5*time.Second {
				delay *= 2
			}
		}
	}
}

// connect opens a session (connection, channel in confirm mode, reply
// consumer) on the first broker node that takes it, in the order of
// config.Server.Addresses: a cluster node that is down is skipped.
func (c *Client) connect() (*session, error) {
	addrs := c.cfg.Server.Addresses()
	var errs []error
	for _, addr := range addrs {
		s, err := c.connectTo(addr)
		if err == nil {
			return s, nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 1 {
		return nil, errs[0]
	}
	return nil, &ConnectError{Addr: strings.Join(addrs, ", "), Err: errors.Join(errs...)}
}

// connectTo connects to the broker node at addr (host:port).
func (c *Client) connectTo(addr string) (*session, error) {
	srv := c.cfg.Server
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, &ConnectError{Addr: addr, Err: err}
	}
	port, _ := strconv.Atoi(p)
	uri := amqp.URI{Scheme: "amqp", Host: host, Port: port, Username: srv.Username, Password: srv.Password, Vhost: c.cfg.VirtualHost}
	hostname, _ := os.Hostname()
	acfg := amqp.Config{
		Vhost: c.cfg.VirtualHost, Heartbeat: 10 * time.Second, Locale: "en_US", Dial: amqp.DefaultDial(10 * time.Second),
		Properties: amqp.Table{"connection_name": fmt.Sprintf("rabbitmq-rpc client %s pid %d", hostname, os.Getpid()), "product": "rabbitmq-consumer client"},
	}
	if srv.SSL {
		uri.Scheme = "amqps"
		acfg.TLSClientConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	conn, err := amqp.DialConfig(uri.String(), acfg)
	if err != nil {
		return nil, &ConnectError{Addr: addr, Err: err}
	}
	s, err := openSession(conn, c.cfg.DirectReplyTo)
	if err != nil {
		_ = conn.Close()
		return nil, &ConnectError{Addr: addr, Err: err}
	}
	return s, nil
}

// Call sends body (a value marshalled to a JSON object, or []byte /
// json.RawMessage as they are) to exchange and waits for the reply until
// ctx's deadline (DefaultTimeout without one). A failure response is a
// reply like any other: check Success.
func (c *Client) Call(ctx context.Context, exchange string, body any, opts ...CallOption) (wire.Response, error) {
	var o callOptions
	for _, opt := range opts {
		opt(&o)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.DefaultTimeout)
		defer cancel()
	}
	payload, err := encode(body, o.encrypt, c.key)
	if err != nil {
		return wire.Response{}, err
	}
	s, err := c.session(ctx)
	if err != nil {
		return wire.Response{}, err
	}
	return s.call(ctx, exchange, c.cfg.Queue, payload, o.progress)
}
