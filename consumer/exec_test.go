package consumer

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const permissiveContract = `{"description":"test","lock_attribute":null,"timeout_seconds":%s,
 "request":{"type":"object"},
 "response":{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"],"additionalProperties":false}}`

func TestExecHandlerFailures(t *testing.T) {
	dir := t.TempDir()
	pidDir := t.TempDir()
	handlers := map[string]string{
		"dx_ok":       `cat >/dev/null; printf '%s' "{\"success\":true,\"message\":\"$RPC_EXCHANGE $RPC_VIRTUAL_HOST $RPC_REDELIVERED\",\"data\":{\"ok\":true}}"`,
		"dx_fail":     `cat >/dev/null; echo "database exploded" >&2; echo "line two of the story" >&2; exit 3`,
		"dx_hang":     `echo $$ > ` + pidDir + `/pid; sleep 300 & echo $! > ` + pidDir + `/child; wait`,
		"dx_junk":     `echo 'Traceback? no, just junk'`,
		"dx_schema":   `echo '{"success":true,"message":"m","data":{"ok":"yes"}}'`,
		"dx_envelope": `echo '{"success":"true","message":"m","data":{}}'`,
		"dx_extra":    `echo '{"success":true,"message":"m","data":{"ok":true},"debug":1}'`,
		"dx_signal":   `kill -SEGV $$`,
		"dx_failure":  `echo '{"success":false,"message":"Tree not found","data":null}'`,
	}
	for name, script := range handlers {
		timeout := "30"
		if name == "dx_hang" {
			timeout = "0.5"
		}
		mustWrite(t, filepath.Join(dir, name, "handler"), "#!/bin/sh\n"+script+"\n", 0o755)
		mustWrite(t, filepath.Join(dir, name, "contract.json"), strings.Replace(permissiveContract, "%s", timeout, 1), 0o644)
	}
	var exchanges []string
	for n := range handlers {
		exchanges = append(exchanges, n)
	}
	h := start(t, setup{exchanges: exchanges, handlersDir: dir})
	c := h.caller(false)

	t.Run("environment", func(t *testing.T) {
		r := h.call(c, "dx_ok", map[string]any{})
		if !r.Success || r.Message != "dx_ok "+h.vh.Name+" 0" {
			t.Fatalf("reply = %+v", r)
		}
	})
	t.Run("handler failure response passes through", func(t *testing.T) {
		r := h.call(c, "dx_failure", map[string]any{})
		if r.Success || r.Message != "Tree not found" || string(r.Data) != "null" {
			t.Fatalf("reply = %+v", r)
		}
	})
	tests := []struct {
		exchange string
		inLog    string // the detail that must reach the log (and the journal's traceback)
	}{
		{"dx_fail", "exit status: 3"},
		{"dx_hang", "handler timed out"},
		{"dx_junk", "just junk"},
		{"dx_schema", "data[ok]"},
		{"dx_envelope", "must be a boolean"},
		{"dx_extra", "unknown keys debug"},
		{"dx_signal", "killed by signal"},
	}
	for _, tt := range tests {
		t.Run(tt.exchange, func(t *testing.T) {
			r := h.call(c, tt.exchange, map[string]any{})
			if r.Success || r.Message != wire.MessageUnexpectedError || string(r.Data) != "null" {
				t.Fatalf("reply = %+v %s, want the unexpected error", r, r.Data)
			}
			if !strings.Contains(h.logs.String(), tt.inLog) {
				t.Errorf("log lacks %q", tt.inLog)
			}
			var tb string
			for _, rec := range h.journal.records() {
				if rec.Traceback != nil && strings.Contains(*rec.Traceback, tt.inLog) {
					tb = *rec.Traceback
				}
			}
			if tb == "" {
				t.Errorf("no journal traceback contains %q", tt.inLog)
			}
		})
	}
	if !strings.Contains(h.logs.String(), "line two of the story") {
		t.Error("the failing handler's stderr is not in the log")
	}
	t.Run("a timed-out handler and its children are killed", func(t *testing.T) {
		for _, f := range []string{"pid", "child"} {
			pid, err := strconv.Atoi(strings.TrimSpace(readFile(t, filepath.Join(pidDir, f))))
			if err != nil {
				t.Fatal(err)
			}
			testutil.WaitFor(t, "process "+f+" to be gone", 30*time.Second, func() bool {
				return syscall.Kill(pid, 0) == syscall.ESRCH || isZombie(pid)
			})
		}
	})
}

func isZombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] == "Z"
}
