package consumer

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/fernet/fernet-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/handler"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// echoHandler answers with the request it got as data.
const echoHandler = `printf '{"success":true,"message":"echo","data":%s}' "$(cat)"`

// execHandlers writes one executable handler per exchange: its script and
// its contract.json.
func execHandlers(t *testing.T, handlers map[string][2]string) (dir string, exchanges []string) {
	t.Helper()
	dir = t.TempDir()
	for name, h := range handlers {
		mustWrite(t, filepath.Join(dir, name, "handler"), "#!/bin/sh\n"+h[0]+"\n", 0o755)
		mustWrite(t, filepath.Join(dir, name, "contract.json"), h[1], 0o644)
		exchanges = append(exchanges, name)
	}
	return dir, exchanges
}

// validationErrors are the errors of a validation failure reply.
func validationErrors(t *testing.T, r wire.Response) []wire.ValidationError {
	t.Helper()
	if r.Success || r.Message != wire.MessageValidationFailed {
		t.Fatalf("reply = %+v %s, want a validation failure", r, r.Data)
	}
	var data wire.ValidationErrors
	if err := json.Unmarshal(r.Data, &data); err != nil {
		t.Fatal(err)
	}
	return data.Errors
}

// TestTextRejectedThroughTheBroker: a request with invalid UTF-8 or a
// duplicate key gets a validation failure naming the problem, a handler
// response with invalid UTF-8 is an unexpected error, and nothing that is
// not UTF-8 reaches the log or the spool.
func TestTextRejectedThroughTheBroker(t *testing.T) {
	const open = `{"description":"d","request":{"type":"object"},"response":{}}`
	dir, exchanges := execHandlers(t, map[string][2]string{
		"dx_echo":    {echoHandler, open},
		"dx_latin1":  {`cat >/dev/null; printf '{"success":true,"message":"caf\351","data":{}}'`, open},
		"dx_dupresp": {`cat >/dev/null; printf '{"success":true,"message":"m","data":{"a":1,"a":2}}'`, open},
	})
	h := start(t, setup{exchanges: exchanges, handlersDir: dir})
	c := h.caller(false)
	for _, tt := range []struct {
		body, typ, loc string
	}{
		{"{\"name\":\"caf\xe9\"}", "utf8_invalid", "[name]"},
		{`{"name":"\ud800"}`, "utf8_invalid", "[name]"},
		{`{"n":1,"n":2}`, "duplicate_key", "[]"},
		{`{"xs":[{"a":1},{"a":1,"a":2}]}`, "duplicate_key", "[xs 1]"},
	} {
		errs := validationErrors(t, h.call(c, "dx_echo", []byte(tt.body)))
		if len(errs) != 1 || errs[0].Type != tt.typ || fmt.Sprint(errs[0].Location) != tt.loc || errs[0].Message == "" {
			t.Errorf("%q: errors %+v, want one %s at %s", tt.body, errs, tt.typ, tt.loc)
		}
	}
	for _, ex := range []string{"dx_latin1", "dx_dupresp"} {
		if r := h.call(c, ex, []byte(`{}`)); r.Success || r.Message != wire.MessageUnexpectedError {
			t.Errorf("%s: reply = %+v %s, want an unexpected error", ex, r, r.Data)
		}
	}
	if r := h.call(c, "dx_echo", []byte(`{"name":"café \u2713"}`)); !r.Success || string(r.Data) != `{"name":"café \u2713"}` {
		t.Errorf("a valid request: reply = %+v %s", r, r.Data)
	}
	for _, rec := range h.journal.records() {
		if b := mustJSON(t, rec); !utf8.Valid(b) {
			t.Errorf("spool record is not UTF-8: %q", b)
		}
	}
	if !utf8.Valid([]byte(h.logs.String())) {
		t.Errorf("the log is not UTF-8:\n%q", h.logs.String())
	}
}

type intRequest struct {
	N     int     `json:"n"`
	Small uint8   `json:"small,omitempty"`
	Ratio float64 `json:"ratio,omitempty"`
}

// TestGoHandlerIntegers: what the schema derived from a Go type accepts,
// the Go handler decodes: an integral number written 1.0 or 1e0 reaches an
// int field; one beyond the field's range (1e20 for an int, 256 for a
// uint8) is a validation failure, not an unexpected error.
func TestGoHandlerIntegers(t *testing.T) {
	h := start(t, setup{exchanges: []string{"dx_int"}, handlers: map[string]handler.Handler{"dx_int": handler.Typed("ints",
		func(_ context.Context, _ *handler.Call, r intRequest) (wire.Reply[intRequest], error) {
			return wire.Reply[intRequest]{Success: true, Message: "ok", Data: r}, nil
		})}})
	c := h.caller(false)
	for _, tt := range []struct {
		body, data, errType, errLoc string
	}{
		{`{"n":1.0}`, `{"n":1}`, "", ""},
		{`{"n":1e0,"small":2.55e2}`, `{"n":1,"small":255}`, "", ""},
		{`{"n":-12.000,"ratio":1e2}`, `{"n":-12,"ratio":100}`, "", ""},
		{`{"n":1e20}`, "", "maximum", "[n]"},
		{`{"n":-1e20}`, "", "minimum", "[n]"},
		{`{"n":1,"small":256}`, "", "maximum", "[small]"},
		{`{"n":1,"small":-1}`, "", "minimum", "[small]"},
		{`{"n":1.5}`, "", "type", "[n]"},
	} {
		r := h.call(c, "dx_int", []byte(tt.body))
		if tt.errType == "" {
			if !r.Success || string(r.Data) != tt.data {
				t.Errorf("%s: reply %+v %s, want data %s", tt.body, r, r.Data, tt.data)
			}
			continue
		}
		if r.Message != wire.MessageValidationFailed {
			t.Errorf("%s: reply %+v %s, want a validation failure", tt.body, r, r.Data)
			continue
		}
		errs := validationErrors(t, r)
		if len(errs) != 1 || errs[0].Type != tt.errType || fmt.Sprint(errs[0].Location) != tt.errLoc {
			t.Errorf("%s: errors %+v, want %s at %s", tt.body, errs, tt.errType, tt.errLoc)
		}
	}
}

// TestSchemaFeaturesThroughTheBroker: defaults of a Pydantic-style schema
// ($defs, $ref, allOf, anyOf with null) reach the handler; a contract
// asking for format assertion refuses a malformed email; errors come
// sorted with array indexes as numbers.
func TestSchemaFeaturesThroughTheBroker(t *testing.T) {
	pydantic := readFile(t, "../contract/testdata/defaults/pydantic/schema.json")
	dir, exchanges := execHandlers(t, map[string][2]string{
		"dx_pydantic": {echoHandler, `{"description":"d","request":` + pydantic + `,"response":{}}`},
		"dx_format":   {echoHandler, `{"description":"d","format_assertion":true,"request":{"type":"object","properties":{"email":{"type":"string","format":"email"}}},"response":{}}`},
		"dx_sorted":   {echoHandler, `{"description":"d","request":{"type":"object","properties":{"xs":{"type":"array","items":{"type":"integer"}}}},"response":{}}`},
	})
	h := start(t, setup{exchanges: exchanges, handlersDir: dir})
	c := h.caller(false)

	r := h.call(c, "dx_pydantic", []byte(readFile(t, "../contract/testdata/defaults/pydantic/request.json")))
	var got, want any
	_ = json.Unmarshal(r.Data, &got)
	_ = json.Unmarshal([]byte(readFile(t, "../contract/testdata/defaults/pydantic/want.json")), &want)
	if !r.Success || !reflect.DeepEqual(got, want) {
		t.Errorf("defaults: reply %+v %s, want data %s", r, r.Data, mustJSON(t, want))
	}

	errs := validationErrors(t, h.call(c, "dx_format", []byte(`{"email":"not an address"}`)))
	if len(errs) != 1 || errs[0].Type != "format" || fmt.Sprint(errs[0].Location) != "[email]" {
		t.Errorf("format: errors %+v", errs)
	}
	if r := h.call(c, "dx_format", []byte(`{"email":"a@example.com"}`)); !r.Success {
		t.Errorf("format: a valid address: reply %+v %s", r, r.Data)
	}

	errs = validationErrors(t, h.call(c, "dx_sorted", []byte(`{"xs":[0,1,"2",3,4,5,6,7,8,9,"10"]}`)))
	if len(errs) != 2 || fmt.Sprint(errs[0].Location, errs[1].Location) != "[xs 2] [xs 10]" {
		t.Errorf("sorted: errors %+v", errs)
	}
}

// TestFernetPlaintextNotUTF8: a Fernet token whose plaintext is not UTF-8
// is a validation failure at its field, not a string silently altered.
func TestFernetPlaintextNotUTF8(t *testing.T) {
	var key fernet.Key
	if err := key.Generate(); err != nil {
		t.Fatal(err)
	}
	h := start(t, setup{
		exchanges: []string{"dx_secret"},
		fernetKey: key.Encode(),
		handlers: map[string]handler.Handler{"dx_secret": handler.Typed("use a secret", func(_ context.Context, _ *handler.Call, r secretRequest) (wire.Reply[secretResponse], error) {
			return wire.Reply[secretResponse]{Success: true, Message: "ok", Data: secretResponse{Length: len(r.Password)}}, nil
		})},
	})
	tok, err := fernet.EncryptAndSign([]byte("caf\xe9"), &key)
	if err != nil {
		t.Fatal(err)
	}
	errs := validationErrors(t, h.call(h.caller(false), "dx_secret", map[string]any{"user": "u", "password": string(tok)}))
	if len(errs) != 1 || errs[0].Type != "utf8_invalid" || fmt.Sprint(errs[0].Location) != "[password]" {
		t.Errorf("errors %+v, want one utf8_invalid at [password]", errs)
	}
}
