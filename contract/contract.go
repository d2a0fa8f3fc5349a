// Package contract is what an exchange's handler promises: contract.json
// parsed and checked, its schemas compiled, requests and responses
// validated (the quick checks first, the full JSON Schema validator for
// the rest), schema defaults, mock responses and the lock value of a
// request. It is pure: no goroutines, no processes, no network.
package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// DefaultTimeout is a handler's timeout when its contract names none.
const DefaultTimeout = 300 * time.Second

// Contract is what a handler promises: its request and response schemas,
// its lock attribute, its timeout, a description and examples.
type Contract struct {
	// Description says what the handler does.
	Description string `json:"description"`
	// LockAttribute names the request attribute whose value serialises
	// requests; empty means one request at a time on the exchange.
	LockAttribute string `json:"lock_attribute,omitempty"`
	// TimeoutSeconds bounds one run of the handler; 0 means DefaultTimeout.
	TimeoutSeconds float64 `json:"timeout_seconds,omitempty"`
	// Request is the JSON Schema (draft 2020-12) of the request body.
	Request json.RawMessage `json:"request"`
	// Response is the JSON Schema of a successful response's data.
	Response json.RawMessage `json:"response"`
	// Examples are request/response pairs; mock mode answers from them.
	Examples []Example `json:"examples,omitempty"`
	// FormatAssertion makes the "format" keyword of both schemas an
	// assertion (date-time, email, uuid, ipv4, ...), as a Pydantic model
	// checks its fields; false keeps draft 2020-12's default, where format
	// is only an annotation.
	FormatAssertion bool `json:"format_assertion,omitempty"`
	// Mode is how an executable handler runs: ModeOneShot (or empty), a
	// process per request, or ModePersistent, a pool of long-lived
	// processes that speak the persistent handler protocol.
	Mode string `json:"mode,omitempty"`
	// MaxRequestsPerProcess recycles a persistent handler's process after
	// that many requests; nil means DefaultMaxRequestsPerProcess, 0 never.
	MaxRequestsPerProcess *int `json:"max_requests_per_process,omitempty"`
}

// Modes of an executable handler (Contract.Mode).
const (
	ModeOneShot    = "oneshot"
	ModePersistent = "persistent"
)

// DefaultMaxRequestsPerProcess is how many requests a persistent handler's
// process serves at most before it is replaced, when its contract names no
// number. A Python process costs some 30 ms of CPU to start: at 10,000
// requests that is a few µs per call, while a handler that leaks memory
// stays bounded.
const DefaultMaxRequestsPerProcess = 10000

// Persistent reports whether the contract asks for persistent processes.
func (c *Contract) Persistent() bool { return c.Mode == ModePersistent }

// MaxRequests is how many requests one persistent process serves; 0 means
// no limit.
func (c *Contract) MaxRequests() int {
	if c.MaxRequestsPerProcess == nil {
		return DefaultMaxRequestsPerProcess
	}
	return *c.MaxRequestsPerProcess
}

// Example is one request and the whole response object it gets.
type Example struct {
	// Request is a request body, valid against the request schema once
	// its defaults are applied.
	Request json.RawMessage `json:"request"`
	// Response is the whole response object (success, message, data).
	Response json.RawMessage `json:"response"`
}

// Timeout is the handler's timeout.
func (c *Contract) Timeout() time.Duration {
	if c.TimeoutSeconds <= 0 {
		return DefaultTimeout
	}
	return time.Duration(c.TimeoutSeconds * float64(time.Second))
}

// Load reads and parses a contract.json file (see Parse).
func Load(path string) (*Contract, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(raw)
}

// Parse parses a contract.json document: valid UTF-8 JSON without duplicate
// keys, with no field the Contract does not know. It does not compile the
// schemas: Compile checks them.
func Parse(raw []byte) (*Contract, error) {
	if err := scanText(raw); err != nil {
		return nil, fmt.Errorf("not a valid contract: %w", err)
	}
	var wrapper struct {
		Contract
		LockAttribute *string `json:"lock_attribute"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&wrapper); err != nil {
		return nil, fmt.Errorf("not a valid contract: %w", err)
	}
	c := wrapper.Contract
	if wrapper.LockAttribute != nil {
		c.LockAttribute = *wrapper.LockAttribute
	}
	return &c, nil
}
