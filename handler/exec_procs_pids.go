package handler

import (
	"bytes"
	"os"
	"strconv"
	"strings"
)

// pidWindow is where the processes of one run can be found: at the pid of
// the run's handler or after it, as long as pid numbers cannot have
// wrapped around since (on a busy host with the usual pid_max of 32768
// they do every few minutes); anywhere otherwise. Looking for what a run
// left behind then reads the few pids allocated since its start, not all
// of /proc.
type pidWindow struct {
	first int    // the handler's pid; 0: any pid
	forks uint64 // forks since boot just before the handler started
	inUse int    // tasks on the host then: at most as many pids in use
}

// allPids is the window of every process.
var allPids = pidWindow{}

// pidsBeforeStart takes what the window of a handler about to start needs;
// startedAs completes it with the handler's pid.
func pidsBeforeStart() pidWindow {
	return pidWindow{forks: forkCount(), inUse: taskCount()}
}

// startedAs is w for the handler pid.
func (w pidWindow) startedAs(pid int) pidWindow {
	w.first = pid
	return w
}

// mayHaveWrapped tells whether the pids allocated since w was taken can
// have wrapped around past pidMax, forksNow forks since boot: from the
// handler's pid on, each fork since takes the next free pid, skipping
// those in use (at most the tasks there were, plus those forked since).
func (w pidWindow) mayHaveWrapped(forksNow uint64, pidMax int) bool {
	if w.forks == 0 || w.inUse == 0 || forksNow < w.forks || pidMax <= 0 {
		return true // not known
	}
	return uint64(w.first)+(forksNow-w.forks)+uint64(w.inUse) >= uint64(pidMax)
}

// maxPidRange is how many pids after a run's handler are tried one by one
// before listing /proc is cheaper.
const maxPidRange = 512

// candidates lists the pids in w, without this process's: a thread's id
// may be among them (isProcess tells).
func (w pidWindow) candidates() []int {
	self := os.Getpid()
	after := 0
	if w.first > 0 && !w.mayHaveWrapped(forkCount(), readInt("/proc/sys/kernel/pid_max")) {
		after = w.first - 1
		if last := readInt("/proc/sys/kernel/ns_last_pid"); last >= after && last-after <= maxPidRange {
			pids := make([]int, 0, last-after)
			for pid := after + 1; pid <= last; pid++ {
				if pid != self {
					pids = append(pids, pid)
				}
			}
			return pids
		}
	}
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(-1)
	_ = d.Close()
	var pids []int
	for _, name := range names {
		if pid, err := strconv.Atoi(name); err == nil && pid > after && pid != self {
			pids = append(pids, pid)
		}
	}
	return pids
}

// readInt reads a file holding one number; 0 if it cannot.
func readInt(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

// forkCount is the number of forks since boot (the "processes" line of
// /proc/stat); 0 if it cannot be read.
func forkCount() uint64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	return parseForkCount(b)
}

// parseForkCount finds the "processes" line of a /proc/stat.
func parseForkCount(stat []byte) uint64 {
	for _, line := range bytes.Split(stat, []byte("\n")) {
		if rest, ok := bytes.CutPrefix(line, []byte("processes ")); ok {
			n, _ := strconv.ParseUint(string(bytes.TrimSpace(rest)), 10, 64)
			return n
		}
	}
	return 0
}

// taskCount is the number of tasks (processes and threads) on the host,
// the "running/total" field of /proc/loadavg; 0 if it cannot be read.
func taskCount() int {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	return parseTaskCount(b)
}

// parseTaskCount finds the total of tasks in a /proc/loadavg.
func parseTaskCount(loadavg []byte) int {
	f := strings.Fields(string(loadavg))
	if len(f) < 4 {
		return 0
	}
	_, total, _ := strings.Cut(f[3], "/")
	n, _ := strconv.Atoi(total)
	return n
}
