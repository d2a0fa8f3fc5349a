package e2e

import (
	"strings"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testrpc"
)

// TestUpgradeFromDurableExchange: a broker still holds the exchange an
// earlier version declared durable. The consumer starts, says once which
// exchange it declares again and how to keep it durable, and the reference
// client's calls work; a second start finds it as configured and says
// nothing.
func TestUpgradeFromDurableExchange(t *testing.T) {
	w := newWorld(t, 5)
	conn, err := amqp.Dial(w.vh.URL())
	if err != nil {
		t.Fatal(err)
	}
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.ExchangeDeclare("dx_record", "direct", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close()
	warning := `exchange \"dx_record\" exists with other properties`
	for i, want := range []int{1, 0} {
		p := w.start()
		p.waitLog(t, `"message":"consuming"`)
		r, err := testrpc.ReferenceCall(w.vh.URL(), "dx_record", w.queue, []byte(`{"n":1}`), 30*time.Second)
		if err != nil || !r.Success {
			t.Fatalf("start %d: reference client's call: %+v, %v", i+1, r, err)
		}
		if got := strings.Count(p.stderr.String(), warning); got != want {
			t.Errorf("start %d: %d warnings naming the exchange, want %d:\n%s", i+1, got, want, p.stderr.String())
		}
		p.signal(t, syscall.SIGTERM)
		if code, _ := p.wait(t, 30*time.Second); code != 0 {
			t.Fatalf("start %d: exit status %d", i+1, code)
		}
	}
}
