package gui

import (
	"strings"
	"testing"
)

// outline writes a tree on one line: containers as label{...} or
// label[...] with "+" when open, scalars as label=kind:text, masked as
// label=MASKED.
func outline(n Node) string {
	label := n.Label
	if n.InArray {
		label = "#" + label
	}
	switch {
	case n.Container():
		var parts []string
		for _, c := range n.Children {
			parts = append(parts, outline(c))
		}
		open, close := "{", "}"
		if n.Kind == "array" {
			open, close = "[", "]"
		}
		if n.Open {
			open = "+" + open
		}
		return label + open + strings.Join(parts, ",") + close
	case n.Masked:
		return label + "=MASKED"
	default:
		return label + "=" + n.Kind + ":" + n.Text
	}
}

func TestParseTree(t *testing.T) {
	deep := `{"a":{"b":{"c":{"d":{"e":1}}}}}`
	tests := []struct {
		json, want, wantErr string
	}{
		{`{"b": 1, "a": "x"}`, `+{b=number:1,a=string:x}`, ""}, // document order kept
		{`{"password": "*****", "name": "*****x", "n": null, "t": true}`, `+{password=MASKED,name=string:*****x,n=null:null,t=bool:true}`, ""},
		{`[1.50, "<script>", [], {}]`, `+[#0=number:1.50,#1=string:<script>,#2+[],#3+{}]`, ""},
		{`"top"`, `=string:top`, ""},
		{deep, `+{a+{b+{c+{d{e=number:1}}}}}`, ""}, // deep containers start closed
		{`{"a":`, "", "EOF"},
		{`{} {}`, "", "after the top-level value"},
		{`not json`, "", "invalid"},
	}
	for _, tt := range tests {
		n, err := ParseTree([]byte(tt.json))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %v, want one with %q", tt.json, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.json, err)
			continue
		}
		if got := outline(n); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.json, got, tt.want)
		}
		if !n.Top {
			t.Errorf("%s: the top-level node is not marked Top", tt.json)
		}
	}
	// A large container starts closed.
	big := "[" + strings.Repeat("0,", openSize) + "0]"
	if n, _ := ParseTree([]byte(big)); n.Open {
		t.Errorf("an array of %d items starts open", openSize+1)
	}
}

func TestPrettyJSON(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a":[1,2]}`, "{\n  \"a\": [\n    1,\n    2\n  ]\n}"},
		{`not json`, `not json`},
	}
	for _, tt := range tests {
		if got := PrettyJSON([]byte(tt.in)); got != tt.want {
			t.Errorf("PrettyJSON(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
