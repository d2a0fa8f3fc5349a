package client

import (
	"errors"
	"fmt"
)

// ErrTimeout is returned when no reply came before the call's deadline. The
// request carried the deadline as its expiration, so a consumer that had not
// started it by then never runs it.
var ErrTimeout = errors.New("no reply before the deadline")

// ErrConnectionLost is returned for a call in flight when the connection to
// the broker is lost: its reply can no longer arrive. The request may or may
// not have run.
var ErrConnectionLost = errors.New("connection to the broker lost while waiting for the reply")

// ErrInvalidRequest is wrapped by errors about the request itself (not
// JSON, a field to encrypt that is missing or not a string, no key).
var ErrInvalidRequest = errors.New("invalid request")

// ErrClosed is returned by calls on a closed Client.
var ErrClosed = errors.New("client closed")

// UnroutableError is a request the broker could not route to any queue:
// the exchange does not exist, or no queue is bound to it with the routing
// key (no consumer ever declared it).
type UnroutableError struct {
	Exchange   string
	RoutingKey string
	Reason     string
}

func (e *UnroutableError) Error() string {
	return fmt.Sprintf("request to exchange %q with routing key %q is unroutable: %s", e.Exchange, e.RoutingKey, e.Reason)
}

// ConnectError is a failure to connect to the broker.
type ConnectError struct {
	Addr string
	Err  error
}

func (e *ConnectError) Error() string { return fmt.Sprintf("connect to broker %s: %v", e.Addr, e.Err) }
func (e *ConnectError) Unwrap() error { return e.Err }
