package handler

import (
	"bytes"
	"os"
)

// maxHandlerOutput bounds an executable handler's stdout (its response), as
// --max-request-bytes bounds a request by default. A handler that writes
// more is killed at once: at most this much of its output is ever held, so
// ten such handlers cost the consumer a bounded amount of memory.
const maxHandlerOutput = 16 << 20

// readChunk is how much one read from a handler's pipe takes.
const readChunk = 32 << 10

// capturedOutput reads a handler's stdout pipe to its end, keeping at most
// max bytes. It reads the pipe itself into blocks it allocates: nothing
// between the pipe and the kept bytes can grow past the cap, and nothing is
// copied while reading.
type capturedOutput struct {
	parts    [][]byte
	size     int
	max      int
	overflow chan struct{} // closed when the output passed max
	done     chan struct{} // closed when the pipe reached its end or was closed
}

func newCapturedOutput(max int) *capturedOutput {
	return &capturedOutput{max: max, overflow: make(chan struct{}), done: make(chan struct{})}
}

// readFrom reads r until its end; past max it keeps nothing, closes
// overflow, and reads on only to let the writer end.
func (o *capturedOutput) readFrom(r *os.File) {
	defer close(o.done)
	var block []byte
	for {
		if len(block) < readChunk/8 {
			block = make([]byte, readChunk)
		}
		n, err := r.Read(block)
		switch {
		case n == 0:
		case o.parts == nil && o.size > 0: // past the cap: discard
		case o.size+n > o.max:
			o.parts, o.size = nil, o.max+1
			close(o.overflow)
		default:
			o.parts = append(o.parts, block[:n:n])
			o.size += n
			block = block[n:]
		}
		if err != nil {
			return // io.EOF, or the pipe was closed under us
		}
	}
}

// bytes returns the output; call after done.
func (o *capturedOutput) bytes() []byte {
	if len(o.parts) == 1 {
		return o.parts[0]
	}
	return bytes.Join(o.parts, nil)
}

// overflowed reports whether the output passed its limit; call after done.
func (o *capturedOutput) overflowed() bool {
	select {
	case <-o.overflow:
		return true
	default:
		return false
	}
}
