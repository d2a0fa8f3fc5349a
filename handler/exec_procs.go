package handler

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// runMarkerVariable marks every process of an executable handler's run:
// the handler and whatever it starts inherit it, even a child that leaves
// the handler's process group and session. Its value is
// "<consumer pid>:<consumer start time>:<run>:<virtual host>", so the
// processes of one run, and those of a consumer that is gone, can be told
// from every other process on the host.
const runMarkerVariable = "RABBITMQ_CONSUMER_RUN"

var (
	ownerOnce sync.Once
	owner     string        // "<pid>:<start time>" of this process
	runSeq    atomic.Uint64 // numbers the runs of this process
)

// newRunMarker returns the marker of a new run in vhost.
func newRunMarker(vhost string) string {
	ownerOnce.Do(func() {
		pid := os.Getpid()
		owner = strconv.Itoa(pid) + ":" + strconv.FormatUint(startTime(pid), 10)
	})
	return owner + ":" + strconv.FormatUint(runSeq.Add(1), 10) + ":" + vhost
}

// startTime is a process's start time (clock ticks since boot, field 22 of
// /proc/PID/stat), which tells it from a later process with the same pid;
// 0 if the process does not exist.
func startTime(pid int) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')') // the command name may hold spaces and parentheses
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0
	}
	t, _ := strconv.ParseUint(f[19], 10, 64)
	return t
}

// spawns runs every handler start on one goroutine locked to its OS thread.
// A handler is started with Pdeathsig, which fires when the *thread* that
// started it exits; Go ends a thread when a goroutine locked to it returns,
// and this goroutine never returns, so the signal fires only when the
// consumer dies. (Forks are serialised by syscall.ForkLock anyway.)
var spawns = sync.OnceValue(func() chan func() {
	ch := make(chan func())
	go spawner(ch)
	return ch
})

// spawner runs the starts sent on ch from its own OS thread, for ever.
func spawner(ch chan func()) {
	runtime.LockOSThread()
	for f := range ch {
		f()
	}
}

// startPinned starts cmd from the spawning thread.
func startPinned(cmd *exec.Cmd) error {
	errc := make(chan error, 1)
	spawns() <- func() { errc <- cmd.Start() }
	return <-errc
}

// markedProc is a process carrying a run marker.
type markedProc struct {
	pid     int
	marker  string
	command string
}

// settleLimit bounds how long a scan waits for processes in the middle of
// an execve to have their environment again (a few microseconds, or more
// when the host is busy).
const settleLimit = 5 * time.Second

// findMarked lists the processes in window w whose run marker satisfies
// match. A process whose environment cannot be told yet (it is in the middle of
// an execve) is read again until it can, for up to settleLimit; those still
// unsettled then are returned apart.
func findMarked(w pidWindow, match func(marker string) bool) (found []markedProc, unsettled []int) {
	found, unsettled = readMarked(w.candidates(), match)
	deadline := time.Now().Add(settleLimit)
	for wait := 100 * time.Microsecond; len(unsettled) > 0 && time.Now().Before(deadline); wait = min(2*wait, 50*time.Millisecond) {
		time.Sleep(wait) // polling /proc: the kernel offers no event for an execve's end
		var more []markedProc
		more, unsettled = readMarked(unsettled, match)
		found = append(found, more...)
	}
	return found, unsettled
}

// readMarked reads the markers of pids once: the processes whose marker
// satisfies match, and the pids whose environment cannot be told yet.
func readMarked(pids []int, match func(marker string) bool) (found []markedProc, unsettled []int) {
	for _, pid := range pids {
		env, state := readEnviron(pid)
		if state == environUnsettled && isProcess(pid) {
			unsettled = append(unsettled, pid)
			continue
		}
		m, ok := markerIn(env)
		if !ok || !match(m) || !isProcess(pid) {
			continue
		}
		cmd, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		found = append(found, markedProc{pid: pid, marker: m, command: strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " "))})
	}
	return found, unsettled
}

// isProcess tells a process from a thread of one: /proc/TID is there for
// threads too, though not listed.
func isProcess(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return false
	}
	_, rest, ok := bytes.Cut(b, []byte("\nTgid:"))
	if !ok {
		return false
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	tgid, err := strconv.Atoi(strings.TrimSpace(string(line)))
	return err == nil && tgid == pid
}

// markerIn finds the run marker in a /proc/PID/environ.
func markerIn(environ []byte) (string, bool) {
	key := []byte(runMarkerVariable + "=")
	for len(environ) > 0 {
		kv := environ
		if i := bytes.IndexByte(environ, 0); i >= 0 {
			kv, environ = environ[:i], environ[i+1:]
		} else {
			environ = nil
		}
		if bytes.HasPrefix(kv, key) {
			return string(kv[len(key):]), true
		}
	}
	return "", false
}

// maxKillRounds bounds the scans of one sweep: a process killed may have
// forked a moment before, so each scan after a kill looks for new ones.
const maxKillRounds = 10

// killMarked kills every process in window w whose run marker satisfies
// match, scanning again after each kill until a scan finds
// no new one; before each scan it calls before with the round's number.
// It returns the processes killed, and the pids whose environment could
// not be told by the last scan.
func killMarked(w pidWindow, match func(marker string) bool, before func(round int)) (killed []markedProc, unsettled []int) {
	seen := map[int]bool{}
	for round := 0; round < maxKillRounds; round++ {
		var found []markedProc
		found, unsettled = findMarked(w, match)
		before(round)
		fresh := 0
		for _, p := range found {
			if seen[p.pid] {
				continue
			}
			seen[p.pid] = true
			fresh++
			_ = syscall.Kill(p.pid, syscall.SIGKILL)
			killed = append(killed, p)
		}
		if fresh == 0 {
			break
		}
	}
	return killed, unsettled
}

// killLeftovers kills what a run left running: its process group and every
// process carrying its marker (children that left the group). Each killed
// process is logged. w is the window of the run's handler, whose pid is
// the run's process group.
func killLeftovers(w pidWindow, marker string, log zerolog.Logger) {
	handlerPid := w.first
	killedGroup := false
	killed, unsettled := killMarked(w, func(m string) bool { return m == marker }, func(int) {
		killedGroup = syscall.Kill(-handlerPid, syscall.SIGKILL) == nil || killedGroup
	})
	for _, p := range killed {
		log.Warn().Int("pid", p.pid).Str("command", p.command).Msg("killed a process the handler left running")
	}
	if killedGroup && len(killed) == 0 {
		log.Warn().Int("pgid", handlerPid).Msg("killed processes the handler left running in its process group")
	}
	logUnsettled(unsettled, log)
}

// logUnsettled logs the processes a scan could not tell (they stayed in the
// middle of an execve for settleLimit): any may be a leftover, left running.
func logUnsettled(pids []int, log zerolog.Logger) {
	if len(pids) > 0 {
		log.Error().Ints("pids", pids).Dur("waited", settleLimit).
			Msg("could not read the environment of processes in the middle of an execve; if any is a handler's, it is left running")
	}
}

// KillOrphaned kills the processes left by executable handlers of
// consumers of vhost that are gone (a crash, SIGKILL, an OOM kill), and
// waits until they are gone, so that a request redelivered after the crash
// never runs while its first run still does. The handlers of live
// consumers, this one or another of the same virtual host, are left alone.
// It returns how many processes it killed.
func KillOrphaned(vhost string, log zerolog.Logger) int {
	orphans, unsettled := killMarked(allPids, func(m string) bool {
		owner, ok := orphanOwner(m, vhost)
		return ok && !alive(owner)
	}, func(int) {})
	for _, p := range orphans {
		log.Warn().Int("pid", p.pid).Str("command", p.command).Str("run", p.marker).
			Msg("killed a handler process left by a consumer that is gone")
	}
	logUnsettled(unsettled, log)
	deadline := time.Now().Add(10 * time.Second)
	for _, p := range orphans {
		for !gone(p.pid) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if !gone(p.pid) {
			log.Error().Int("pid", p.pid).Msg("a killed handler process left by a consumer that is gone is still there")
		}
	}
	return len(orphans)
}

// orphanOwner parses a run marker of vhost into its owner's pid and start
// time.
func orphanOwner(marker, vhost string) (runOwner, bool) {
	f := strings.SplitN(marker, ":", 4)
	if len(f) != 4 || f[3] != vhost {
		return runOwner{}, false
	}
	pid, err1 := strconv.Atoi(f[0])
	start, err2 := strconv.ParseUint(f[1], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return runOwner{}, false
	}
	return runOwner{pid: pid, start: start}, true
}

// runOwner is the consumer process that started a run.
type runOwner struct {
	pid   int
	start uint64
}

func alive(o runOwner) bool { return startTime(o.pid) == o.start }

// gone reports whether pid no longer runs (it may be a zombie).
func gone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && (b[i+2] == 'Z' || b[i+2] == 'X')
}
