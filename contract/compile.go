package contract

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// Compiled is a contract with its schemas compiled: what validates the
// requests and responses of one exchange. It is safe for concurrent use.
type Compiled struct {
	contract *Contract
	request  *schema
	response *schema
	// defaults of the request schema, applied before validation.
	defaults *defaults
}

// Compile checks the contract's settings, schemas and examples and
// compiles them; name (the exchange) names the schemas in errors.
func Compile(name string, c *Contract) (*Compiled, error) {
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
	cc := &Compiled{contract: c, request: req, response: resp, defaults: defs}
	for i, ex := range c.Examples {
		if err := cc.checkExample(ex); err != nil {
			return nil, fmt.Errorf("examples[%d]: %w", i, err)
		}
	}
	return cc, nil
}

// Contract is the contract c was compiled from.
func (c *Compiled) Contract() *Contract { return c.contract }

func (c *Compiled) checkExample(ex Example) error {
	body, err := decodeObject(ex.Request)
	if err != nil {
		return fmt.Errorf("request: %w", err)
	}
	c.defaults.apply(body)
	if errs := c.request.check(body); len(errs) > 0 {
		return fmt.Errorf("request does not match the request schema: %s", errs[0].Message)
	}
	if err := c.CheckResponse(ex.Response); err != nil {
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

// HasDefaults reports whether the request schema gives defaults: a request
// then needs its decoded form, to which ApplyDefaults adds them.
func (c *Compiled) HasDefaults() bool { return c.defaults != nil }

// ApplyDefaults fills the absent properties of a decoded request with the
// request schema's defaults; it reports whether it changed anything.
func (c *Compiled) ApplyDefaults(obj map[string]any) bool { return c.defaults.apply(obj) }

// CheckRequest lists every violation of the request schema by a decoded
// request (with its defaults applied), located by JSON path; nil when the
// request is valid.
func (c *Compiled) CheckRequest(obj map[string]any) []wire.ValidationError {
	return c.request.check(obj)
}
