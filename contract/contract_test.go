package contract

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestContractChecks: each directory of testdata/contracts holds a
// contract.json and error.txt, a part of the error that loading and
// compiling it gives (empty: none).
func TestContractChecks(t *testing.T) {
	dirs, err := filepath.Glob("testdata/contracts/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden contracts: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			want := strings.TrimSpace(string(readGolden(t, dir, "error.txt")))
			c, err := Load(filepath.Join(dir, "contract.json"))
			if err == nil {
				_, err = Compile("x", c)
			}
			if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
				t.Errorf("err = %v, want %q", err, want)
			}
		})
	}
}

func TestContractMode(t *testing.T) {
	tests := []struct {
		extra      string
		persistent bool
		maxReq     int
		err        string
	}{
		{``, false, DefaultMaxRequestsPerProcess, ""},
		{`,"mode":"oneshot"`, false, DefaultMaxRequestsPerProcess, ""},
		{`,"mode":"persistent"`, true, DefaultMaxRequestsPerProcess, ""},
		{`,"mode":"persistent","max_requests_per_process":0`, true, 0, ""},
		{`,"mode":"persistent","max_requests_per_process":5`, true, 5, ""},
		{`,"mode":"Persistent"`, false, 0, `mode "Persistent": must be "oneshot" or "persistent"`},
		{`,"max_requests_per_process":-1`, false, 0, "max_requests_per_process must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.extra, func(t *testing.T) {
			c, err := Parse([]byte(`{"description":"d","request":{},"response":{}` + tt.extra + `}`))
			if err == nil {
				_, err = Compile("dx", c)
			}
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Persistent() != tt.persistent || c.MaxRequests() != tt.maxReq {
				t.Errorf("persistent %v, max requests %d; want %v, %d", c.Persistent(), c.MaxRequests(), tt.persistent, tt.maxReq)
			}
		})
	}
}

func TestValidationMessages(t *testing.T) {
	c, err := Compile("x", &Contract{Request: json.RawMessage(`{"type":"object","properties":{
		"a":{"type":"integer","exclusiveMinimum":0},"b":{"type":"number","maximum":1.5},"c":{"type":"string","minLength":2},
		"d":{"type":"array","maxItems":1},"e":{"type":"string","pattern":"^x"},"f":{"enum":["p","q"]},"g":{"type":"integer"}}}`), Response: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	obj, _ := decodeObject([]byte(`{"a":0,"b":2,"c":"z","d":[1,2],"e":"y","f":"r","g":"1"}`))
	want := map[string]string{
		"[a]": "must be greater than 0 (got 0)",
		"[b]": "must be at most 1.500000 (got 2)",
		"[c]": "must be at least 2 characters long (got 1)",
		"[d]": "must have at most 1 items (got 2)",
		"[e]": "must match the pattern ^x",
		"[f]": "value must be one of 'p', 'q'",
		"[g]": "got string, want integer",
	}
	errs := c.request.check(obj)
	if len(errs) != len(want) {
		t.Fatalf("errors = %+v", errs)
	}
	for _, e := range errs {
		if w := want[fmt.Sprint(e.Location)]; e.Message != w {
			t.Errorf("%v: %q, want %q", e.Location, e.Message, w)
		}
	}
}
