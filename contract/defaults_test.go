package contract

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestDefaultsGolden: defaults are filled wherever the schema says so
// unambiguously: under properties, through items, $ref (also at the root),
// allOf, and the one branch of an anyOf or oneOf that admits an object;
// not where two say different things. Each directory of
// testdata/defaults holds schema.json, request.json and want.json.
func TestDefaultsGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/defaults/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			c, err := Compile("x", &Contract{Request: readGolden(t, dir, "schema.json"), Response: json.RawMessage(`{}`)})
			if err != nil {
				t.Fatal(err)
			}
			obj, err := decodeObject(readGolden(t, dir, "request.json"))
			if err != nil {
				t.Fatal(err)
			}
			c.defaults.apply(obj)
			var want any
			if err := json.Unmarshal(readGolden(t, dir, "want.json"), &want); err != nil {
				t.Fatal(err)
			}
			if got := normalize(obj); !reflect.DeepEqual(got, want) {
				t.Errorf("got  %s\nwant %s", mustJSON(t, got), mustJSON(t, want))
			}
			if errs := c.request.check(obj); len(errs) > 0 {
				t.Errorf("filled request is not valid: %+v", errs)
			}
		})
	}
}

func readGolden(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDefaultBreakingItsSchema: a default that its own schema refuses
// makes the contract fail to load, naming where it is.
func TestDefaultBreakingItsSchema(t *testing.T) {
	for _, tt := range []struct{ schema, want string }{
		{`{"type":"object","properties":{"n":{"type":"integer","default":"x"}}}`, "/properties/n"},
		{`{"type":"object","properties":{"s":{"$ref":"#/$defs/S"}},"$defs":{"S":{"type":"object","properties":{"w":{"type":"integer","minimum":1,"default":0}}}}}`, "/$defs/S/properties/w"},
		{`{"type":"object","properties":{"xs":{"type":"array","items":{"type":"object","properties":{"c":{"enum":["red"],"default":"blue"}}}}}}`, "/properties/xs/items/properties/c"},
		{`{"type":"object","properties":{"s":{"allOf":[{"$ref":"#/$defs/S"}],"default":{"w":"wide"}}},"$defs":{"S":{"type":"object","properties":{"w":{"type":"integer"}}}}}`, "/properties/s"},
	} {
		_, err := Compile("x", &Contract{Request: json.RawMessage(tt.schema), Response: json.RawMessage(`{}`)})
		if err == nil || !strings.Contains(err.Error(), "default") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one naming the default at %s", tt.schema, err, tt.want)
		}
	}
	if _, err := Compile("x", &Contract{Request: readGolden(t, "testdata/defaults/pydantic", "schema.json"), Response: json.RawMessage(`{}`)}); err != nil {
		t.Errorf("a schema whose defaults are valid: %v", err)
	}
}
