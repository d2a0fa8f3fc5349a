package consumer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fernet/fernet-go"
	"github.com/rs/zerolog"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/handler"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/metrics"
)

// Defaults of Options.
const (
	DefaultDrainTimeout    = 30 * time.Second
	DefaultMaxRequestBytes = 16 << 20
)

// Journal receives a record of every request and response, for shipping to
// the log server. It must not block on the network.
type Journal interface {
	Append(rec logship.Record) error
}

// Options configure a Consumer. Only Config and VirtualHost are required;
// the zero value of every other field is a working default, said below.
type Options struct {
	// Config is the loaded configuration file. Required.
	Config *config.Config
	// VirtualHost names the virtual host to serve; it must be in Config.
	VirtualHost string
	// Handlers are Go handlers by exchange; exchanges without one use the
	// executable handler in the handlers directory. The consumer closes
	// them when it is closed. Nil: executable handlers only.
	Handlers map[string]handler.Handler
	// Logger receives the structured log. Zero: nothing is logged.
	Logger zerolog.Logger
	// Journal, if set, receives request and response records. Nil: none
	// are kept.
	Journal Journal
	// Notify, if set, is told of state changes in sd_notify form
	// ("READY=1", "STATUS=..."). Nil: nobody is told.
	Notify func(state string)
	// DrainTimeout bounds how long a stop waits for running requests; 0
	// (or less) means DefaultDrainTimeout.
	DrainTimeout time.Duration
	// MaxRequestBytes is the largest request body accepted; 0 (or less)
	// means DefaultMaxRequestBytes.
	MaxRequestBytes int
	// Outcomes is how many recent outcomes are remembered for
	// redeliveries; 0 (or less) means DefaultOutcomes.
	Outcomes int
	// Backoff paces reconnection attempts and the restarts of persistent
	// handler processes; zero means DefaultBackoff.
	Backoff Backoff
	// Metrics, if set, receives the consumer's metrics; nil records none.
	Metrics *metrics.Consumer
	// AMQPLogger, if set, receives the log of the broker connection
	// (connecting, reconnections, declarations); nil: Logger.
	AMQPLogger *zerolog.Logger
	// HandlerLogger, if set, receives the log of the handlers (their
	// processes, what they write to stderr, what Go handlers log); nil:
	// Logger.
	HandlerLogger *zerolog.Logger
	// RetryLimit is how many times a request is published again when its
	// handler asks to retry later; 0 (or less) means the virtual host's
	// retry_limit, or DefaultRetryLimit.
	RetryLimit int
}

// Consumer serves one virtual host.
type Consumer struct {
	cfg             *config.Config
	vh              config.VirtualHost
	routes          map[string]*route
	keys            []*fernet.Key
	log             zerolog.Logger
	spool           Journal
	notify          func(string)
	drainTimeout    time.Duration
	maxRequestBytes int
	retryLimit      int
	backoff         Backoff
	hostname        string
	metrics         *metrics.Consumer // nil: none
	amqpLog         zerolog.Logger
	handlerLog      zerolog.Logger

	locks    *lockTable
	outcomes *outcomes
	nodes    *nodeList // the broker nodes, see connect
	// leases holds the connection leases are taken on (see across.go).
	leases leases
	// streamNext is the offset of the outcomes stream to read from on the
	// next connection; -1: its first entry (see streamStart).
	streamNext atomic.Int64

	mu      sync.Mutex
	current *session // the live session, nil while disconnected

	work      chan job // to the workers; see startWorkers
	inflight  sync.WaitGroup
	nInflight atomic.Int64
	probe     chan chan struct{}
	abortOnce sync.Once
	abortCh   chan struct{}
	closeOnce sync.Once // see Close

	// testHookDispatch, when set, runs before each delivery is dispatched.
	testHookDispatch func()
	// testHookSettle, when set, runs before each delivery is settled.
	testHookSettle func()
	// testHookLearn, when set, runs before each outcome read from the
	// outcomes stream is learned.
	testHookLearn func()
}

// New checks the virtual host's configuration and loads its handlers. It
// fails with a *config.Error or a *RouteError.
func New(opts Options) (*Consumer, error) {
	if opts.Config == nil {
		return nil, errors.New("consumer: no configuration")
	}
	vh, err := opts.Config.VirtualHost(opts.VirtualHost)
	if err != nil {
		return nil, err
	}
	routes, err := loadRoutes(opts.Config.HandlersDirectory, vh.ExchangeNames(), opts.Handlers, opts.Config.Mock)
	if err != nil {
		return nil, err
	}
	var keys []*fernet.Key
	if k := vh.DecryptionKeys(); len(k) > 0 {
		if keys, err = fernet.DecodeKeys(k...); err != nil {
			return nil, &config.Error{Path: opts.Config.Path, Key: "virtual_hosts." + vh.Name + ".fernet_key", Msg: "not a valid Fernet key"}
		}
	}
	host, _ := os.Hostname()
	c := &Consumer{
		cfg:             opts.Config,
		vh:              vh,
		routes:          routes,
		keys:            keys,
		log:             opts.Logger.With().Str("vhost", vh.Name).Logger(),
		spool:           opts.Journal,
		notify:          opts.Notify,
		drainTimeout:    opts.DrainTimeout,
		maxRequestBytes: opts.MaxRequestBytes,
		backoff:         opts.Backoff,
		hostname:        host,
		metrics:         opts.Metrics,
		locks:           newLockTable(),
		nodes:           &nodeList{addrs: opts.Config.Server.Addresses()},
		outcomes:        newOutcomes(opts.Outcomes),
		probe:           make(chan chan struct{}),
		abortCh:         make(chan struct{}),
	}
	c.streamNext.Store(-1)
	c.amqpLog, c.handlerLog = c.log, c.log
	if opts.AMQPLogger != nil {
		c.amqpLog = opts.AMQPLogger.With().Str("vhost", vh.Name).Logger()
	}
	if opts.HandlerLogger != nil {
		c.handlerLog = opts.HandlerLogger.With().Str("vhost", vh.Name).Logger()
	}
	if c.drainTimeout <= 0 {
		c.drainTimeout = DefaultDrainTimeout
	}
	if c.retryLimit = opts.RetryLimit; c.retryLimit <= 0 {
		c.retryLimit = vh.RetryLimit // the configuration's retry_limit
	}
	if c.retryLimit <= 0 {
		c.retryLimit = DefaultRetryLimit
	}
	if c.maxRequestBytes <= 0 {
		c.maxRequestBytes = DefaultMaxRequestBytes
	}
	if c.backoff == (Backoff{}) {
		c.backoff = DefaultBackoff
	}
	if c.notify == nil {
		c.notify = func(string) {}
	}
	if dir := opts.Config.StateDirectory; dir != "" {
		c.outcomes.err = func(err error) { c.log.Error().Err(err).Msg("cannot persist an outcome") }
		if _, err := openOutcomes(outcomesPath(dir, vh.Name), c.outcomes); err != nil {
			return nil, &config.Error{Path: opts.Config.Path, Key: "state_directory", Msg: err.Error()}
		}
		if n := c.outcomes.len(); n > 0 {
			c.log.Info().Int("outcomes", n).Msg("loaded the outcomes of recent requests")
		}
	}
	if !opts.Config.Mock {
		if err := openPools(routes, vh.Name, vh.MaxSimultaneousRequests, c.backoff, c.handlerLog, c.metrics); err != nil {
			c.closeOutcomes()
			return nil, err
		}
	}
	return c, nil
}

// Exchanges lists the exchanges served, sorted.
func (c *Consumer) Exchanges() []string { return c.vh.ExchangeNames() }

// RelaysOnly reports whether every handler of the virtual host is a
// persistent executable handler (a pool), outside mock mode: the consumer
// then runs no handler code and starts no process per request, and its
// own work per request is relaying it to a process and the response back.
func (c *Consumer) RelaysOnly() bool {
	return !c.cfg.Mock && len(c.routes) > 0 && len(c.pools()) == len(c.routes)
}

// InFlight is the number of requests being processed.
func (c *Consumer) InFlight() int { return int(c.nInflight.Load()) }

// Abort makes a running stop give up waiting: running handlers are killed
// and their messages go back to the queue. It is what a second signal does.
func (c *Consumer) Abort() {
	c.abortOnce.Do(func() { close(c.abortCh) })
}

// Healthy reports whether the consumer's dispatcher answers within ctx. A
// wedged dispatcher never answers, so a watchdog that pings only when
// Healthy returns nil lets systemd notice.
func (c *Consumer) Healthy(ctx context.Context) error {
	p := make(chan struct{})
	select {
	case c.probe <- p:
	case <-ctx.Done():
		return fmt.Errorf("dispatcher does not answer: %w", ctx.Err())
	}
	select {
	case <-p:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("dispatcher does not answer: %w", ctx.Err())
	}
}

func (c *Consumer) status(format string, args ...any) {
	c.notify("STATUS=" + fmt.Sprintf(format, args...))
}

func (c *Consumer) setCurrent(s *session) {
	c.mu.Lock()
	c.current = s
	c.mu.Unlock()
}

func (c *Consumer) live() *session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.current
}
