package consumer

import "os"

// maxHandlerOutput bounds an executable handler's stdout (its response), as
// --max-request-bytes bounds a request by default. A handler that writes
// more is killed at once: at most this much of its output is ever held, so
// ten such handlers cost the consumer a bounded amount of memory.
const maxHandlerOutput = 16 << 20

// readChunk is how much one read from a handler's pipe takes.
const readChunk = 32 << 10

// capturedOutput reads a handler's stdout pipe to its end, keeping at most
// max bytes. It reads the pipe itself, in fixed chunks: nothing between the
// pipe and the buffer can grow past the cap.
type capturedOutput struct {
	buf      []byte
	max      int
	overflow chan struct{} // closed when the output passed max
	done     chan struct{} // closed when the pipe reached its end or was closed
}

func newCapturedOutput(max int) *capturedOutput {
	return &capturedOutput{max: max, overflow: make(chan struct{}), done: make(chan struct{})}
}

// readFrom reads r until its end; past max it keeps nothing more, closes
// overflow, and reads on only to let the writer end.
func (o *capturedOutput) readFrom(r *os.File) {
	defer close(o.done)
	chunk := make([]byte, readChunk)
	over := false
	for {
		n, err := r.Read(chunk)
		if n > 0 && !over {
			if len(o.buf)+n > o.max {
				over = true
				close(o.overflow)
				o.buf = nil
			} else {
				o.buf = appendCapped(o.buf, chunk[:n], o.max)
			}
		}
		if err != nil {
			return // io.EOF, or the pipe was closed under us
		}
	}
}

// appendCapped appends p to b, growing b's capacity by doubling but never
// beyond max.
func appendCapped(b, p []byte, max int) []byte {
	if len(b)+len(p) > cap(b) {
		c := 2 * cap(b)
		if c < len(b)+len(p) {
			c = len(b) + len(p)
		}
		if c < 4096 {
			c = 4096
		}
		if c > max {
			c = max
		}
		nb := make([]byte, len(b), c)
		copy(nb, b)
		b = nb
	}
	return append(b, p...)
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
