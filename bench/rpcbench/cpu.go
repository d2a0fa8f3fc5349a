package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// clockTicks is the unit of the CPU times in /proc/PID/stat (USER_HZ,
// 100 on Linux).
const clockTicks = 100

// procStat is what the benchmark reads of /proc/PID/stat, CPU times in
// clock ticks.
type procStat struct {
	ppid int
	// own is the process's user + system time; children that of its
	// children it waited for (cutime + cstime).
	own, children int64
}

// readStat reads a process's /proc/PID/stat.
func readStat(pid int) (procStat, bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, false
	}
	// The command name, in parentheses, may hold spaces: fields start
	// after its closing parenthesis.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 15 {
		return procStat{}, false
	}
	var v [5]int64
	for k, idx := range []int{1, 11, 12, 13, 14} { // ppid, utime, stime, cutime, cstime
		n, err := strconv.ParseInt(f[idx], 10, 64)
		if err != nil {
			return procStat{}, false
		}
		v[k] = n
	}
	return procStat{ppid: int(v[0]), own: v[1] + v[2], children: v[3] + v[4]}, true
}

// cpuTicks reads the user + system CPU time of a process from /proc, in
// clock ticks; -1 when it cannot be read.
func cpuTicks(pid int) int64 {
	s, ok := readStat(pid)
	if !ok {
		return -1
	}
	return s.own
}

// treeTicks is the CPU time of a server with its handler processes: its
// own, its waited-for children's (one-shot handlers that ended) and its
// live descendants' (persistent handlers), in clock ticks; -1 when the
// server's cannot be read.
func treeTicks(pid int) int64 {
	root, ok := readStat(pid)
	if !ok {
		return -1
	}
	kids := map[int][]int{}
	stats := map[int]procStat{}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		p, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		if s, ok := readStat(p); ok {
			stats[p] = s
			kids[s.ppid] = append(kids[s.ppid], p)
		}
	}
	total := root.own + root.children
	queue := append([]int(nil), kids[pid]...)
	for len(queue) > 0 {
		p := queue[0]
		queue = append(queue[1:], kids[p]...)
		total += stats[p].own + stats[p].children
	}
	return total
}

// brokerPID finds the RabbitMQ server the benchmark talks to: the Erlang VM
// (beam.smp) holding the socket that listens on port 5672; other nodes (a
// test's own node, rabbitmqctl's VM) may run beside it. 0 when there is
// none.
func brokerPID() int {
	inodes := listeners(amqpPort)
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(filepath.Join("/proc", d.Name(), "comm"))
		if err != nil || strings.TrimSpace(string(comm)) != "beam.smp" {
			continue
		}
		fds, _ := os.ReadDir(filepath.Join("/proc", d.Name(), "fd"))
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join("/proc", d.Name(), "fd", fd.Name()))
			if err == nil && inodes[link] {
				return pid
			}
		}
	}
	return 0
}

// amqpPort is the broker's port.
const amqpPort = 5672

// listeners are the sockets listening on a TCP port, as /proc/PID/fd
// links name them ("socket:[inode]").
func listeners(port int) map[string]bool {
	inodes := map[string]bool{}
	local := fmt.Sprintf(":%04X", port)
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			// local_address, ..., st (0A: listening), ..., inode
			if len(f) > 9 && strings.HasSuffix(f[1], local) && f[3] == "0A" {
				inodes["socket:["+f[9]+"]"] = true
			}
		}
	}
	return inodes
}

// cpuSample is the CPU time of the processes a cell involves: the server
// with its handler processes (server), the server's own process alone
// (serverOwn), the broker and the load generator.
type cpuSample struct{ server, serverOwn, broker, load int64 }

func sampleCPU(server, broker int) cpuSample {
	return cpuSample{server: treeTicks(server), serverOwn: cpuTicks(server), broker: cpuTicks(broker), load: cpuTicks(os.Getpid())}
}

// cpuPerCall is the CPU time, in microseconds, one call cost each process
// between two samples; -1 where a sample is missing. handlers is the part
// of server spent in the server's handler processes.
type cpuPerCall struct{ server, handlers, broker, load float64 }

// perCall is the CPU time one call cost between two samples.
func perCall(from, to cpuSample, calls int) cpuPerCall {
	f := func(a, b int64) float64 {
		if a < 0 || b < 0 || calls == 0 {
			return -1
		}
		return float64(b-a) * 1e6 / clockTicks / float64(calls)
	}
	c := cpuPerCall{server: f(from.server, to.server), broker: f(from.broker, to.broker), load: f(from.load, to.load)}
	c.handlers = -1
	if own := f(from.serverOwn, to.serverOwn); own >= 0 && c.server >= 0 {
		c.handlers = c.server - own
	}
	return c
}
