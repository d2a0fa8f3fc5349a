package main

import (
	"bytes"
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

// brokerPID finds the RabbitMQ server process (the Erlang VM, beam.smp,
// started with "-s rabbit boot"; rabbitmqctl runs an Erlang VM too); 0 when
// there is none.
func brokerPID() int {
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(filepath.Join("/proc", d.Name(), "comm"))
		if err == nil && strings.TrimSpace(string(comm)) == "beam.smp" {
			if cmd, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline")); err == nil && bytes.Contains(cmd, []byte("rabbit\x00boot")) {
				return pid
			}
		}
	}
	return 0
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
