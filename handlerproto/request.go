// Package handlerproto is the Go side of the persistent handler protocol,
// rabbitmq-consumer/1 (docs/handlers.md, "Persistent handlers"), for
// executable handlers compiled from Go: a program whose contract.json says
// "mode": "persistent" calls Serve with a function from a request to its
// response, and this package writes the handshake, reads the request lines
// and writes the response lines.
//
//	func main() {
//		err := handlerproto.Serve(context.Background(), func(ctx context.Context, r handlerproto.Request) (wire.Response, error) {
//			return handlerproto.Reply(true, "echo", r.Request)
//		})
//		if err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			os.Exit(1)
//		}
//	}
package handlerproto

import (
	"encoding/json"
	"time"
)

// Protocol is the protocol's name, as the handshake line and the
// RPC_PROTOCOL environment variable give it.
const Protocol = "rabbitmq-consumer/1"

// Request is one request line: a request and its metadata.
type Request struct {
	// CorrelationID is the caller's correlation id.
	CorrelationID string `json:"correlation_id"`
	// Exchange is the exchange the request was published to.
	Exchange string `json:"exchange"`
	// VirtualHost is the consumer's virtual host.
	VirtualHost string `json:"virtual_host"`
	// Redelivered is true when the broker delivered the request before.
	Redelivered bool `json:"redelivered"`
	// Deadline is the caller's deadline in Unix milliseconds, or nil.
	Deadline *int64 `json:"deadline"`
	// Request is the request object: decrypted, defaults filled in,
	// validated against the contract's request schema.
	Request json.RawMessage `json:"request"`
}

// DeadlineTime is the caller's deadline, and false when it has none.
func (r Request) DeadlineTime() (time.Time, bool) {
	if r.Deadline == nil {
		return time.Time{}, false
	}
	return time.UnixMilli(*r.Deadline), true
}
