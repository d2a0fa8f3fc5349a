package clientgen

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The generated module imports with the standard library alone, and every
// example's request and data go through from_dict and to_dict unchanged.
func TestPythonImportsAndRoundTrips(t *testing.T) {
	src, err := Python(actionsOf(testActions))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "actions.py"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	var script strings.Builder
	script.WriteString("import sys\nsys.path.insert(0, \".\")\nimport json, actions\ncases = [\n")
	for _, a := range testActions {
		name := GoName(a.Exchange)
		for _, ex := range a.Examples {
			for _, c := range []struct{ typ, json string }{{name + "Request", string(ex.Request)}, {name + "Response", string(ex.Data)}} {
				fmt.Fprintf(&script, "    (%q, %q),\n", c.typ, c.json)
			}
		}
	}
	script.WriteString(`]
for name, text in cases:
    value = json.loads(text)
    typ = getattr(actions, name)
    if isinstance(typ, type):
        back = typ.from_dict(value).to_dict()
    else:
        fn = "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
        back = getattr(actions, fn + "_to_dict")(getattr(actions, fn + "_from_dict")(value))
    if back != value:
        raise SystemExit(f"{name}: round trip changed {value!r} into {back!r}")
assert actions.DxExampleRequest.EXCHANGE == "dx_example"
req = actions.DxExampleRequest(favourite_food="onion")
assert req.to_dict() == {"favourite_food": "onion"}, req.to_dict()
print("ok", len(cases))
`)
	cmd := exec.Command("python3", "-I", "-c", script.String())
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PYTHONPATH="+dir, "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "ok ") {
		t.Fatalf("python3: %v\n%s\ngenerated:\n%s", err, out, src)
	}
}
