package docscli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestCommandLine(t *testing.T) {
	bad := t.TempDir()
	writeFile(t, filepath.Join(bad, "dx_bad", "contract.json"), `{"description": "d", "lock_attribute": "n",
		"request": {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1, "default": 0}}},
		"response": {"type": "objekt"}}`)
	cases := []struct {
		name   string
		args   []string
		status int
		stdout string
		stderr string
	}{
		{"no command", nil, ExitUsage, "", "usage: rabbitmq-consumer-docs serve"},
		{"unknown command", []string{"publish"}, ExitUsage, "", `unknown command "publish"`},
		{"help", []string{"--help"}, ExitOK, "", "rabbitmq-consumer-docs lint DIR..."},
		{"lint clean", []string{"lint", "../examples/handlers"}, ExitOK, "", ""},
		{"lint problems", []string{"lint", bad}, ExitFailure,
			filepath.Join(bad, "dx_bad", "contract.json") + ": /request/properties/n/default: does not match its schema", "4 problems"},
		{"lint nothing", []string{"lint"}, ExitUsage, "", "name a handlers directory"},
		{"lint no contracts", []string{"lint", t.TempDir()}, ExitFailure, "", "no contract.json"},
		{"build without output", []string{"build", "--handlers-directory", "../examples/handlers"}, ExitUsage, "", "--output is required"},
		{"generate without language", []string{"generate"}, ExitUsage, "", "go or python"},
		{"generate unknown language", []string{"generate", "rust", "--handlers-directory", "../examples/handlers"}, ExitUsage, "", `unknown language "rust"`},
		{"generate from refused contracts", []string{"generate", "go", "--handlers-directory", bad}, ExitFailure, "", "contracts the consumer would refuse"},
		{"generate python", []string{"generate", "python", "--handlers-directory", "../examples/handlers"}, ExitOK, "class DxExampleRequest:", ""},
		{"serve bad listen", []string{"serve", "--handlers-directory", "../examples/handlers", "--listen", "nope"}, ExitFailure, "", "listen:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, stdout, stderr := run(t, c.args...)
			if st != c.status || !strings.Contains(stdout, c.stdout) || !strings.Contains(stderr, c.stderr) {
				t.Errorf("status %d (want %d)\nstdout: %s\nstderr: %s\nwant stdout containing %q, stderr containing %q", st, c.status, stdout, stderr, c.stdout, c.stderr)
			}
		})
	}
}

// build writes the static site: every page, the stylesheet and the schemas.
func TestBuild(t *testing.T) {
	out := t.TempDir()
	if st, _, stderr := run(t, "build", "--handlers-directory", "../examples/handlers", "--output", out); st != ExitOK {
		t.Fatalf("build: %d %s", st, stderr)
	}
	for _, f := range []string{"index.html", "style.css", "actions/dx_example.html", "actions/dx_example_oneshot.html",
		"schemas/dx_example.json", "schemas/head.json", "schemas/index.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("the site lacks %s: %v", f, err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(out, "index.html"))
	if !strings.Contains(string(b), `href="style.css"`) || !strings.Contains(string(b), `href="actions/dx_example.html"`) {
		t.Errorf("the index's links are not relative:\n%s", b)
	}
}

// The generated Python module imports with python3 and round-trips the
// example handlers' examples.
func TestGeneratePythonRoundTripsExamples(t *testing.T) {
	dir := t.TempDir()
	if st, _, stderr := run(t, "generate", "python", "--handlers-directory", "../examples/handlers", "--output", filepath.Join(dir, "actions.py")); st != ExitOK {
		t.Fatalf("generate python: %d %s", st, stderr)
	}
	script := `import sys, json, glob, os
sys.path.insert(0, sys.argv[1])
import actions
n = 0
for path in sorted(glob.glob(os.path.join(sys.argv[2], "*", "contract.json"))):
    name = "".join(w.capitalize() for w in os.path.basename(os.path.dirname(path)).split("_"))
    for ex in json.load(open(path))["examples"]:
        for typ, value in ((name + "Request", ex["request"]), (name + "Response", ex["response"]["data"])):
            back = getattr(actions, typ).from_dict(value).to_dict()
            assert back == value, (typ, value, back)
            n += 1
print("ok", n)
`
	examples, _ := filepath.Abs("../examples/handlers")
	out, err := exec.Command("python3", "-I", "-c", script, dir, examples).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok 8" {
		t.Fatalf("python3: %v: %s", err, out)
	}
}
