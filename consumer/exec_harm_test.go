package consumer

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/handler"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// The tests in this file run executable handlers that try to hurt the
// consumer: too much output, pathological stderr, children left behind,
// curiosity about the consumer's secrets.

const okResponse = `printf '{"success":true,"message":"m","data":{"ok":true}}'`

// harmHandlers writes one handler per script, with a 20 s timeout, and
// starts a consumer serving them.
func harmHandlers(t *testing.T, scripts map[string]string) *harness {
	t.Helper()
	dir := t.TempDir()
	var exchanges []string
	for name, script := range scripts {
		mustWrite(t, filepath.Join(dir, name, "handler"), "#!/bin/sh\n"+script+"\n", 0o755)
		mustWrite(t, filepath.Join(dir, name, "contract.json"), strings.Replace(permissiveContract, "%s", "20", 1), 0o644)
		exchanges = append(exchanges, name)
	}
	return start(t, setup{exchanges: exchanges, handlersDir: dir})
}

func wantUnexpected(t *testing.T, r wire.Response) {
	t.Helper()
	if r.Success || r.Message != wire.MessageUnexpectedError {
		t.Fatalf("reply = %+v, want the unexpected error", r)
	}
}

// TestExecStdoutCap: a handler writing far more than the cap is killed at
// the cap (it would otherwise sleep until its timeout), answered with the
// unexpected error, and the log says why.
func TestExecStdoutCap(t *testing.T) {
	h := harmHandlers(t, map[string]string{
		"dx_flood": `head -c 80000000 /dev/zero; sleep 300`,
	})
	c := h.call(h.caller(true), "dx_flood", map[string]any{})
	wantUnexpected(t, c)
	want := fmt.Sprintf("wrote more than %d bytes", 16<<20) // the handler package's limit on stdout
	if !strings.Contains(h.logs.String(), want) {
		t.Fatalf("log lacks %q", want)
	}
}

// TestExecStderr: stderr of any shape is read to the end and bounded in the
// log, and the handler's response still counts.
func TestExecStderr(t *testing.T) {
	h := harmHandlers(t, map[string]string{
		// one 100 KB line: a bufio.Scanner stops for good after it
		"dx_longline": `head -c 100000 /dev/zero | tr '\0' x >&2; echo >&2; echo "after the long line" >&2; ` + okResponse,
		// 20 MB in short lines, the last one a traceback's
		"dx_chatty": `yes 'chatter chatter chatter' | head -c 20000000 >&2; echo "ValueError: the last words" >&2; ` + okResponse,
		// bytes that are not UTF-8, and no final newline
		"dx_binary": `printf 'bad \377\376 bytes\nno newline at the end' >&2; ` + okResponse,
	})
	c := h.caller(true)
	for _, ex := range []string{"dx_longline", "dx_chatty", "dx_binary"} {
		t.Run(ex, func(t *testing.T) {
			before := len(h.logs.String())
			r := h.call(c, ex, map[string]any{})
			if !r.Success {
				t.Fatalf("reply = %+v", r)
			}
			logged := h.logs.String()[before:]
			if len(logged) > 64<<10 {
				t.Errorf("one request put %d bytes into the log", len(logged))
			}
			if !utf8.ValidString(logged) {
				t.Error("the log is not valid UTF-8")
			}
			for _, want := range map[string][]string{
				"dx_longline": {"after the long line", "bytes cut"},
				"dx_chatty":   {"ValueError: the last words", "left out"},
				"dx_binary":   {"bad \ufffd bytes", "no newline at the end"},
			}[ex] {
				if !strings.Contains(logged, want) {
					t.Errorf("log lacks %q:\n%.2000s", want, logged)
				}
			}
		})
	}
}

// TestExecBackgroundChildren: a handler that answers and exits 0 has
// succeeded, whatever it left running; what it left running is killed and
// logged, even a child that left its process group and session.
func TestExecBackgroundChildren(t *testing.T) {
	pids := t.TempDir()
	h := harmHandlers(t, map[string]string{
		// a child holding stdout open
		"dx_holder": background("", pids+"/holder", "") + okResponse,
		// a child in its own session, its output elsewhere
		"dx_setsid": background("setsid", pids+"/setsid", ">/dev/null 2>&1 </dev/null") + okResponse,
	})
	c := h.caller(true)
	for _, ex := range []string{"dx_holder", "dx_setsid"} {
		t.Run(ex, func(t *testing.T) {
			start := time.Now()
			if r := h.call(c, ex, map[string]any{}); !r.Success {
				t.Fatalf("reply = %+v", r)
			}
			if took := time.Since(start); took > 15*time.Second {
				t.Errorf("reply took %v", took)
			}
			pid, err := strconv.Atoi(strings.TrimSpace(readFile(t, filepath.Join(pids, strings.TrimPrefix(ex, "dx_")))))
			if err != nil {
				t.Fatal(err)
			}
			testutil.WaitFor(t, "the leftover process to be gone", 30*time.Second, func() bool {
				return syscall.Kill(pid, 0) == syscall.ESRCH || isZombie(pid)
			})
			if !strings.Contains(h.logs.String(), `"pid":`+strconv.Itoa(pid)) {
				t.Errorf("the killed leftover pid %d is not logged", pid)
			}
		})
	}
}

// background is a shell command that starts sleep in the background
// (through wrapper, with redirections) and waits until it runs, its pid in
// pidFile.
func background(wrapper, pidFile, redirections string) string {
	return fmt.Sprintf(`%s sh -c 'echo $$ > %s.tmp && mv %s.tmp %s && exec sleep 300' %s & until [ -e %s ]; do sleep 0.01; done; `,
		wrapper, pidFile, pidFile, pidFile, redirections, pidFile)
}

// TestExecEnvironment: the handler gets PATH, HOME, the locale, TZ, the
// RPC_* variables and what the operator lists in
// RABBITMQ_CONSUMER_HANDLER_ENV; never the consumer's credentials or the
// rest of its environment.
// setHandlerEnv gives the consumer an environment with three secrets
// (values ending in "secret": two settings of its own, one unrelated),
// LC_TIME and TZ, and HANDLER_SETTING=passed, which handler.EnvVariable
// names beside a setting of the consumer's.
func setHandlerEnv(t *testing.T) {
	t.Setenv("RABBITMQ_CONSUMER_SERVER_PASSWORD", "broker-secret")
	t.Setenv("RABBITMQ_CONSUMER_LOG_SERVER_API_TOKEN", "log-secret")
	t.Setenv("UNRELATED_SECRET", "unrelated-secret")
	t.Setenv("LC_TIME", "C.UTF-8")
	t.Setenv("TZ", "Europe/Amsterdam")
	t.Setenv("HANDLER_SETTING", "passed")
	t.Setenv(handler.EnvVariable, "HANDLER_SETTING RABBITMQ_CONSUMER_SERVER_PASSWORD")
}

func TestExecEnvironment(t *testing.T) {
	setHandlerEnv(t)
	out := filepath.Join(t.TempDir(), "env")
	h := harmHandlers(t, map[string]string{"dx_env": `env > ` + out + `; ` + okResponse})
	if r := h.call(h.caller(true), "dx_env", map[string]any{}); !r.Success {
		t.Fatalf("reply = %+v", r)
	}
	env := readFile(t, out)
	for _, secret := range []string{"broker-secret", "log-secret", "unrelated-secret"} {
		if strings.Contains(env, secret) {
			t.Errorf("the handler saw %q:\n%s", secret, env)
		}
	}
	for _, want := range []string{"PATH=", "LC_TIME=C.UTF-8", "TZ=Europe/Amsterdam", "HANDLER_SETTING=passed", "RPC_EXCHANGE=dx_env", "RPC_REDELIVERED=0", "RPC_VIRTUAL_HOST=" + h.vh.Name} {
		if !strings.Contains(env, want) {
			t.Errorf("the handler's environment lacks %s:\n%s", want, env)
		}
	}
	if !strings.Contains(h.logs.String(), "RABBITMQ_CONSUMER_SERVER_PASSWORD") {
		t.Error("the refusal to pass a consumer setting is not logged")
	}
}
