package handler

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// ignoreSpawner leaves alone the goroutine that starts every handler
// process; it runs as long as the process.
var ignoreSpawner = goleak.IgnoreTopFunction("github.com/rabbitmq-consumer/rabbitmq-consumer/handler.spawner")

// writeHandler writes an executable handler (a shell script) and its
// contract (permissiveContract with the given timeout and extra fields)
// into a new directory, and returns the directory.
func writeHandler(t testing.TB, script, timeout, extra string) string {
	t.Helper()
	return writeProgram(t, "#!/bin/sh\n"+script+"\n", timeout, extra)
}

// writeProgram is writeHandler with the whole program, its "#!" line
// included.
func writeProgram(t testing.TB, program, timeout, extra string) string {
	t.Helper()
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "handler"), program, 0o755)
	c := strings.Replace(permissiveContract, "%s", timeout, 1)
	c = strings.Replace(c, `"description":"test"`, `"description":"test"`+extra, 1)
	mustWrite(t, filepath.Join(dir, "contract.json"), c, 0o644)
	return dir
}

// waitGone waits until the process whose pid is in file has exited.
func waitGone(t *testing.T, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("the handler did not write its child's pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); !gone(pid); {
		if time.Now().After(deadline) {
			t.Fatalf("process %d the handler left running is still there", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestExecHandle runs one-shot handlers written in shell: the response is
// what the handler wrote; every way of failing is an *Error that says why;
// what a handler leaves running is killed.
func TestExecHandle(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t, ignoreSpawner) }) // after the cleanups that close
	pids := t.TempDir()
	tests := []struct {
		name    string
		script  string
		timeout string
		want    string // the response, when it succeeds
		reason  string // part of the error's reason, when it fails
		status  int    // the error's exit status
		stderr  string // part of the error's stderr tail
		child   string // a file holding the pid of a child that must be gone
	}{
		{name: "answers with its environment", script: `cat >/dev/null; printf '{"m":"%s %s %s %s"}' "$RPC_EXCHANGE" "$RPC_VIRTUAL_HOST" "$RPC_REDELIVERED" "$RPC_CORRELATION_ID"`,
			want: `{"m":"dx_t v 0 c-1"}`},
		{name: "reads its request on stdin", script: `cat`, want: `{"ok":true}`},
		{name: "exit status", script: `cat >/dev/null; echo "database exploded" >&2; exit 3`,
			reason: "handler exited with status 3", status: 3, stderr: "database exploded"},
		{name: "signal", script: `kill -SEGV $$`, reason: "handler was killed by signal", status: -1},
		{name: "timeout", script: `sleep 300 & echo $! > ` + pids + `/timeout; wait`, timeout: "0.3",
			reason: "handler timed out and was killed", status: -1, child: pids + "/timeout"},
		{name: "stdout past the cap", script: `head -c 20000000 /dev/zero; sleep 300`,
			reason: "wrote more than 16777216 bytes to stdout", status: -1},
		{name: "leftovers killed", script: `sleep 300 & echo $! > ` + pids + `/left; echo '{"ok":true}'`,
			want: `{"ok":true}` + "\n", child: pids + "/left"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			timeout := tt.timeout
			if timeout == "" {
				timeout = "30"
			}
			e, err := LoadExec(writeHandler(t, tt.script, timeout, ""), true)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), e.Contract().Timeout())
			defer cancel()
			raw, err := e.Handle(ctx, &Call{Exchange: "dx_t", CorrelationID: "c-1", VirtualHost: "v", Body: []byte(`{"ok":true}`)})
			if tt.reason == "" {
				if err != nil || string(raw) != tt.want {
					t.Fatalf("Handle = %q, %v; want %q", raw, err, tt.want)
				}
			} else {
				var he *Error
				if !errors.As(err, &he) || !strings.Contains(he.Reason, tt.reason) || he.ExitStatus != tt.status || !strings.Contains(he.Stderr, tt.stderr) {
					t.Fatalf("Handle error = %#v, want reason %q, status %d, stderr with %q", err, tt.reason, tt.status, tt.stderr)
				}
			}
			if tt.child != "" {
				waitGone(t, tt.child)
			}
		})
	}
}

// TestLoadExec: a handler directory needs a valid contract.json, and an
// executable file named handler unless only the contract is used (mock
// mode).
func TestLoadExec(t *testing.T) {
	good := writeHandler(t, "cat", "30", "")
	noExec := writeHandler(t, "cat", "30", "")
	if err := os.Chmod(filepath.Join(noExec, "handler"), 0o644); err != nil {
		t.Fatal(err)
	}
	isDir := writeHandler(t, "cat", "30", "")
	if err := os.Remove(filepath.Join(isDir, "handler")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(isDir, "handler"), 0o755); err != nil {
		t.Fatal(err)
	}
	badContract := writeHandler(t, "cat", "30", `,"lock":"x"`)
	tests := []struct {
		name           string
		dir            string
		needExecutable bool
		err            string // "" when it loads
	}{
		{"good", good, true, ""},
		{"not executable", noExec, true, "not executable (mode -rw-r--r--)"},
		{"not executable, mock", noExec, false, ""},
		{"a directory", isDir, true, "is a directory, not an executable"},
		{"no handler", t.TempDir(), false, "contract.json: open"},
		{"bad contract", badContract, true, `unknown field "lock"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadExec(tt.dir, tt.needExecutable)
			if (tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("LoadExec: %v, want %q", err, tt.err)
			}
		})
	}
}
