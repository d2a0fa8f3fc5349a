package consumer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
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
// process serves before it is replaced, when its contract names no number.
const DefaultMaxRequestsPerProcess = 1000

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
	Request  json.RawMessage `json:"request"`
	Response json.RawMessage `json:"response"`
}

// Timeout is the handler's timeout.
func (c *Contract) Timeout() time.Duration {
	if c.TimeoutSeconds <= 0 {
		return DefaultTimeout
	}
	return time.Duration(c.TimeoutSeconds * float64(time.Second))
}

// ReadContract reads and checks a contract.json file.
func ReadContract(path string) (*Contract, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
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

// compiled is a contract with its schemas compiled.
type compiled struct {
	*Contract
	request  *schema
	response *schema
	// defaults of the request schema, applied before validation.
	defaults *defaults
}

// compile checks the contract's schemas and examples and compiles them.
func compile(name string, c *Contract) (*compiled, error) {
	if len(c.Request) == 0 {
		return nil, fmt.Errorf("contract has no request schema")
	}
	if len(c.Response) == 0 {
		return nil, fmt.Errorf("contract has no response schema")
	}
	req, reqDoc, err := compileSchema(name+"/request", c.Request, c.FormatAssertion)
	if err != nil {
		return nil, fmt.Errorf("request schema: %w", err)
	}
	resp, _, err := compileSchema(name+"/response", c.Response, c.FormatAssertion)
	if err != nil {
		return nil, fmt.Errorf("response schema: %w", err)
	}
	if c.TimeoutSeconds < 0 {
		return nil, fmt.Errorf("timeout_seconds must not be negative")
	}
	if c.Mode != "" && c.Mode != ModeOneShot && c.Mode != ModePersistent {
		return nil, fmt.Errorf("mode %q: must be %q or %q", c.Mode, ModeOneShot, ModePersistent)
	}
	if c.MaxRequests() < 0 {
		return nil, fmt.Errorf("max_requests_per_process must not be negative")
	}
	defs, checks := defaultsOf(reqDoc)
	if err := checkDefaults(name+"/request", reqDoc, c.FormatAssertion, checks); err != nil {
		return nil, fmt.Errorf("request schema: %w", err)
	}
	cc := &compiled{Contract: c, request: req, response: resp, defaults: defs}
	for i, ex := range c.Examples {
		if err := cc.checkExample(ex); err != nil {
			return nil, fmt.Errorf("examples[%d]: %w", i, err)
		}
	}
	return cc, nil
}

func (c *compiled) checkExample(ex Example) error {
	body, err := decodeObject(ex.Request)
	if err != nil {
		return fmt.Errorf("request: %w", err)
	}
	c.defaults.apply(body)
	if errs := c.request.check(body); len(errs) > 0 {
		return fmt.Errorf("request does not match the request schema: %s", errs[0].Message)
	}
	if err := c.checkResponse(ex.Response); err != nil {
		return fmt.Errorf("response: %w", err)
	}
	return nil
}

// schema is a compiled JSON Schema: quick checks that prove the common
// valid instance valid, and the full validator, which decides the rest and
// explains every violation.
type schema struct {
	full  *jsonschema.Schema
	quick *quick // nil: the schema uses keywords quick does not know
}

// check lists every violation of v, located by JSON path; nil when v is
// valid.
func (s *schema) check(v any) []wire.ValidationError {
	if s.quick != nil && s.quick.valid(v) {
		return nil
	}
	return validate(s.full, v)
}

// compileSchema compiles a schema document; assertFormat makes format an
// assertion.
func compileSchema(name string, raw json.RawMessage, assertFormat bool) (*schema, any, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, nil, fmt.Errorf("not valid JSON: %w", err)
	}
	comp, url, err := newCompiler(name, doc, assertFormat)
	if err != nil {
		return nil, nil, err
	}
	sch, err := comp.Compile(url)
	if err != nil {
		return nil, nil, fmt.Errorf("not a valid JSON Schema: %s", oneLine(err.Error()))
	}
	return &schema{full: sch, quick: compileQuick(doc, assertFormat)}, doc, nil
}

// newCompiler is a compiler holding the schema document doc at the URL it
// returns.
func newCompiler(name string, doc any, assertFormat bool) (*jsonschema.Compiler, string, error) {
	comp := jsonschema.NewCompiler()
	comp.DefaultDraft(jsonschema.Draft2020)
	if assertFormat {
		comp.AssertFormat()
	}
	url := "urn:rabbitmq-consumer:" + name
	if err := comp.AddResource(url, doc); err != nil {
		return nil, "", err
	}
	return comp, url, nil
}

func oneLine(s string) string {
	return string(bytes.Join(bytes.Fields([]byte(s)), []byte(" ")))
}
