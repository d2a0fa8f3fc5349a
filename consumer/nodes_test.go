package consumer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/handler"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testbroker"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
)

// TestNodeListOrder: the nodes are tried in order from the last good one;
// a lost node moves the start past it, round the list; when none answers,
// the error names each, and is a refusal when one refused.
func TestNodeListOrder(t *testing.T) {
	tests := []struct {
		name    string
		addrs   []string
		up      map[string]string // node -> "" (accepts), "down", "refuses"
		failed  []string          // nodes lost before the dial
		tried   string
		got     string
		errWant string
		refusal bool
	}{
		{"first up", []string{"a", "b", "c"}, map[string]string{"a": "", "b": "", "c": ""}, nil, "a", "a", "", false},
		{"first down", []string{"a", "b", "c"}, map[string]string{"a": "down", "b": "", "c": ""}, nil, "a,b", "b", "", false},
		{"after losing a", []string{"a", "b", "c"}, map[string]string{"a": "", "b": "", "c": ""}, []string{"a"}, "b", "b", "", false},
		{"round the list", []string{"a", "b", "c"}, map[string]string{"a": "", "b": "down", "c": "down"}, []string{"a"}, "b,c,a", "a", "", false},
		{"losing another node keeps the start", []string{"a", "b"}, map[string]string{"a": "", "b": ""}, []string{"b"}, "a", "a", "", false},
		{"all down", []string{"a", "b"}, map[string]string{"a": "down", "b": "down"}, nil, "a,b", "", "no broker node of 2 accepts the connection: a down; b down", false},
		{"one refuses", []string{"a", "b"}, map[string]string{"a": "refuses", "b": "down"}, nil, "a,b", "", "a refuses; b down", true},
		{"one node: its own error", []string{"a"}, map[string]string{"a": "down"}, nil, "a", "", "a down", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := &nodeList{addrs: tt.addrs}
			for _, f := range tt.failed {
				n.failed(f)
			}
			var tried []string
			conn, addr, err := n.dial(context.Background(), func(addr string) (*amqp.Connection, error) {
				tried = append(tried, addr)
				switch tt.up[addr] {
				case "down":
					return nil, errors.New(addr + " down")
				case "refuses":
					return nil, &BrokerRefusedError{Err: errors.New(addr + " refuses")}
				}
				return &amqp.Connection{}, nil
			})
			if strings.Join(tried, ",") != tt.tried {
				t.Errorf("tried %v, want %s", tried, tt.tried)
			}
			if tt.errWant == "" {
				if err != nil || conn == nil || addr != tt.got {
					t.Errorf("dial = %v %q %v, want node %s", conn, addr, err, tt.got)
				}
				return
			}
			var refused *BrokerRefusedError
			if err == nil || !strings.Contains(err.Error(), tt.errWant) || errors.As(err, &refused) != tt.refusal {
				t.Errorf("error %v (refusal %v), want %q (refusal %v)", err, errors.As(err, &refused), tt.errWant, tt.refusal)
			}
		})
	}
}

// deadAddr is an address where nothing listens.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// TestFailoverBetweenNodes: a consumer given a dead address and two
// broker nodes of the test's own consumes through the first live node;
// when that node stops it reconnects to the other and keeps answering;
// when that one stops too and the first is back, it goes round the list
// (past the dead address) to the first again. These are standalone nodes,
// not a cluster: each holds its own queue, which the consumer declares on
// reconnecting.
func TestFailoverBetweenNodes(t *testing.T) {
	a, b := testbroker.StartNode(t), testbroker.StartNode(t)
	h := start(t, setup{exchanges: []string{"dx_echo"}, handlers: map[string]handler.Handler{"dx_echo": handler.Typed("echo", echo)},
		vh: &testbroker.VHost{Name: "/"}, hosts: []string{deadAddr(t), a.Addr(), b.Addr()}})
	answers := func(node *testbroker.Node, n int) {
		t.Helper()
		testutil.WaitFor(t, "consuming at "+node.Addr(), 60*time.Second, func() bool {
			return strings.Contains(h.logs.String(), fmt.Sprintf(`"node":%q,"queue"`, node.Addr()))
		})
		c := h.callerAt(node)
		r := h.call(c, "dx_echo", lockRequest{Food: node.Addr(), N: n})
		if !r.Success || !strings.Contains(string(r.Data), node.Addr()) {
			t.Fatalf("reply through %s = %+v %s", node.Addr(), r, r.Data)
		}
	}
	answers(a, 1)
	a.Stop()
	answers(b, 2)
	a.Start()
	b.Stop()
	answers(a, 3)
	if n := strings.Count(h.logs.String(), `"message":"consuming"`); n != 3 {
		t.Errorf("consumed %d times, want 3 (a, b, a)", n)
	}
}
