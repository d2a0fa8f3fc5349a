package handler

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
)

// environState says what reading a process's /proc/PID/environ told.
type environState int

const (
	// environRead: the environment was read whole.
	environRead environState = iota
	// environNone: the process carries no environment to read: it is gone,
	// a zombie, a kernel thread, not ours to read, or its environment is
	// empty.
	environNone
	// environUnsettled: the process is in the middle of an execve, or was
	// read across one, so its environment read empty though it has one;
	// reading it again a moment later tells.
	environUnsettled
)

// maxEnvironBytes bounds the buffer for one process's environment: the
// kernel lets argv and the environment together take a quarter of the
// stack limit, 2 MiB with the usual 8 MiB.
const maxEnvironBytes = 8 << 20

// readEnviron reads the environment of process pid in one pread(2) (the
// first one ReadAt makes, when the buffer holds it all): the kernel copies
// it under one hold on the process's memory, so that an execve of the
// process cannot cut it short halfway, as it can between two reads.
func readEnviron(pid int) ([]byte, environState) {
	name := "/proc/" + strconv.Itoa(pid)
	f, err := os.Open(name + "/environ")
	if err != nil {
		return nil, environNone // gone, or not ours to read
	}
	defer func() { _ = f.Close() }()
	for size := 64 << 10; ; size *= 2 {
		buf := make([]byte, size)
		n, err := f.ReadAt(buf, 0)
		switch {
		case n == size && size < maxEnvironBytes:
			continue // maybe more: read it all again, in one read
		case n > 0:
			return buf[:n], environRead
		case err != nil && !errors.Is(err, io.EOF):
			return nil, environNone // gone while being read
		}
		stat, err := os.ReadFile(name + "/stat")
		if err != nil {
			return nil, environNone
		}
		return nil, emptyEnvironState(stat)
	}
}

// pfKthread is the PF_KTHREAD bit of the flags in /proc/PID/stat.
const pfKthread = 0x00200000

// emptyEnvironState tells, from the /proc/PID/stat of a process whose
// environ read empty, whether it has no environment or is between two
// programs. An execve replaces the process's memory, loads the new
// program, sets the bounds of the new environment (env_start and env_end,
// fields 50 and 51: both 0 until then, then equal for a moment) and sets
// the end of the program's code (endcode, field 27) last: until endcode is
// set, environ may read empty. A read that began before the replacement
// reads empty too, whatever the process is by then. A process whose
// environment is really empty has endcode set and env_start == env_end.
func emptyEnvironState(stat []byte) environState {
	i := bytes.LastIndexByte(stat, ')') // the command name may hold spaces and parentheses
	if i < 0 {
		return environNone
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 49 {
		return environNone // a kernel without the fields: nothing to go on
	}
	// f[0] is field 3 (state), f[6] field 9 (flags), f[24] field 27
	// (endcode), f[47] and f[48] fields 50 and 51 (env_start, env_end).
	switch f[0] {
	case "Z", "X", "x":
		return environNone
	}
	if flags, _ := strconv.ParseUint(f[6], 10, 64); flags&pfKthread != 0 {
		return environNone
	}
	if f[24] != "0" && f[47] == f[48] {
		return environNone
	}
	return environUnsettled
}
