package contract

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestDecodeRejectsText: a request body with a string that is not UTF-8 or
// an object holding a key twice is refused, located, not decoded.
func TestDecodeRejectsText(t *testing.T) {
	tests := []struct {
		body     string
		wantType string
		wantLoc  string
	}{
		{"{\"a\":\"\xff\"}", textUTF8, "[a]"},
		{"{\"a\":{\"b\":[\"x\",\"\xc3\x28\"]}}", textUTF8, "[a b 1]"},
		{"{\"\xed\xa0\x80\":1}", textUTF8, "[]"}, // a surrogate half encoded in UTF-8, in a key
		{`{"a":"\ud800"}`, textUTF8, "[a]"},
		{`{"a":"\udc00\ud800"}`, textUTF8, "[a]"},
		{`{"a":"\ud800\u0041"}`, textUTF8, "[a]"},
		{`{"n":1,"n":2}`, textDuplicate, "[]"},
		{`{"n":1,"\u006e":2}`, textDuplicate, "[]"},
		{`{"xs":[{"a":1},{"b":1,"c":{},"b":2}]}`, textDuplicate, "[xs 1]"},
		{`{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"q":17,"r":18,"s":19,"t":20,"u":21,"v":22,"w":23,"x":24,"y":25,"z":26,"A":1,"B":2,"C":3,"D":4,"E":5,"F":6,"G":7,"H":8,"a":0}`, textDuplicate, "[]"},
		{`{"a":`, textSyntax, "[]"},
		{`{"a":01}`, textSyntax, "[]"},
		{`{"a":"\x"}`, textSyntax, "[]"},
		{"{\"a\":\"\t\"}", textSyntax, "[]"},
		{`{"a":1}x`, textSyntax, "[]"},
		{`{"a":[1,]}`, textSyntax, "[]"},
	}
	for _, tt := range tests {
		_, err := decodeObject([]byte(tt.body))
		var te *textError
		if !errors.As(err, &te) {
			t.Errorf("decodeObject(%q) = %v, want a %s error", tt.body, err, tt.wantType)
			continue
		}
		if te.Type != tt.wantType || fmt.Sprint(te.Location) != tt.wantLoc {
			t.Errorf("decodeObject(%q): %s at %v, want %s at %s (%v)", tt.body, te.Type, te.Location, tt.wantType, tt.wantLoc, te)
		}
	}
}

// TestScanTextAgreesWithEncodingJSON: on valid UTF-8 without duplicate
// keys, scanText and json.Valid agree.
func TestScanTextAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range []string{
		`{}`, `[]`, `""`, `0`, `-0`, `-0.5e+10`, `1E3`, ` {"a" : [ 1 , 2 , {"b":null} ] } `, `{"a":"\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t"}`,
		`{"é":"✓"}`, `[true,false,null]`, `{"a":{"a":{"a":1}}}`,
		``, ` `, `{`, `{"a"}`, `{"a":1,}`, `[1 2]`, `01`, `1.`, `.5`, `1e`, `-`, `tru`, `nul`, `"abc`, `{"a":1}}`, `{1:2}`, `[1]]`, `+1`,
	} {
		got := scanText([]byte(s)) == nil
		if want := json.Valid([]byte(s)); got != want {
			t.Errorf("scanText(%q) valid = %v, json.Valid = %v", s, got, want)
		}
	}
}

// FuzzScanText: scanText accepts exactly the texts encoding/json accepts,
// minus invalid UTF-8 and duplicate keys.
func FuzzScanText(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"c"}]}`, `{"a":1,"a":2}`, "\"\xff\"", `"\ud800"`, `-1.5e3`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := scanText([]byte(s))
		if err == nil && !json.Valid([]byte(s)) {
			t.Fatalf("scanText accepts %q; encoding/json does not", s)
		}
		if err != nil && err.Type == textSyntax && json.Valid([]byte(s)) {
			t.Fatalf("scanText: %q: %v; encoding/json accepts it", s, err)
		}
	})
}

// BenchmarkScanText compares scanText, on the quick path in place of
// json.Valid, with json.Valid, on the benchmark's request and a larger one.
func BenchmarkScanText(b *testing.B) {
	small := []byte(`{"n":12345,"payload":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`)
	large := []byte(`{"customer":"c","items":[` + strings.Repeat(`{"name":"caf\u00e9 ✓","size":{"width":10,"unit":"cm"},"tags":["a","b"],"on":true},`, 50) + `{"name":"x"}]}`)
	for _, body := range []struct {
		name string
		b    []byte
	}{{"small", small}, {"large", large}} {
		b.Run(body.name+"/json.Valid", func(b *testing.B) {
			b.SetBytes(int64(len(body.b)))
			b.ReportAllocs()
			for b.Loop() {
				if !json.Valid(body.b) {
					b.Fatal("invalid")
				}
			}
		})
		b.Run(body.name+"/scanText", func(b *testing.B) {
			b.SetBytes(int64(len(body.b)))
			b.ReportAllocs()
			for b.Loop() {
				if err := scanText(body.b); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
