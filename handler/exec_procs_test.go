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
	w := pidsBeforeStart()
	pid := startReexec(t, 300, marker).Process.Pid
	w = w.startedAs(pid)
	scans, misses := 0, 0
	for {
		comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
		if err != nil || strings.TrimSpace(string(comm)) == "sleep" {
			break // done exec'ing
		}
		scans++
		found, unsettled := findMarked(w, func(m string) bool { return m == marker })
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
		w := pidsBeforeStart()
		handler := exec.Command("true")
		handler.SysProcAttr = handlerSysProcAttr()
		if err := handler.Run(); err != nil {
			t.Fatalf("run true: %v", err)
		}
		marker := newRunMarker("flake-test")
		leftover := startReexec(t, 100000, marker)
		var logs bytes.Buffer
		killLeftovers(w.startedAs(handler.Process.Pid), marker, zerolog.New(&logs))
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

// TestPidWindowWrap: the pids after a handler's are enough to look at
// only while the pids allocated since cannot have reached pid_max.
func TestPidWindowWrap(t *testing.T) {
	w := pidWindow{first: 30000, forks: 1000, inUse: 500}
	for _, tc := range []struct {
		name     string
		w        pidWindow
		forksNow uint64
		pidMax   int
		want     bool
	}{
		{"a few forks since", w, 1100, 32768, false},
		{"just short of pid_max", w, 1000 + 2267, 32768, false},
		{"enough forks to reach pid_max", w, 1000 + 2268, 32768, true},
		{"a large pid_max", w, 1_000_000, 4194304, false},
		{"forks not known then", pidWindow{first: 300, inUse: 500}, 1100, 32768, true},
		{"tasks not known then", pidWindow{first: 300, forks: 1000}, 1100, 32768, true},
		{"forks not known now", w, 0, 32768, true},
		{"pid_max not known", w, 1100, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.w.mayHaveWrapped(tc.forksNow, tc.pidMax); got != tc.want {
				t.Fatalf("mayHaveWrapped(%d, %d) = %v, want %v", tc.forksNow, tc.pidMax, got, tc.want)
			}
		})
	}
}

// TestProcCounts: the fork count and the task count are read from
// /proc/stat and /proc/loadavg as the kernel writes them.
func TestProcCounts(t *testing.T) {
	stat := "cpu  10 0 5 100 0 0 0 0 0 0\nintr 12 0 1\nctxt 99\nbtime 1764540000\nprocesses 453492\nprocs_running 3\n"
	if got := parseForkCount([]byte(stat)); got != 453492 {
		t.Errorf("parseForkCount = %d, want 453492", got)
	}
	if got := parseForkCount([]byte("cpu 1 2 3\n")); got != 0 {
		t.Errorf("parseForkCount without the line = %d, want 0", got)
	}
	if got := parseTaskCount([]byte("13.07 11.52 11.65 12/569 314\n")); got != 569 {
		t.Errorf("parseTaskCount = %d, want 569", got)
	}
	if got := parseTaskCount([]byte("13.07 11.52\n")); got != 0 {
		t.Errorf("parseTaskCount of a short line = %d, want 0", got)
	}
	if forkCount() == 0 || taskCount() == 0 {
		t.Fatalf("forkCount = %d, taskCount = %d on this host; want both > 0", forkCount(), taskCount())
	}
}
