package contractlint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const goodRequest = `{"type": "object", "properties": {
	"favourite_food": {"type": "string", "enum": ["onion", "banana"]},
	"chance_percentage": {"type": "integer", "exclusiveMinimum": 0, "default": 20}},
	"required": ["favourite_food"], "additionalProperties": false}`

const goodResponse = `{"type": "object", "properties": {"tolerable": {"type": "boolean"}}, "required": ["tolerable"]}`

func TestContract(t *testing.T) {
	cases := []struct {
		name, contract string
		want           []string // "pointer: message prefix"
	}{
		{"fine", `{"description": "d", "lock_attribute": "favourite_food", "request": ` + goodRequest + `, "response": ` + goodResponse + `,
			"examples": [{"request": {"favourite_food": "onion"}, "response": {"success": true, "message": "m", "data": {"tolerable": true}}}]}`, nil},
		{"not JSON", `{"description": `, []string{": not a valid contract"}},
		{"unknown key", `{"description": "d", "requets": {}}`, []string{": not a valid contract: json: unknown field \"requets\""}},
		{"every problem at once", `{"description": "", "lock_attribute": "chance_percentage", "timeout_seconds": -1,
			"request": {"type": "object", "properties": {
				"chance_percentage": {"type": "integer", "minimum": 1, "default": 0},
				"size": {"type": "object", "properties": {"w": {"type": "integer", "maximum": 3, "default": 9}}},
				"secret": {"type": "integer", "x-fernet": true}}},
			"response": {"type": "objekt"},
			"examples": [{"request": {"chance_percentage": 0}, "response": {}}]}`, []string{
			"/description: missing",
			"/examples/0/request/chance_percentage: the request does not match the request schema: minimum",
			"/request/properties/chance_percentage/default: does not match its schema: minimum",
			"/request/properties/chance_percentage/type: the lock attribute \"chance_percentage\" must be of type \"string\"",
			"/request/properties/secret/x-fernet: only string properties",
			"/request/properties/size/properties/w/default: does not match its schema: maximum",
			"/request/required: the lock attribute \"chance_percentage\" must be required",
			"/response/type: not a valid JSON Schema",
			"/timeout_seconds: must not be negative",
		}},
		{"examples", `{"description": "d", "request": ` + goodRequest + `, "response": ` + goodResponse + `,
			"examples": [
				{"request": {"favourite_food": "pizza", "chance_percentage": 0}, "response": {"success": true, "message": "m", "data": {"tolerable": "yes"}}},
				{"request": {"favourite_food": "onion"}, "response": {"success": true, "message": "m", "data": {"tolerable": true}}},
				{"request": [], "response": {"success": true}}]}`, []string{
			"/examples/0/request/chance_percentage: the request does not match the request schema",
			"/examples/0/request/favourite_food: the request does not match the request schema",
			"/examples/0/response: ",
			"/examples/2/request: the request does not match",
			"/examples/2/response: ",
		}},
		{"lock attribute missing, fernet nested", `{"description": "d", "lock_attribute": "nope",
			"request": {"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {"type": "string", "x-fernet": true}}}}},
			"response": true}`, []string{
			"/lock_attribute: \"nope\" is not a property",
			"/request/properties/a/properties/b/x-fernet: only top-level",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Contract("dx_test", []byte(c.contract))
			if len(got) != len(c.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(got), len(c.want), lines(got))
			}
			for i, w := range c.want {
				ptr, msg, _ := strings.Cut(w, ": ")
				if got[i].Pointer != ptr || !strings.HasPrefix(got[i].Message, msg) {
					t.Errorf("problem %d: got %s, want %s ...", i, got[i].Pointer+": "+got[i].Message, w)
				}
			}
		})
	}
}

func lines(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("  " + p.String() + "\n")
	}
	return b.String()
}

func TestDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		p := filepath.Join(dir, name, "contract.json")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("dx_good", `{"description": "d", "request": `+goodRequest+`, "response": `+goodResponse+`}`)
	write("dx_bad", `{"description": "d", "request": {"type": 1}, "response": `+goodResponse+`}`)
	if err := os.Mkdir(filepath.Join(dir, "not_a_handler"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []Problem{{File: filepath.Join(dir, "dx_bad", "contract.json"), Pointer: "/request/type"}}
	if len(got) != 1 || got[0].File != want[0].File || got[0].Pointer != want[0].Pointer {
		t.Fatalf("got:\n%s", lines(got))
	}
	// One handler's directory.
	if got, err := Dir(filepath.Join(dir, "dx_good")); err != nil || len(got) != 0 {
		t.Fatalf("one handler: %v %v", got, err)
	}
	if _, err := Dir(filepath.Join(dir, "not_a_handler")); err == nil || !strings.Contains(err.Error(), "no contract.json") {
		t.Fatalf("a directory without contracts: %v", err)
	}
}

// The example handlers shipped with the project are clean.
func TestExampleHandlers(t *testing.T) {
	got, err := Dir("../examples/handlers")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("the example handlers have problems:\n%s", lines(got))
	}
}
