package clientgen

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestGoName(t *testing.T) {
	for in, want := range map[string]string{
		"favourite_food": "FavouriteFood", "server_id": "ServerID", "dx_example": "DxExample",
		"dx-create.tree": "DxCreateTree", "camelCase": "CamelCase", "2fa": "X2fa", "api_url": "APIURL",
	} {
		if got := GoName(in); got != want {
			t.Errorf("GoName(%q) = %q, want %q", in, got, want)
		}
	}
}

// The generated code passes go vet, and every example's request and data
// decode into the generated types and encode back to the same JSON.
func TestGoVetAndRoundTrip(t *testing.T) {
	src, err := Go("actions", actionsOf(testActions))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/actions\n\ngo 1.22\n")
	write("actions.go", string(src))
	var cases strings.Builder
	for _, a := range testActions {
		name := GoName(a.Exchange)
		for i, ex := range a.Examples {
			fmt.Fprintf(&cases, "\t{%q, func() any { return new(%sRequest) }, %q},\n", fmt.Sprintf("%s %d request", a.Exchange, i), name, ex.Request)
			fmt.Fprintf(&cases, "\t{%q, func() any { return new(%sResponse) }, %q},\n", fmt.Sprintf("%s %d data", a.Exchange, i), name, ex.Data)
		}
	}
	write("roundtrip_test.go", `package actions

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for _, c := range []struct {
		name string
		typ  func() any
		json string
	}{
`+cases.String()+`	} {
		v := c.typ()
		if err := json.Unmarshal([]byte(c.json), v); err != nil {
			t.Fatalf("%s: decode: %v", c.name, err)
		}
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s: encode: %v", c.name, err)
		}
		var want, got any
		_ = json.Unmarshal([]byte(c.json), &want)
		_ = json.Unmarshal(out, &got)
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%s: round trip changed it:\n  in:  %s\n  out: %s", c.name, c.json, out)
		}
	}
}
`)
	for _, args := range [][]string{{"vet", "./"}, {"test", "-count=1", "./"}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s\ngenerated:\n%s", strings.Join(args, " "), err, out, src)
		}
	}
	for _, want := range []string{
		"const DxExampleExchange = \"dx_example\"",
		"FavouriteFood    string `json:\"favourite_food\"`",
		"ChancePercentage *int64 `json:\"chance_percentage,omitempty\"`",
		"type DxCreateTreeSize struct",
		"Note  *string            `json:\"note\"`",
		"type DxCreateTreeResponse = []DxCreateTreeResponseValueItem",
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("generated code lacks %q:\n%s", want, src)
		}
	}
}
