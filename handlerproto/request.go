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
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
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
	// Attempt counts the runs of the request: absent (0) or 1 on the
	// first, 2 after one "retry later" (RetryLater), and so on.
	Attempt int `json:"attempt,omitempty"`
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

// parseRequest reads a request line. The consumer's lines have one shape
// (docs/handlers.md: compact, its keys in this order), which is read
// without a decoder, the request object copied out of line; any other line
// goes through encoding/json.
func parseRequest(line []byte) (Request, error) {
	if r, ok := parseFramed(line); ok {
		return r, nil
	}
	var r Request
	err := json.Unmarshal(line, &r)
	return r, err
}

// parseFramed reads a line of the consumer's shape: false for any other
// (a key missing, another order, an escape in a string, spaces), which
// parseRequest then decodes in full.
func parseFramed(line []byte) (Request, bool) {
	var r Request
	f := framed{rest: line, ok: true}
	f.key(`{"correlation_id":`)
	r.CorrelationID = f.str()
	f.key(`,"exchange":`)
	r.Exchange = f.str()
	f.key(`,"virtual_host":`)
	r.VirtualHost = f.str()
	f.key(`,"redelivered":`)
	r.Redelivered = f.boolean()
	f.key(`,"deadline":`)
	r.Deadline = f.millis()
	if rest, ok := bytes.CutPrefix(f.rest, []byte(`,"attempt":`)); ok && f.ok {
		f.rest = rest
		if n := f.millis(); n != nil {
			r.Attempt = int(*n)
		}
	}
	f.key(`,"request":`)
	obj, ok := bytes.CutSuffix(f.rest, []byte("}"))
	if !f.ok || !ok || len(obj) < 2 || obj[0] != '{' || !json.Valid(obj) {
		return Request{}, false
	}
	r.Request = bytes.Clone(obj)
	return r, true
}

// framed reads a request line of the consumer's shape from its start;
// ok turns false at the first byte that does not fit.
type framed struct {
	rest []byte
	ok   bool
}

// key reads the given bytes.
func (f *framed) key(prefix string) {
	if f.ok {
		f.rest, f.ok = bytes.CutPrefix(f.rest, []byte(prefix))
	}
}

// str reads a string that holds no escape and only bytes that need none.
func (f *framed) str() string {
	if !f.ok || len(f.rest) < 2 || f.rest[0] != '"' {
		f.ok = false
		return ""
	}
	for i := 1; i < len(f.rest); i++ {
		c := f.rest[i]
		if c == '\\' || c < 0x20 {
			break
		}
		if c == '"' {
			if s := f.rest[1:i]; utf8.Valid(s) {
				f.rest = f.rest[i+1:]
				return string(s)
			}
			break
		}
	}
	f.ok = false
	return ""
}

// boolean reads true or false.
func (f *framed) boolean() bool {
	switch {
	case !f.ok:
	case bytes.HasPrefix(f.rest, []byte("true")):
		f.rest = f.rest[4:]
		return true
	case bytes.HasPrefix(f.rest, []byte("false")):
		f.rest = f.rest[5:]
		return false
	}
	f.ok = false
	return false
}

// millis reads null, or a non-negative integer without leading zeros.
func (f *framed) millis() *int64 {
	if !f.ok {
		return nil
	}
	if rest, null := bytes.CutPrefix(f.rest, []byte("null")); null {
		f.rest = rest
		return nil
	}
	n := 0
	for n < len(f.rest) && n < 18 && f.rest[n] >= '0' && f.rest[n] <= '9' {
		n++
	}
	ms, err := strconv.ParseInt(string(f.rest[:n]), 10, 64)
	if n == 0 || (n > 1 && f.rest[0] == '0') || err != nil {
		f.ok = false
		return nil
	}
	f.rest = f.rest[n:]
	return &ms
}
