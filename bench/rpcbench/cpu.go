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

// cpuTicks reads the user + system CPU time of a process from /proc, in
// clock ticks; -1 when it cannot be read.
func cpuTicks(pid int) int64 {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return -1
	}
	// The command name, in parentheses, may hold spaces: fields start
	// after its closing parenthesis.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return -1
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return utime + stime
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

// cpuSample is the CPU time of the processes a cell involves.
type cpuSample struct{ server, broker, load int64 }

func sampleCPU(server, broker int) cpuSample {
	return cpuSample{server: cpuTicks(server), broker: cpuTicks(broker), load: cpuTicks(os.Getpid())}
}

// perCall is the CPU time, in microseconds, one call cost each process
// between two samples; -1 where a sample is missing.
func perCall(from, to cpuSample, calls int) (server, broker, load float64) {
	f := func(a, b int64) float64 {
		if a < 0 || b < 0 || calls == 0 {
			return -1
		}
		return float64(b-a) * 1e6 / clockTicks / float64(calls)
	}
	return f(from.server, to.server), f(from.broker, to.broker), f(from.load, to.load)
}
