package testutil

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ProcStatus is the value of a field of /proc/PID/status given in kB
// (VmHWM, VmRSS, ...).
func ProcStatus(pid int, field string) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read the status of process %d: %w", pid, err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				return 0, fmt.Errorf("%s of process %d: %w", field, pid, err)
			}
			return kb, nil
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// CPUTicks is the CPU time (user and system) a process used so far, in
// clock ticks (100 a second on Linux).
func CPUTicks(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read the stat of process %d: %w", pid, err)
	}
	// The fields after the command name, which ends at the last ')':
	// utime and stime are the 12th and 13th.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields after the command name", pid, len(f))
	}
	u, err := strconv.Atoi(f[11])
	if err != nil {
		return 0, fmt.Errorf("utime of process %d: %w", pid, err)
	}
	s, err := strconv.Atoi(f[12])
	if err != nil {
		return 0, fmt.Errorf("stime of process %d: %w", pid, err)
	}
	return u + s, nil
}
