package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fernet/fernet-go"
	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/consumer"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/handler"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testbroker"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

type echoRequest struct {
	N      int    `json:"n"`
	Secret string `json:"secret,omitempty"`
}

// rig is a real consumer serving a fresh virtual host, for the client to call.
type rig struct {
	vh      *testbroker.VHost
	cfg     Config
	release chan struct{}

	mu   sync.Mutex
	slow []int    // the n of every dx_slow run
	seen []string // secrets the echo handler saw
	ids  []string // correlation ids the echo handler saw
}

func newRig(t *testing.T) *rig {
	t.Helper()
	var k fernet.Key
	_ = k.Generate()
	r := &rig{vh: testbroker.New(t), release: make(chan struct{})}
	queue := "q-" + r.vh.Name
	cc := &config.Config{
		Path:   "test.yml",
		Server: config.Server{Host: "127.0.0.1", Port: 5672, Username: "guest", Password: "guest"},
		VirtualHosts: map[string]config.VirtualHost{r.vh.Name: {Name: r.vh.Name, Queue: queue, MaxSimultaneousRequests: 20, FernetKey: k.Encode(),
			Exchanges: map[string]config.Exchange{"dx_echo": {Type: "direct"}, "dx_slow": {Type: "direct"}, "dx_progress": {Type: "direct"}, "dx_durable": {Type: "direct", Durable: true}}}},
	}
	c, err := consumer.New(consumer.Options{Config: cc, VirtualHost: r.vh.Name, Logger: zerolog.Nop(), Handlers: map[string]handler.Handler{
		"dx_echo": handler.Typed("echo", func(_ context.Context, call *handler.Call, req echoRequest) (wire.Reply[echoRequest], error) {
			r.mu.Lock()
			r.seen = append(r.seen, req.Secret)
			r.ids = append(r.ids, call.CorrelationID)
			r.mu.Unlock()
			return wire.Reply[echoRequest]{Success: true, Message: "echo", Data: req}, nil
		}, handler.WithLockAttribute("n")),
		"dx_durable": handler.Typed("echo on a durable exchange", func(_ context.Context, _ *handler.Call, req echoRequest) (wire.Reply[echoRequest], error) {
			return wire.Reply[echoRequest]{Success: true, Message: "durable", Data: req}, nil
		}),
		"dx_progress": handler.Typed("reports N steps of progress", func(ctx context.Context, _ *handler.Call, req echoRequest) (wire.Reply[echoRequest], error) {
			for i := 1; i <= req.N; i++ {
				handler.Progress(ctx, wire.Progress{State: "Building", Message: fmt.Sprint("step ", i), Percent: wire.Percentage(float64(100 * i / req.N))})
				time.Sleep(250 * time.Millisecond) // the work, longer than the consumer's 200 ms between updates
			}
			return wire.Reply[echoRequest]{Success: true, Message: "built", Data: req}, nil
		}, handler.WithLockAttribute("n")),
		"dx_slow": handler.Typed("slow, one at a time", func(ctx context.Context, _ *handler.Call, req echoRequest) (wire.Reply[echoRequest], error) {
			r.mu.Lock()
			r.slow = append(r.slow, req.N)
			r.mu.Unlock()
			select {
			case <-r.release:
			case <-ctx.Done():
			}
			return wire.Reply[echoRequest]{Success: true, Message: "slow", Data: req}, nil
		}),
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	r.cfg = Config{Server: cc.Server, VirtualHost: r.vh.Name, Queue: queue, FernetKey: k.Encode()}
	waitServing(t, r.cfg)
	return r
}

// waitServing waits until the consumer answers (it declares the exchanges
// when it connects).
func waitServing(t *testing.T, cfg Config) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		cl, err := Dial(context.Background(), cfg)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err = cl.Call(ctx, "dx_echo", echoRequest{N: -1})
			cancel()
			_ = cl.Close()
			if err == nil {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumer not serving: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func dial(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestConcurrentCalls(t *testing.T) {
	r := newRig(t)
	for _, direct := range []bool{false, true} {
		t.Run(fmt.Sprint("direct_reply_to=", direct), func(t *testing.T) {
			cfg := r.cfg
			cfg.DirectReplyTo = direct
			c := dial(t, cfg)
			var wg sync.WaitGroup
			errs := make(chan error, 100)
			for i := 0; i < 100; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					got, err := CallTyped[echoRequest, echoRequest](context.Background(), c, "dx_echo", echoRequest{N: i})
					if err != nil {
						errs <- err
					} else if !got.Success || got.Data.N != i {
						errs <- fmt.Errorf("call %d got %+v", i, got)
					}
				}(i)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

func TestTimeoutNeverRunsLater(t *testing.T) {
	r := newRig(t)
	c := dial(t, r.cfg)
	// The first call occupies dx_slow, which runs one request at a time.
	first := make(chan error, 1)
	go func() {
		_, err := c.Call(context.Background(), "dx_slow", echoRequest{N: 1})
		first <- err
	}()
	testutil.WaitFor(t, "the first call to run", 30*time.Second, func() bool { r.mu.Lock(); defer r.mu.Unlock(); return len(r.slow) == 1 })
	// The second is delivered at once (prefetch 20) but waits for the lock,
	// and its caller gives up.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := c.Call(ctx, "dx_slow", echoRequest{N: 2}); !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	close(r.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	// The third waits behind the second, if the second were to run.
	if _, err := c.Call(context.Background(), "dx_slow", echoRequest{N: 3}); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if fmt.Sprint(r.slow) != "[1 3]" {
		t.Errorf("dx_slow ran %v, want [1 3]: the request whose caller gave up must never run", r.slow)
	}
}

func TestUnroutable(t *testing.T) {
	r := newRig(t)
	tests := []struct {
		name     string
		queue    string
		direct   bool
		exchange string
		reason   string
	}{
		{"no such exchange", r.cfg.Queue, false, "dx_nowhere", "does not exist"},
		{"no such exchange, direct reply-to", r.cfg.Queue, true, "dx_nowhere", "does not exist"},
		{"no queue bound with that routing key", "wrong-queue", true, "dx_echo", "NO_ROUTE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := r.cfg
			cfg.Queue, cfg.DirectReplyTo = tt.queue, tt.direct
			c := dial(t, cfg)
			start := time.Now()
			_, err := c.Call(context.Background(), tt.exchange, echoRequest{N: 1})
			var ue *UnroutableError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("err = %v, want unroutable (%s)", err, tt.reason)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("took %v, want at once", took)
			}
			// The client still works.
			cfg.Queue = r.cfg.Queue
			if _, err := dial(t, cfg).Call(context.Background(), "dx_echo", echoRequest{N: 2}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestReconnect(t *testing.T) {
	r := newRig(t)
	c := dial(t, r.cfg)
	if _, err := c.Call(context.Background(), "dx_echo", echoRequest{N: 1}); err != nil {
		t.Fatal(err)
	}
	// A call in flight when the connection is lost fails clearly.
	inflight := make(chan error, 1)
	go func() {
		_, err := c.Call(context.Background(), "dx_slow", echoRequest{N: 1})
		inflight <- err
	}()
	testutil.WaitFor(t, "the slow call to run", 30*time.Second, func() bool { r.mu.Lock(); defer r.mu.Unlock(); return len(r.slow) == 1 })
	if n := r.vh.CloseConnectionsMatching(t, "rabbitmq-rpc client", "test: client reconnect"); n < 1 {
		t.Fatalf("closed %d client connections", n)
	}
	if err := <-inflight; !errors.Is(err, ErrConnectionLost) {
		t.Errorf("in-flight call: err = %v, want ErrConnectionLost", err)
	}
	close(r.release)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if got, err := CallTyped[echoRequest, echoRequest](ctx, c, "dx_echo", echoRequest{N: 2}); err != nil || got.Data.N != 2 {
		t.Fatalf("after reconnecting: %+v, %v", got, err)
	}
}

func TestEncrypt(t *testing.T) {
	r := newRig(t)
	c := dial(t, r.cfg)
	got, err := CallTyped[echoRequest, echoRequest](context.Background(), c, "dx_echo", echoRequest{N: 5, Secret: "s3cret"}, Encrypt("secret"))
	if err != nil || !got.Success {
		t.Fatalf("%+v, %v", got, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[len(r.seen)-1] != "s3cret" {
		t.Errorf("handler saw %q, want the decrypted secret", r.seen[len(r.seen)-1])
	}
}

func TestEncode(t *testing.T) {
	var k fernet.Key
	_ = k.Generate()
	tests := []struct {
		name    string
		body    any
		encrypt []string
		key     *fernet.Key
		err     string
	}{
		{"plain", map[string]int{"a": 1}, nil, nil, ""},
		{"raw bytes", []byte(`{"a":1}`), nil, nil, ""},
		{"encrypt", map[string]string{"pw": "x"}, []string{"pw"}, &k, ""},
		{"no key", map[string]string{"pw": "x"}, []string{"pw"}, nil, "no fernet_key"},
		{"missing field", map[string]string{"pw": "x"}, []string{"nope"}, &k, "no such field"},
		{"not a string", map[string]int{"pw": 1}, []string{"pw"}, &k, "only string fields"},
		{"not an object", []byte(`[1]`), []string{"pw"}, &k, "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := encode(tt.body, tt.encrypt, tt.key)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.key != nil && (strings.Contains(string(out), `"x"`) || !strings.Contains(string(out), `"gAAAAA`)) {
				t.Errorf("not encrypted: %s", out)
			}
		})
	}
}

func TestDialFailsClearly(t *testing.T) {
	_, err := Dial(context.Background(), Config{Server: config.Server{Host: "127.0.0.1", Port: 1, Username: "guest", Password: "guest"}, VirtualHost: "/", Queue: "q"})
	var ce *ConnectError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("err = %v", err)
	}
}

// TestDialSkipsADownNode: with server.hosts, the client connects to the
// first node that takes it; when none does, the error names them all.
func TestDialSkipsADownNode(t *testing.T) {
	r := newRig(t)
	live := net.JoinHostPort(r.cfg.Server.Host, strconv.Itoa(r.cfg.Server.Port))
	cfg := r.cfg
	cfg.Server.Hosts = []string{"127.0.0.1:1", live}
	cfg.Server.Host, cfg.Server.Port = "127.0.0.1", 1 // as the configuration's loader sets them: the first entry
	c := dial(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if resp, err := c.Call(ctx, "dx_echo", echoRequest{N: 7}); err != nil || !resp.Success {
		t.Fatalf("call through the second node: %+v, %v", resp, err)
	}
	cfg.Server.Hosts = []string{"127.0.0.1:1", "127.0.0.1:2"}
	_, err := Dial(context.Background(), cfg)
	var ce *ConnectError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "127.0.0.1:1, 127.0.0.1:2") {
		t.Fatalf("no node up: err = %v, want a ConnectError naming both", err)
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	r := newRig(t)
	ignore := goleak.IgnoreCurrent()
	for i := 0; i < 3; i++ {
		c, err := Dial(context.Background(), r.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Call(context.Background(), "dx_echo", echoRequest{N: i}); err != nil {
			t.Fatal(err)
		}
		_ = c.Close()
	}
	goleak.VerifyNone(t, ignore)
}
