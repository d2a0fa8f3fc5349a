package handler

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// reexecScript execs itself $1 times, then sleeps: a process that spends
// its life in execve, where /proc/PID/environ reads empty for a moment.
const reexecScript = `#!/bin/sh
if [ "$1" -gt 0 ]; then exec "$0" $(($1 - 1)); fi
exec sleep 300
`

// startReexec starts reexecScript for execs execs with marker in its
// environment, in a session of its own (out of reach of any process
// group kill), and kills it at the end of the test.
func startReexec(t *testing.T, execs int, marker string) *exec.Cmd {
	t.Helper()
	script := filepath.Join(t.TempDir(), "reexec")
	mustWrite(t, script, reexecScript, 0o755)
	cmd := exec.Command(script, strconv.Itoa(execs))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), runMarkerVariable + "=" + marker}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", script, err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

// TestFindMarkedDuringExec: a marked process is found by every scan, even
// one that reads it in the middle of an execve (between the replacement of
// its memory and the setting up of its new environment, environ reads
// empty).
func TestFindMarkedDuringExec(t *testing.T) {
	marker := newRunMarker("flake-test")
	pid := startReexec(t, 300, marker).Process.Pid
	scans, misses := 0, 0
	for {
		comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
		if err != nil || strings.TrimSpace(string(comm)) == "sleep" {
			break // done exec'ing
		}
		scans++
		found, unsettled := findMarked(pid-1, func(m string) bool { return m == marker })
		if len(unsettled) > 0 {
			t.Fatalf("scan %d: pids %v still unsettled after %v", scans, unsettled, settleLimit)
		}
		if !hasPid(found, pid) {
			misses++
		}
	}
	if misses > 0 {
		t.Fatalf("%d of %d scans missed the marked process while it exec'd", misses, scans)
	}
}

func hasPid(ps []markedProc, pid int) bool {
	for _, p := range ps {
		if p.pid == pid {
			return true
		}
	}
	return false
}

// TestKillLeftoversDuringExec: a leftover that left the handler's process
// group and session is killed and logged, whatever point of an execve the
// sweep catches it at.
func TestKillLeftoversDuringExec(t *testing.T) {
	for i := 0; i < 20; i++ {
		handler := exec.Command("true")
		handler.SysProcAttr = handlerSysProcAttr()
		if err := handler.Run(); err != nil {
			t.Fatalf("run true: %v", err)
		}
		marker := newRunMarker("flake-test")
		leftover := startReexec(t, 100000, marker)
		var logs bytes.Buffer
		killLeftovers(handler.Process.Pid, marker, zerolog.New(&logs))
		waited := make(chan error, 1)
		go func() { waited <- leftover.Wait() }()
		select {
		case err := <-waited:
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("sweep %d: the leftover ended with %v, want SIGKILL", i, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("sweep %d: the leftover pid %d is still there 10 s after the sweep; log: %s", i, leftover.Process.Pid, logs.String())
		}
		if want := `"pid":` + strconv.Itoa(leftover.Process.Pid); !strings.Contains(logs.String(), want) {
			t.Fatalf("sweep %d: the log lacks %s: %s", i, want, logs.String())
		}
	}
}

// TestEmptyEnvironState: an environ read empty is told apart, from
// /proc/PID/stat, as no environment or as an execve under way.
func TestEmptyEnvironState(t *testing.T) {
	// a real stat line, with state, flags, endcode, env_start and env_end
	// to fill in
	stat := func(state string, flags int, endCode, envStart, envEnd string) []byte {
		return []byte("25784 (a (b) c) " + state + " 25778 25778 12453 0 -1 " + strconv.Itoa(flags) +
			" 101 0 0 0 0 0 0 0 20 0 1 0 296397 3133440 410 18446744073709551615 94261127503872 " + endCode +
			" 140730906823840 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 94261127539760 94261127541376 94262138499072" +
			" 140730906831555 140730906831575 " + envStart + " " + envEnd + " 0\n")
	}
	for _, tc := range []struct {
		name string
		stat []byte
		want environState
	}{
		{"mid-execve: new memory, no environment bounds yet", stat("R", 4194304, "0", "0", "0"), environUnsettled},
		{"mid-execve: environment bounds being set", stat("R", 4194304, "0", "140730906831575", "140730906831575"), environUnsettled},
		{"read across an execve: all set since", stat("R", 4194304, "94261127523753", "140730906831575", "140730906832875"), environUnsettled},
		{"exiting, its memory released", stat("D", 4194368, "0", "0", "0"), environUnsettled},
		{"an empty environment", stat("S", 4194304, "94261127523753", "140730906832875", "140730906832875"), environNone},
		{"not ours to read: the fields hidden", stat("S", 4194304, "1", "0", "0"), environNone},
		{"a zombie", stat("Z", 4194380, "0", "0", "0"), environNone},
		{"a dead task", stat("X", 4194380, "0", "0", "0"), environNone},
		{"a kernel thread", stat("S", 2129984, "0", "0", "0"), environNone},
		{"no closing parenthesis", []byte("25784 (cat R 1 2"), environNone},
		{"an old kernel without the fields", []byte("25784 (cat) R 1 2 3"), environNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := emptyEnvironState(tc.stat); got != tc.want {
				t.Fatalf("emptyEnvironState = %d, want %d", got, tc.want)
			}
		})
	}
}
