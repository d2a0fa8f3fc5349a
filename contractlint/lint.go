// Package contractlint checks handler contracts where they are written:
// every problem of every contract.json, each with its file and the JSON
// pointer of the offending value in it, where the consumer stops at the
// first. It is pure but for reading the files.
package contractlint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/contract"
)

// Problem is one thing wrong in a contract.
type Problem struct {
	// File is the contract's path.
	File string
	// Pointer is the JSON pointer of the offending value in the file, e.g.
	// "/examples/0/request/chance_percentage"; empty for the whole file.
	Pointer string
	// Message says what is wrong.
	Message string
}

// String is "file: pointer: message", one line.
func (p Problem) String() string {
	if p.Pointer == "" {
		return p.File + ": " + p.Message
	}
	return p.File + ": " + p.Pointer + ": " + p.Message
}

// Dir lints every contract of a handlers directory
// (<dir>/<exchange>/contract.json), or dir itself when it is one handler's
// directory. It fails only when dir cannot be read.
func Dir(dir string) ([]Problem, error) {
	if _, err := os.Stat(filepath.Join(dir, "contract.json")); err == nil {
		return File(filepath.Base(filepath.Clean(dir)), filepath.Join(dir, "contract.json")), nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	var out []Problem
	found := 0
	for _, e := range entries {
		path := filepath.Join(dir, e.Name(), "contract.json")
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		found++
		out = append(out, File(e.Name(), path)...)
	}
	if found == 0 {
		return nil, fmt.Errorf("%s: no contract.json in it or in its subdirectories", dir)
	}
	return out, nil
}

// File lints one contract file of the exchange.
func File(exchange, path string) []Problem {
	raw, err := os.ReadFile(path)
	if err != nil {
		return []Problem{{File: path, Message: err.Error()}}
	}
	ps := Contract(exchange, raw)
	for i := range ps {
		ps[i].File = path
	}
	return ps
}

// Contract lints a contract.json document (Problem.File left empty).
func Contract(exchange string, raw []byte) []Problem {
	c, err := contract.Parse(raw)
	if err != nil {
		return []Problem{{Message: err.Error()}}
	}
	var l linter
	l.settings(c)
	reqOK := l.schema("/request", c.Request, c.FormatAssertion)
	respOK := l.schema("/response", c.Response, c.FormatAssertion)
	if reqOK {
		l.defaults(c.Request, c.FormatAssertion)
		l.lockAttribute(c)
		l.fernetFields(c.Request)
	}
	if reqOK {
		l.examples(exchange, c, respOK)
	}
	sort.SliceStable(l.out, func(i, j int) bool { return l.out[i].Pointer < l.out[j].Pointer })
	return l.out
}

type linter struct{ out []Problem }

func (l *linter) add(ptr, format string, a ...any) {
	l.out = append(l.out, Problem{Pointer: ptr, Message: fmt.Sprintf(format, a...)})
}

func (l *linter) settings(c *contract.Contract) {
	if c.TimeoutSeconds < 0 {
		l.add("/timeout_seconds", "must not be negative")
	}
	if c.Mode != "" && c.Mode != contract.ModeOneShot && c.Mode != contract.ModePersistent {
		l.add("/mode", "%q: must be %q or %q", c.Mode, contract.ModeOneShot, contract.ModePersistent)
	}
	if c.MaxRequests() < 0 {
		l.add("/max_requests_per_process", "must not be negative")
	}
	if strings.TrimSpace(c.Description) == "" {
		l.add("/description", "missing: say what the action does, for its callers")
	}
}

const schemaURL = "urn:rabbitmq-consumer:lint"

// compiler holds the schema document at schemaURL.
func compiler(doc any, assertFormat bool) (*jsonschema.Compiler, error) {
	comp := jsonschema.NewCompiler()
	comp.DefaultDraft(jsonschema.Draft2020)
	if assertFormat {
		comp.AssertFormat()
	}
	return comp, comp.AddResource(schemaURL, doc)
}

// schema reports every way the schema at ptr is not a valid JSON Schema;
// false when it is not.
func (l *linter) schema(ptr string, raw json.RawMessage, assertFormat bool) bool {
	if len(raw) == 0 {
		l.add(ptr, "missing: the contract needs a JSON Schema here")
		return false
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		l.add(ptr, "not valid JSON: %v", err)
		return false
	}
	comp, err := compiler(doc, assertFormat)
	if err != nil {
		l.add(ptr, "%v", err)
		return false
	}
	if _, err := comp.Compile(schemaURL); err != nil {
		var sve *jsonschema.SchemaValidationError
		var ve *jsonschema.ValidationError
		if errors.As(err, &sve) {
			ve, _ = sve.Err.(*jsonschema.ValidationError)
		}
		if ve != nil {
			seen := map[string]bool{}
			for _, leaf := range leaves(ve) {
				at := ptr + pointer(leaf.InstanceLocation)
				if !seen[at] { // one line per place: the first reason
					seen[at] = true
					l.add(at, "not a valid JSON Schema: %s", leafMessage(leaf))
				}
			}
		} else {
			l.add(ptr, "not a valid JSON Schema: %s", oneLine(err.Error()))
		}
		return false
	}
	return true
}

// leaves are the innermost causes of a validation error: each names one
// place and one reason.
func leaves(ve *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(ve.Causes) == 0 {
		return []*jsonschema.ValidationError{ve}
	}
	var out []*jsonschema.ValidationError
	for _, c := range ve.Causes {
		out = append(out, leaves(c)...)
	}
	return out
}

var printer = message.NewPrinter(language.English)

func leafMessage(ve *jsonschema.ValidationError) string {
	return oneLine(ve.ErrorKind.LocalizedString(printer))
}

// pointer is a JSON pointer of path elements.
func pointer(path []string) string {
	var b strings.Builder
	for _, p := range path {
		b.WriteString("/" + escape(p))
	}
	return b.String()
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// examples checks every example's request (after the defaults are filled
// in, as the consumer does) and, when its schema is valid, response.
func (l *linter) examples(exchange string, c *contract.Contract, responseOK bool) {
	bare := *c
	bare.Examples = nil
	if !responseOK {
		bare.Response = json.RawMessage("true")
	}
	cc, err := contract.Compile(exchange, &bare)
	if err != nil {
		// A default or a setting the other checks report: the requests
		// are checked without the defaults filled in.
		l.plainExamples(c)
		return
	}
	for i, ex := range c.Examples {
		base := "/examples/" + strconv.Itoa(i)
		obj, errs := contract.DecodeRequest(ex.Request)
		if errs == nil {
			cc.ApplyDefaults(obj)
			errs = cc.CheckRequest(obj)
		}
		for _, e := range errs {
			l.add(base+"/request"+locationPointer(e.Location), "the request does not match the request schema: %s", e.Message)
		}
		if err := cc.CheckResponse(ex.Response); responseOK && err != nil {
			l.add(base+"/response", "%s", oneLine(err.Error()))
		}
	}
}

// plainExamples checks the examples' requests against the request schema
// alone.
func (l *linter) plainExamples(c *contract.Contract) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(c.Request))
	if err != nil {
		return
	}
	comp, err := compiler(doc, c.FormatAssertion)
	if err != nil {
		return
	}
	sch, err := comp.Compile(schemaURL)
	if err != nil {
		return
	}
	for i, ex := range c.Examples {
		base := "/examples/" + strconv.Itoa(i) + "/request"
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(ex.Request))
		if err != nil {
			l.add(base, "not valid JSON: %v", err)
			continue
		}
		var ve *jsonschema.ValidationError
		if err := sch.Validate(v); err != nil && errors.As(err, &ve) {
			for _, leaf := range leaves(ve) {
				l.add(base+pointer(leaf.InstanceLocation), "the request does not match the request schema: %s", leafMessage(leaf))
			}
		}
	}
}

func locationPointer(loc []any) string {
	parts := make([]string, len(loc))
	for i, p := range loc {
		parts[i] = fmt.Sprint(p)
	}
	return pointer(parts)
}
