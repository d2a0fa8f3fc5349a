package consumer

import (
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testbroker"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testrpc"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
)

var bananaRequest = []byte(`{"favourite_food":"banana","chance_percentage":50}`)

// referenceCall calls as the reference Python client does and fails the
// test unless the reply is the example handler's success.
func referenceCall(t *testing.T, url, queue string) {
	t.Helper()
	r, err := testrpc.ReferenceCall(url, "dx_example", queue, bananaRequest, 30*time.Second)
	if err != nil {
		t.Fatalf("reference client's call: %v", err)
	}
	if !r.Success || r.Message != "Determined toleration" {
		t.Fatalf("reference client's reply = %+v (%s)", r, r.Data)
	}
}

// TestReferenceClientOnFreshVHost: the reference client re-declares the
// exchange (pika's defaults: not durable) before every call; the
// consumer's declaration must be equivalent, or the call fails with 406.
func TestReferenceClientOnFreshVHost(t *testing.T) {
	h := start(t, setup{exchanges: []string{"dx_example"}})
	for range 2 {
		referenceCall(t, h.vh.URL(), h.queue())
	}
}

// TestReferenceClientAfterBrokerRestart: after a restart of the broker
// (the test's own node) the consumer reconnects and declares again, and
// the reference client's declaration still matches it.
func TestReferenceClientAfterBrokerRestart(t *testing.T) {
	n := testbroker.StartNode(t)
	h := start(t, setup{exchanges: []string{"dx_example"}, node: n})
	referenceCall(t, n.URL(), h.queue())
	n.Restart()
	testutil.WaitFor(t, "the consumer to consume again", 60*time.Second, func() bool {
		return strings.Count(h.logs.String(), `"message":"consuming"`) >= 2
	})
	referenceCall(t, n.URL(), h.queue())
}

// TestDurableExchangeOfEarlierVersionIsDeclaredAgain: an exchange that an
// earlier version declared durable is deleted and declared as configured,
// with one warning naming it, and the consumer starts; the reference
// client's calls then work.
func TestDurableExchangeOfEarlierVersionIsDeclaredAgain(t *testing.T) {
	vh := testbroker.New(t)
	declareExchange(t, vh.URL(), "dx_example", true)
	h := start(t, setup{exchanges: []string{"dx_example"}, vh: vh})
	referenceCall(t, vh.URL(), h.queue())
	if n := strings.Count(h.logs.String(), `exchange \"dx_example\" exists with other properties`); n != 1 {
		t.Errorf("%d warnings about the exchange, want 1:\n%s", n, h.logs.String())
	}
	if !strings.Contains(h.logs.String(), "exchanges.dx_example.durable: true") {
		t.Errorf("the warning does not name the setting:\n%s", h.logs.String())
	}
}

// TestDurableExchangeOptIn: exchanges.<name>.durable: true declares it
// durable; a non-durable exchange left by someone else is declared again.
func TestDurableExchangeOptIn(t *testing.T) {
	vh := testbroker.New(t)
	declareExchange(t, vh.URL(), "dx_example", false)
	h := start(t, setup{exchanges: []string{"dx_example"}, vh: vh, durable: true})
	declareExchange(t, vh.URL(), "dx_example", true) // equivalent: no 406
	c := h.caller(false)
	if r := h.call(c, "dx_example", bananaRequest); !r.Success {
		t.Fatalf("reply = %+v", r)
	}
	if _, err := testrpc.ReferenceCall(vh.URL(), "dx_example", h.queue(), bananaRequest, 5*time.Second); err == nil || !strings.Contains(err.Error(), "406") {
		t.Errorf("reference client's call on a durable exchange: %v, want its 406", err)
	}
}

// declareExchange declares a direct exchange, failing the test on a refusal.
func declareExchange(t *testing.T, url, name string, durable bool) {
	t.Helper()
	conn, err := amqp.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.ExchangeDeclare(name, "direct", durable, false, false, false, nil); err != nil {
		t.Fatalf("declare exchange %q durable=%v: %v", name, durable, err)
	}
}
