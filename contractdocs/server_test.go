package contractdocs

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var testActions = []Action{
	{Exchange: "dx_example", Description: "Determine whether a favourite food is tolerable.", LockAttribute: "favourite_food",
		Request: json.RawMessage(`{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
			"properties": {
				"favourite_food": {"type": "string", "enum": ["onion", "orange", "banana"]},
				"chance_percentage": {"type": "integer", "exclusiveMinimum": 0, "default": 20}},
			"required": ["favourite_food"], "additionalProperties": false}`),
		Response: json.RawMessage(`{"type": "object", "properties": {"tolerable": {"type": "boolean"}}, "required": ["tolerable"], "additionalProperties": false}`),
		Examples: []Example{{json.RawMessage(`{"favourite_food": "onion", "chance_percentage": 100}`),
			json.RawMessage(`{"success": true, "message": "Determined toleration", "data": {"tolerable": false}}`)}}},
	{Exchange: "dx_tree", Description: "Create a tree.",
		Request: json.RawMessage(`{"type": "object", "$defs": {"Size": {"type": "object", "properties": {"width": {"type": "integer", "minimum": 1}}, "required": ["width"]}},
			"properties": {"size": {"$ref": "#/$defs/Size"}, "password": {"type": "string", "x-fernet": true}}, "required": ["size"]}`),
		Response: json.RawMessage(`{"type": "array", "items": {"$ref": "#/$defs/Id"}, "$defs": {"Id": {"type": "string"}}}`),
		Examples: []Example{{json.RawMessage(`{"size": {"width": 2}}`), json.RawMessage(`{"success": true, "message": "ok", "data": ["a"]}`)}}},
}

func testServer(t *testing.T) *httptest.Server {
	t.Helper()
	site, err := Build(Input{HandlersDirectory: "/usr/lib/rabbitmq-consumer/handlers", Actions: testActions})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewServer(site).Handler())
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, u string) (int, string, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

func TestRoutes(t *testing.T) {
	srv := testServer(t)
	for _, c := range []struct {
		path, ctype string
		status      int
		contains    string
	}{
		{"/", "text/html; charset=utf-8", 200, `href="actions/dx_example.html"`},
		{"/index.html", "text/html; charset=utf-8", 200, "Determine whether a favourite food is tolerable."},
		{"/actions/dx_example.html", "text/html; charset=utf-8", 200, "one of: &#34;onion&#34;, &#34;orange&#34;, &#34;banana&#34;"},
		{"/actions/dx_tree.html", "text/html; charset=utf-8", 200, "Fernet-encrypted"},
		{"/style.css", "text/css; charset=utf-8", 200, "font"},
		{"/schemas", "application/json", 200, `["dx_example.json","dx_tree.json","head.json"]`},
		{"/schemas/", "application/json", 200, `"head.json"`},
		{"/schemas/head.json", "application/json", 200, `"$ref": "dx_tree.json"`},
		{"/schemas/dx_example.json", "application/json", 200, `"request_model"`},
		{"/schemas/nope.json", "text/plain; charset=utf-8", 404, "not found"},
		{"/actions/../../etc/passwd", "text/plain; charset=utf-8", 404, "not found"},
	} {
		status, ctype, body := get(t, srv.URL+c.path)
		if status != c.status || ctype != c.ctype || !strings.Contains(string(body), c.contains) {
			t.Errorf("GET %s: %d %s, want %d %s containing %q; body:\n%.400s", c.path, status, ctype, c.status, c.ctype, c.contains, body)
		}
	}
}

// The schemas served are valid draft 2020-12 (compiling them checks them
// against the metaschema), resolve their references over HTTP as any
// validator would, hold the contract's schemas unchanged, and accept the
// examples.
func TestSchemaEndpoints(t *testing.T) {
	srv := testServer(t)
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(httpLoader{})
	if _, err := c.Compile(srv.URL + "/schemas/head.json"); err != nil {
		t.Fatalf("compile head.json: %v", err)
	}
	for _, a := range testActions {
		u := srv.URL + "/schemas/" + SchemaFile(a.Exchange)
		sch, err := c.Compile(u)
		if err != nil {
			t.Fatalf("compile %s: %v", u, err)
		}
		_, _, body := get(t, u)
		var doc struct {
			Defs map[string]map[string]any `json:"$defs"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		for part, schema := range map[string]json.RawMessage{"request": a.Request, "response": a.Response} {
			var want map[string]any
			_ = json.Unmarshal(schema, &want)
			got := doc.Defs[part]
			delete(got, "$id")
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: the %s schema served is not the contract's:\n got %v\nwant %v", a.Exchange, part, got, want)
			}
		}
		for i, ex := range a.Examples {
			inst := map[string]any{"request_model": decode(t, ex.Request), "response_model": decode(t, ex.Response)}
			if err := sch.Validate(inst); err != nil {
				t.Errorf("%s example %d: %v", a.Exchange, i, err)
			}
			bad := map[string]any{"request_model": map[string]any{"favourite_food": 3, "size": "x"}, "response_model": decode(t, ex.Response)}
			if sch.Validate(bad) == nil {
				t.Errorf("%s: a request that breaks the schema is accepted", a.Exchange)
			}
			failure := map[string]any{"request_model": decode(t, ex.Request), "response_model": map[string]any{
				"success": false, "message": "Request validation failed", "data": map[string]any{"errors": []any{map[string]any{"location": []any{"x", 1}, "message": "m", "type": "missing"}}}}}
			if err := sch.Validate(failure); err != nil {
				t.Errorf("%s: a validation failure response is refused: %v", a.Exchange, err)
			}
		}
	}
}

func decode(t *testing.T, raw json.RawMessage) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// httpLoader fetches schemas over HTTP, and the metaschemas from the
// library's own copies.
type httpLoader struct{}

func (httpLoader) Load(u string) (any, error) {
	if _, err := url.Parse(u); err != nil {
		return nil, err
	}
	resp, err := http.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return jsonschema.UnmarshalJSON(resp.Body)
}
