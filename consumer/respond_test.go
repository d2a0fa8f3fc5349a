package consumer

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/rs/zerolog"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/handler"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// benchRequest is the request of the echo handler of these tests, shaped
// like the benchmark's (bench/echo-consumer).
type benchRequest struct {
	N       int    `json:"n"`
	Payload string `json:"payload,omitempty"`
}

// offline makes a Consumer that is never connected, to drive its pipeline
// directly.
func offline(t testing.TB, stateDir string) *Consumer {
	t.Helper()
	cfg := &config.Config{
		Path: "test.yml", HandlersDirectory: t.TempDir(), StateDirectory: stateDir,
		VirtualHosts: map[string]config.VirtualHost{"v": {Name: "v", Queue: "q", MaxSimultaneousRequests: 64,
			Exchanges: map[string]config.Exchange{"dx_echo": {Type: "direct"}}}},
	}
	echo := handler.Typed("echo", func(_ context.Context, _ *handler.Call, r benchRequest) (wire.Reply[benchRequest], error) {
		return wire.Reply[benchRequest]{Success: true, Message: "echo", Data: r}, nil
	}, handler.WithLockAttribute("n"))
	c, err := New(Options{Config: cfg, VirtualHost: "v", Handlers: map[string]handler.Handler{"dx_echo": echo}, Logger: zerolog.New(io.Discard)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// TestRespondWaitingForAStoppedFirstRun: a request delivered again while
// its first run is still going, when the consumer is forced to stop, goes
// back to the queue instead of being acknowledged without an answer.
func TestRespondWaitingForAStoppedFirstRun(t *testing.T) {
	c := offline(t, "")
	in := incoming{exchange: "dx_echo", correlationID: "c1", replyTo: "r", redelivered: true, body: []byte(`{"n":1}`)}
	key := outcomeKey(in.exchange, in.correlationID, in.body)
	if _, first := c.outcomes.begin(key); !first {
		t.Fatal("the outcome of the first run is already taken")
	}
	aborted, abort := context.WithCancel(context.Background())
	abort()
	res := c.respond(context.Background(), aborted, &requestLog{base: &c.log}, in)
	if !res.requeue || res.reply != nil {
		t.Fatalf("result = %+v, want requeue", res)
	}
}

// BenchmarkRespond measures the consumer's work for one request without
// the broker: checks, decoding, validation, lock, Go handler, response
// check, log lines and the outcome (memory and file).
func BenchmarkRespond(b *testing.B) {
	c := offline(b, b.TempDir())
	ctx := context.Background()
	payload := `"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"`
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		in := incoming{exchange: "dx_echo", correlationID: fmt.Sprint("id-", i), replyTo: "r",
			body: fmt.Appendf(nil, `{"n":%d,"payload":%s}`, i, payload)}
		log := &requestLog{base: &c.log, exchange: in.exchange, cid: in.correlationID}
		if res := c.respond(ctx, ctx, log, in); res.reply == nil {
			b.Fatal("no reply")
		}
	}
}
