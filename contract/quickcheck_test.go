package contract

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
)

// quickSchemas are schemas that quick compiles, and one that it must leave
// to the full validator.
var quickSchemas = []string{
	`{"type":"object","properties":{"n":{"type":"integer"},"payload":{"type":"string"}},"required":["n"],"additionalProperties":false}`,
	`{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","required":["name","size"],"properties":{"name":{"type":"string","minLength":2,"maxLength":5,"pattern":"^[a-z]+$"},"size":{"type":"integer","minimum":1,"maximum":10},"ratio":{"type":"number","exclusiveMinimum":0,"exclusiveMaximum":1},"tags":{"type":"array","items":{"type":"string","enum":["a","b"]},"minItems":1,"maxItems":2},"mode":{"const":"fast"},"on":{"type":["boolean","null"]}},"additionalProperties":{"type":"integer"}}`,
	`{"type":"object","properties":{"x":{"type":"number","minimum":0.5}},"minProperties":1,"maxProperties":2,"format":"anything","description":"d","default":{}}`,
	`{"type":"object","properties":{"items":{"type":"array","items":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}}},"additionalProperties":true}`,
	`{"properties":{"a":true,"b":false},"enum":[{"a":1}]}`,
}

// quickFormatSchema is compiled with format asserted (format_assertion);
// its wide bounds are those of Go's int64 and uint64.
const quickFormatSchema = `{"type":"object","properties":{"n":{"type":"number","minimum":-9223372036854775808,"maximum":9223372036854775807},"size":{"type":"integer","minimum":0,"maximum":18446744073709551615},"ratio":{"maximum":-100000000000000000000},"name":{"type":"string","format":"email"},"x":{"format":"ipv4"},"tags":{"type":"array","items":{"format":"date"}}}}`

// quickCompiled compiles quickSchemas[:4] and quickFormatSchema, asserting
// format.
func quickCompiled(t testing.TB) []*schema {
	var out []*schema
	for _, src := range quickSchemas[:4] {
		_, s := compileBoth(t, src, false)
		out = append(out, s)
	}
	_, s := compileBoth(t, quickFormatSchema, true)
	return append(out, s)
}

func TestCompileQuick(t *testing.T) {
	for _, tc := range []struct {
		schema string
		known  bool
	}{
		{quickSchemas[0], true},
		{quickSchemas[1], true},
		{quickSchemas[2], true},
		{`{"type":"object","properties":{"a":{"anyOf":[{"type":"string"}]}}}`, false},
		{`{"type":"object","patternProperties":{"^a":{}}}`, false},
		{`{"$schema":"http://json-schema.org/draft-07/schema#","type":"object"}`, false},
		{`{"$schema":"https://json-schema.org/draft/2019-09/schema","type":"object"}`, false}, // format may assert there
		{`{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object"}`, true},
		{`{"type":"object","x-custom":1}`, false},
		{`{"type":"array","items":[{"type":"string"}]}`, false},
		{`{"enum":[[1]]}`, false},
		{`{"type":"strange"}`, false},
	} {
		doc, err := decodeAny([]byte(tc.schema))
		if err != nil {
			t.Fatal(err)
		}
		if got := compileQuick(doc, false) != nil; got != tc.known {
			t.Errorf("compileQuick(%s) known = %v, want %v", tc.schema, got, tc.known)
		}
	}
}

func TestQuickProves(t *testing.T) {
	for _, tc := range []struct {
		schema   int
		instance string
		proven   bool
		notRaw   bool // proven decoded, left to the full validator from the bytes
	}{
		{0, `{"n":1,"payload":"x"}`, true, false},
		{0, `{"n":-9007199254740992}`, true, false},
		{0, `{"n":1.0}`, false, false}, // valid, but not proven: the full validator decides
		{0, `{"n":1e3}`, false, false},
		{0, `{"n":"1"}`, false, false},
		{0, `{"payload":"x"}`, false, false},
		{0, `{"n":1,"other":2}`, false, false},
		{1, `{"name":"abc","size":3}`, true, false},
		{1, `{"name":"abc","size":10,"tags":["a","b"],"mode":"fast","on":null,"extra":4}`, true, false},
		{1, `{"name":"abc","size":3,"ratio":0.5}`, false, false}, // a decimal: the full validator decides
		{1, `{"name":"abc","size":11}`, false, false},
		{1, `{"name":"abc","size":0}`, false, false},
		{1, `{"name":"ABC","size":3}`, false, false},
		{1, `{"name":"a","size":3}`, false, false},
		{1, `{"name":"abcdef","size":3}`, false, false},
		{1, `{"name":"abc","size":3,"tags":[]}`, false, false},
		{1, `{"name":"abc","size":3,"tags":["c"]}`, false, false},
		{1, `{"name":"abc","size":3,"mode":"slow"}`, false, false},
		{1, `{"name":"abc","size":3,"on":1}`, false, false},
		{1, `{"name":"abc","size":3,"extra":"no"}`, false, false},
		{1, `{"name":"abc","size":3,"ratio":1}`, false, false},
		{2, `{"x":1}`, false, false},                  // a decimal bound: numbers go to the full validator
		{2, `{"y":"z"}`, true, true},                  // minProperties: duplicate keys would need counting
		{0, `{"n":1,"payload":"\u0078"}`, true, true}, // an escape
		{0, `{"n":1,"n":2}`, true, false},
		{2, `{}`, false, false},
		{3, `{"items":[{"name":"a"},{"name":"b","more":1}]}`, true, false},
		{3, `{"items":[{"name":"a"},{}]}`, false, false},
	} {
		q, full := compileBoth(t, quickSchemas[tc.schema], false)
		v, err := decodeAny([]byte(tc.instance))
		if err != nil {
			t.Fatal(err)
		}
		got := q.valid(v)
		if got != tc.proven {
			t.Errorf("schema %d, %s: proven = %v, want %v", tc.schema, tc.instance, got, tc.proven)
		}
		if _, raw := q.validRaw([]byte(tc.instance), 0); raw != (tc.proven && !tc.notRaw) {
			t.Errorf("schema %d, %s: proven from the bytes = %v, want %v", tc.schema, tc.instance, raw, tc.proven && !tc.notRaw)
		}
		if got && len(validate(full.full, v)) > 0 {
			t.Errorf("schema %d, %s: proven valid but the full validator says %v", tc.schema, tc.instance, validate(full.full, v))
		}
	}
}

// TestQuickNeverAcceptsInvalid checks quick against the full validator on
// many random instances: whatever quick proves valid, the full validator
// finds valid.
func TestQuickNeverAcceptsInvalid(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	proven, provenRaw := 0, 0
	for i, full := range quickCompiled(t) {
		q := full.quick
		for n := 0; n < 3000; n++ {
			raw := randomInstance(rng, 0)
			v, err := decodeAny([]byte(raw))
			if err != nil {
				t.Fatalf("generated %s: %v", raw, err)
			}
			if q.valid(v) {
				proven++
				if errs := validate(full.full, v); len(errs) > 0 {
					t.Fatalf("schema %d: quick proved %s valid; the full validator says %v", i, raw, errs)
				}
			}
			if end, ok := q.validRaw([]byte(raw), 0); ok {
				provenRaw++
				if end != len(raw) {
					t.Fatalf("schema %d: validRaw(%s) ended at %d of %d", i, raw, end, len(raw))
				}
				if errs := validate(full.full, v); len(errs) > 0 {
					t.Fatalf("schema %d: quick proved the bytes %s valid; the full validator says %v", i, raw, errs)
				}
			}
		}
	}
	if proven == 0 || provenRaw == 0 {
		t.Fatalf("%d random instances were proven valid decoded, %d from their bytes: the generator does not exercise quick", proven, provenRaw)
	}
}

// FuzzQuickNeverAcceptsInvalid is TestQuickNeverAcceptsInvalid with the
// instances from the fuzzer (go test -fuzz FuzzQuick ./contract).
func FuzzQuickNeverAcceptsInvalid(f *testing.F) {
	for _, seed := range []string{`{"n":1}`, `{"name":"abc","size":3,"tags":["a"]}`, `{"items":[{"name":"x"}]}`, `{"x":0.5}`} {
		f.Add(seed)
	}
	f.Add(`{"n":1,"n":"x"}`)
	f.Add(`{"name":"a\u0062c","size":3}`)
	f.Add(`{"n":1,"n":2}`)
	f.Add("{\"n\":1,\"payload\":\"\xff\"}")
	compiled := quickCompiled(f)
	f.Fuzz(func(t *testing.T, raw string) {
		for i, full := range compiled {
			// The request path: proven from its bytes, or decoded (which
			// refuses what scanText refuses) and validated.
			if full.quick.proveObject([]byte(raw), &rawTop{}) {
				obj, err := decodeObject([]byte(raw))
				if err != nil {
					t.Fatalf("schema %d: quick proved the request %q valid; decoding it says %v", i, raw, err)
				}
				if errs := validate(full.full, obj); len(errs) > 0 {
					t.Fatalf("schema %d: quick proved the request %q valid; the full validator says %v", i, raw, errs)
				}
			}
		}
		v, err := decodeAny([]byte(raw))
		if err != nil {
			return
		}
		for i, full := range compiled {
			q := full.quick
			if q.valid(v) && len(validate(full.full, v)) > 0 {
				t.Fatalf("schema %d: quick proved %s valid; the full validator says %v", i, raw, validate(full.full, v))
			}
			if end, ok := q.validRaw([]byte(raw), 0); ok && skipSpace([]byte(raw), end) == len(raw) && len(validate(full.full, v)) > 0 {
				t.Fatalf("schema %d: quick proved the bytes %s valid; the full validator says %v", i, raw, validate(full.full, v))
			}
		}
	})
}

func compileBoth(t testing.TB, src string, assertFormat bool) (*quick, *schema) {
	t.Helper()
	s, _, err := compileSchema("quick", json.RawMessage(src), assertFormat)
	if err != nil {
		t.Fatal(err)
	}
	if s.quick == nil {
		t.Fatalf("quick does not compile %s", src)
	}
	return s.quick, s
}

// randomInstance makes a JSON value biased towards the test schemas'
// property names and edge values.
func randomInstance(rng *rand.Rand, depth int) string {
	names := []string{"n", "payload", "name", "size", "ratio", "tags", "mode", "on", "extra", "x", "y", "items"}
	scalars := []string{`"a@example.com"`, `"10.0.0.1"`, `"2020-02-30"`, `"2020-02-03"`, `0`, `1`, `-1`, `10`, `11`, `1.0`, `0.5`, `1e3`, `9007199254740993`, `"a"`, `"b"`, `"abc"`, `"ABC"`, `"abcdef"`, `"fast"`, `"é"`, `""`, `true`, `false`, `null`}
	k := rng.IntN(10)
	switch {
	case depth > 2 || k < 4:
		return scalars[rng.IntN(len(scalars))]
	case k < 6:
		n := rng.IntN(4)
		s := "["
		for i := 0; i < n; i++ {
			if i > 0 {
				s += ","
			}
			s += randomInstance(rng, depth+1)
		}
		return s + "]"
	default:
		n := rng.IntN(5)
		s := "{"
		seen := map[string]bool{}
		for i := 0; i < n; i++ {
			name := names[rng.IntN(len(names))]
			if seen[name] {
				continue
			}
			seen[name] = true
			if len(seen) > 1 {
				s += ","
			}
			s += fmt.Sprintf("%q:%s", name, randomInstance(rng, depth+1))
		}
		return s + "}"
	}
}

// TestQuickKnowsGoTypes checks that the schemas derived from ordinary Go
// request types take the quick path.
func TestQuickKnowsGoTypes(t *testing.T) {
	type inner struct {
		Name string `json:"name" jsonschema:"minLength=1"`
	}
	type request struct {
		N       int               `json:"n"`
		Payload string            `json:"payload,omitempty"`
		Tags    []string          `json:"tags,omitempty"`
		On      bool              `json:"on"`
		Ratio   float64           `json:"ratio,omitempty"`
		Inner   inner             `json:"inner"`
		Labels  map[string]string `json:"labels,omitempty"`
		Size    *int              `json:"size,omitempty" jsonschema:"minimum=1,maximum=10"`
		Mode    string            `json:"mode,omitempty" jsonschema:"enum=fast,enum=slow"`
	}
	s, _, err := compileSchema("go", SchemaOf[request](), false)
	if err != nil {
		t.Fatal(err)
	}
	if s.quick == nil {
		t.Fatalf("quick does not compile %s", SchemaOf[request]())
	}
	v, err := decodeAny([]byte(`{"n":1,"payload":"p","tags":["a"],"on":true,"ratio":0.5,"inner":{"name":"x"},"labels":{"a":"b"},"size":3,"mode":"fast"}`))
	if err != nil {
		t.Fatal(err)
	}
	if !s.quick.valid(v) {
		t.Errorf("quick does not prove a valid request valid against %s", SchemaOf[request]())
	}
}
