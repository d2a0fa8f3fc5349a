package consumer

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/rs/zerolog"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/handler"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testbroker"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testrpc"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
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
	logs     *testutil.SyncBuffer
	journal  *memJournal
	notified *notes
}

type setup struct {
	exchanges   []string
	handlers    map[string]handler.Handler
	handlersDir string
	prefetch    int
	fernetKey   string
	fernetKeys  []string // a rotation: all decrypt
	mock        bool
	drain       time.Duration
	maxBytes    int
	before      func(c *Consumer)
	vh          *testbroker.VHost // an existing virtual host, to share with another harness
	node        *testbroker.Node  // a test's own node: its default virtual host instead of the shared broker's
	durable     bool              // declare the exchanges durable (exchanges.<name>.durable: true)
	stateDir    string
	quorum      int      // > 0: queue_type quorum with this delivery_limit
	hosts       []string // server.hosts, instead of the broker or node
	retryLimit  int      // the virtual host's retry_limit (0: unset)
	acrossHosts bool     // locks_across_hosts: true
}

func start(t *testing.T, s setup) *harness {
	t.Helper()
	vh, port := s.vh, 5672
	if s.node != nil {
		vh, port = &testbroker.VHost{Name: "/"}, s.node.Port
	}
	if vh == nil {
		vh = testbroker.New(t)
	}
	if s.prefetch == 0 {
		s.prefetch = 5
	}
	if s.handlersDir == "" {
		s.handlersDir = exampleHandlers
	}
	exch := map[string]config.Exchange{}
	for _, e := range s.exchanges {
		exch[e] = config.Exchange{Type: "direct", Durable: s.durable}
	}
	cfg := &config.Config{
		Path:              "test.yml",
		Mock:              s.mock,
		HandlersDirectory: s.handlersDir,
		StateDirectory:    s.stateDir,
		Server:            config.Server{Host: "127.0.0.1", Port: port, Username: "guest", Password: "guest"},
		VirtualHosts: map[string]config.VirtualHost{vh.Name: {
			Name: vh.Name, Queue: "q-" + vh.Name, MaxSimultaneousRequests: s.prefetch, FernetKey: s.fernetKey, FernetKeys: s.fernetKeys, Exchanges: exch,
			QueueType: config.QueueClassic, RetryLimit: s.retryLimit,
		}},
	}
	if s.quorum > 0 {
		v := cfg.VirtualHosts[vh.Name]
		v.QueueType, v.DeliveryLimit, v.DeadLetterQueue = config.QueueQuorum, s.quorum, v.Queue+config.DeadLetterSuffix
		cfg.VirtualHosts[vh.Name] = v
	}
	if s.acrossHosts {
		v := cfg.VirtualHosts[vh.Name]
		v.LocksAcrossHosts = true
		cfg.VirtualHosts[vh.Name] = v
	}
	if s.hosts != nil {
		cfg.Server.Host, cfg.Server.Hosts = "", s.hosts
	}
	h := &harness{t: t, vh: vh, cfg: cfg, done: make(chan error, 1), logs: &testutil.SyncBuffer{}, journal: &memJournal{}, notified: newNotes()}
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

// caller connects a test RPC caller to the harness's virtual host.
func (h *harness) caller(direct bool) *testrpc.Caller {
	return testrpc.New(h.t, h.vh.URL(), direct)
}

// callerAt connects a test RPC caller to a node's default virtual host.
func (h *harness) callerAt(n *testbroker.Node) *testrpc.Caller {
	return testrpc.New(h.t, n.URL(), false)
}

// call makes one RPC on the harness's queue.
func (h *harness) call(c *testrpc.Caller, exchange string, body any) wire.Response {
	h.t.Helper()
	return c.Call(exchange, h.queue(), body)
}

func mustWrite(t testing.TB, path, body string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
}

func amqpPublishing() amqp.Publishing { return amqp.Publishing{} }

// mustJSON encodes v for a test; it fails the test when v cannot be encoded.
func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
