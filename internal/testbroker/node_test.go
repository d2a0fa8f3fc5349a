package testbroker

import (
	"context"
	"os"
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// TestNodeRestartKeepsPersistentMessages: a test's own node restarts
// like a broker does (persistent messages in durable queues survive,
// transient ones do not) and leaves no process behind.
func TestNodeRestartKeepsPersistentMessages(t *testing.T) {
	n := StartNode(t)
	publish := func() {
		conn, err := amqp.Dial(n.URL())
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = conn.Close() }()
		ch, err := conn.Channel()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ch.QueueDeclare("kept", true, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
		for _, mode := range []uint8{amqp.Persistent, amqp.Transient} {
			if err := ch.PublishWithContext(context.Background(), "", "kept", false, false, amqp.Publishing{DeliveryMode: mode, Body: []byte{'0' + mode}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	publish()
	n.Restart()
	out := n.Ctl("list_queues", "name", "messages", "--no-table-headers")
	if strings.TrimSpace(out) != "kept\t1" {
		t.Errorf("after the restart, queues = %q; want kept with the persistent message only", out)
	}
	name := n.Name
	n.Stop()
	n.cleanup()
	if pids := pidsOf(name); len(pids) > 0 {
		t.Errorf("processes of node %s left running: %v", name, pids)
	}
}

func pidsOf(name string) []string {
	short := strings.SplitN(name, "@", 2)[0]
	var pids []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(b), short) {
			pids = append(pids, e.Name())
		}
	}
	return pids
}
