package consumer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	amqp "github.com/rabbitmq/amqp091-go"
)

// nodeList is the broker nodes a consumer may connect to (server.hosts,
// or server.host alone), in the configured order, and the node the next
// attempt starts at: the node of the last connection, until that node
// fails; then the one after it, round the list. Only Run's goroutine uses
// it.
type nodeList struct {
	addrs []string // host:port
	next  int      // index in addrs of the node tried first
}

// dial connects to the first node, from next on, that accepts the
// connection, and returns it with that node's address. When none does,
// the error names each node's failure; it is a *BrokerRefusedError when
// one of them refused (bad credentials, say), so that a first start with
// a wrong configuration stops at once.
func (n *nodeList) dial(ctx context.Context, dial func(addr string) (*amqp.Connection, error)) (*amqp.Connection, string, error) {
	if len(n.addrs) == 1 {
		conn, err := dial(n.addrs[0])
		return conn, n.addrs[0], err
	}
	var failures []string
	var refused *BrokerRefusedError
	for i := range n.addrs {
		if err := ctx.Err(); err != nil {
			return nil, "", err
		}
		k := (n.next + i) % len(n.addrs)
		conn, err := dial(n.addrs[k])
		if err == nil {
			n.next = k
			return conn, n.addrs[k], nil
		}
		if refused == nil {
			errors.As(err, &refused)
		}
		failures = append(failures, err.Error())
	}
	err := fmt.Errorf("no broker node of %d accepts the connection: %s", len(n.addrs), strings.Join(failures, "; "))
	if refused != nil {
		return nil, "", &BrokerRefusedError{Err: err}
	}
	return nil, "", err
}

// failed moves the next attempt past addr, the node of a session that was
// lost or could not be set up, if it is the one tried first.
func (n *nodeList) failed(addr string) {
	if len(n.addrs) > 1 && n.addrs[n.next] == addr {
		n.next = (n.next + 1) % len(n.addrs)
	}
}
