package consumer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/rs/zerolog"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testbroker"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// exampleHandlers is the repository's example handlers directory.
var exampleHandlers, _ = filepath.Abs("../examples/handlers")

// harness runs a Consumer on a fresh virtual host.
type harness struct {
	t        *testing.T
	vh       *testbroker.VHost
	cfg      *config.Config
	c        *Consumer
	cancel   context.CancelFunc
	done     chan error
	logs     *syncBuffer
	journal  *memJournal
	notified *notes
}

type setup struct {
	exchanges   []string
	handlers    map[string]Handler
	handlersDir string
	prefetch    int
	fernetKey   string
	mock        bool
	drain       time.Duration
	maxBytes    int
	before      func(c *Consumer)
}

func start(t *testing.T, s setup) *harness {
	t.Helper()
	vh := testbroker.New(t)
	if s.prefetch == 0 {
		s.prefetch = 5
	}
	if s.handlersDir == "" {
		s.handlersDir = exampleHandlers
	}
	exch := map[string]config.Exchange{}
	for _, e := range s.exchanges {
		exch[e] = config.Exchange{Type: "direct"}
	}
	cfg := &config.Config{
		Path:              "test.yml",
		Mock:              s.mock,
		HandlersDirectory: s.handlersDir,
		Server:            config.Server{Host: "127.0.0.1", Port: 5672, Username: "guest", Password: "guest"},
		VirtualHosts: map[string]config.VirtualHost{vh.Name: {
			Name: vh.Name, Queue: "q-" + vh.Name, MaxSimultaneousRequests: s.prefetch, FernetKey: s.fernetKey, Exchanges: exch,
		}},
	}
	h := &harness{t: t, vh: vh, cfg: cfg, done: make(chan error, 1), logs: &syncBuffer{}, journal: &memJournal{}, notified: newNotes()}
	c, err := New(Options{
		Config: cfg, VirtualHost: vh.Name, Handlers: s.handlers,
		Logger:  zerolog.New(h.logs),
		Journal: h.journal, Notify: h.notified.add, DrainTimeout: s.drain, MaxRequestBytes: s.maxBytes,
		Backoff: Backoff{Min: 50 * time.Millisecond, Max: time.Second},
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if s.before != nil {
		s.before(c)
	}
	h.c = c
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- c.Run(ctx) }()
	t.Cleanup(func() {
		h.stop()
		if t.Failed() {
			t.Logf("consumer log:\n%s", h.logs.String())
		}
	})
	h.notified.wait(t, "READY=1")
	return h
}

var stopped sync.Map

// stop stops the consumer and returns Run's error.
func (h *harness) stop() error {
	if v, ok := stopped.Load(h); ok {
		return v.(errBox).err
	}
	h.cancel()
	select {
	case err := <-h.done:
		stopped.Store(h, errBox{err})
		return err
	case <-time.After(60 * time.Second):
		h.t.Fatal("consumer did not stop within 60s")
		return nil
	}
}

type errBox struct{ err error }

func (h *harness) queue() string { return h.cfg.VirtualHosts[h.vh.Name].Queue }

// notes records sd_notify states.
type notes struct {
	mu     sync.Mutex
	states []string
	ch     chan struct{}
}

func newNotes() *notes { return &notes{ch: make(chan struct{})} }

func (n *notes) add(s string) {
	n.mu.Lock()
	n.states = append(n.states, s)
	close(n.ch)
	n.ch = make(chan struct{})
	n.mu.Unlock()
}

// wait waits for a state with the given prefix and returns it.
func (n *notes) wait(t *testing.T, prefix string) string {
	t.Helper()
	deadline := time.After(30 * time.Second)
	seen := 0
	for {
		n.mu.Lock()
		for ; seen < len(n.states); seen++ {
			if strings.HasPrefix(n.states[seen], prefix) {
				s := n.states[seen]
				n.mu.Unlock()
				return s
			}
		}
		ch := n.ch
		n.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("no notification %q within 30s; got %q", prefix, n.all())
		}
	}
}

func (n *notes) all() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.states...)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// memJournal keeps records in memory.
type memJournal struct {
	mu   sync.Mutex
	recs []logship.Record
}

func (j *memJournal) Append(r logship.Record) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.recs = append(j.recs, r)
	return nil
}

func (j *memJournal) records() []logship.Record {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]logship.Record(nil), j.recs...)
}

// caller is a minimal RPC caller speaking the wire contract, with a reply
// queue bound to the request exchanges (the reference client's way) or
// direct reply-to.
type caller struct {
	t       *testing.T
	ch      *amqp.Channel
	replyTo string
	direct  bool
	mu      sync.Mutex
	waiting map[string]chan wire.Response
	bound   map[string]bool
	seq     int
}

func (h *harness) caller(direct bool) *caller {
	t := h.t
	t.Helper()
	conn, err := amqp.Dial(h.vh.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	c := &caller{t: t, ch: ch, direct: direct, waiting: map[string]chan wire.Response{}, bound: map[string]bool{}}
	var deliveries <-chan amqp.Delivery
	if direct {
		c.replyTo = wire.DirectReplyTo
		deliveries, err = ch.Consume(c.replyTo, "", true, false, false, false, nil)
	} else {
		q, qerr := ch.QueueDeclare("", false, true, true, false, nil)
		if qerr != nil {
			t.Fatal(qerr)
		}
		c.replyTo = q.Name
		deliveries, err = ch.Consume(q.Name, "", true, true, false, false, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for d := range deliveries {
			var r wire.Response
			if err := json.Unmarshal(d.Body, &r); err != nil {
				r = wire.Response{Message: "UNPARSABLE REPLY: " + string(d.Body)}
			}
			c.mu.Lock()
			w := c.waiting[d.CorrelationId]
			delete(c.waiting, d.CorrelationId)
			c.mu.Unlock()
			if w != nil {
				w <- r
			}
		}
	}()
	return c
}

// send publishes a request and returns the channel its reply arrives on.
func (c *caller) send(exchange, routingKey string, body []byte, pub amqp.Publishing) (string, chan wire.Response) {
	c.t.Helper()
	c.mu.Lock()
	if !c.direct && !c.bound[exchange] {
		c.bound[exchange] = true
		c.mu.Unlock()
		if err := c.ch.QueueBind(c.replyTo, c.replyTo, exchange, false, nil); err != nil {
			c.t.Fatal(err)
		}
		c.mu.Lock()
	}
	c.seq++
	if pub.CorrelationId == "" {
		pub.CorrelationId = fmt.Sprintf("%s-%d-%d", c.t.Name(), time.Now().UnixNano(), c.seq)
	}
	if pub.ReplyTo == "" {
		pub.ReplyTo = c.replyTo
	}
	if pub.ReplyTo == "-" {
		pub.ReplyTo = ""
	}
	if pub.CorrelationId == "-" {
		pub.CorrelationId = ""
	}
	pub.ContentType = wire.ContentType
	pub.Body = body
	w := make(chan wire.Response, 1)
	c.waiting[pub.CorrelationId] = w
	c.mu.Unlock()
	if err := c.ch.PublishWithContext(context.Background(), exchange, routingKey, false, false, pub); err != nil {
		c.t.Fatal(err)
	}
	return pub.CorrelationId, w
}

// call makes one RPC and waits for its reply.
func (c *caller) call(h *harness, exchange string, body any) wire.Response {
	c.t.Helper()
	b, ok := body.([]byte)
	if !ok {
		b, _ = json.Marshal(body)
	}
	_, w := c.send(exchange, h.queue(), b, amqp.Publishing{})
	return c.wait(w)
}

func (c *caller) wait(w chan wire.Response) wire.Response {
	c.t.Helper()
	select {
	case r := <-w:
		return r
	case <-time.After(60 * time.Second):
		c.t.Fatal("no reply within 60s")
		return wire.Response{}
	}
}

func mustWrite(t *testing.T, path, body string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
}
