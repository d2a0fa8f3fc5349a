package contract

import (
	"encoding/json"
	"testing"
)

func TestGenerate(t *testing.T) {
	tests := []struct {
		schema string
		want   string
	}{
		{`{"type":"object","required":["a"],"properties":{"a":{"type":"string","minLength":8},"b":{"type":"integer"}}}`, `{"a":"string--"}`},
		{`{"type":"object","properties":{"b":{"type":"boolean"},"c":{"const":5}}}`, `{"b":false,"c":5}`},
		{`{"type":"array","items":{"type":"number","exclusiveMinimum":1},"minItems":1}`, `[2]`},
		{`{"anyOf":[{"type":"null"},{"type":"string"}]}`, `null`},
		{`{"type":["integer","null"],"default":4}`, `4`},
	}
	for _, tt := range tests {
		var s any
		if err := json.Unmarshal([]byte(tt.schema), &s); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(generate(s, 0))
		if string(b) != tt.want {
			t.Errorf("generate(%s) = %s, want %s", tt.schema, b, tt.want)
		}
	}
}
