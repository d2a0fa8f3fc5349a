package runner

import (
	"io"
	"sync"
	"time"
)

// batchWriter gathers log lines in memory and writes them in batches: every
// interval, when the batch is large, and at Close. A request's log lines
// then cost no system call on its path; a crash loses at most the last
// interval of log.
type batchWriter struct {
	w        io.Writer
	mu       sync.Mutex
	buf      []byte
	stop     chan struct{}
	done     chan struct{}
	maxBatch int
}

func newBatchWriter(w io.Writer, interval time.Duration) *batchWriter {
	b := &batchWriter{w: w, stop: make(chan struct{}), done: make(chan struct{}), maxBatch: 256 << 10}
	go b.loop(interval)
	return b
}

func (b *batchWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	b.buf = append(b.buf, p...)
	full := len(b.buf) >= b.maxBatch
	b.mu.Unlock()
	if full {
		b.flush()
	}
	return len(p), nil
}

func (b *batchWriter) flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf) > 0 {
		_, _ = b.w.Write(b.buf)
		if cap(b.buf) > b.maxBatch*4 {
			b.buf = nil
		} else {
			b.buf = b.buf[:0]
		}
	}
}

func (b *batchWriter) loop(interval time.Duration) {
	defer close(b.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			b.flush()
			return
		case <-t.C:
			b.flush()
		}
	}
}

// Close writes what is left and stops the flushing.
func (b *batchWriter) Close() error {
	close(b.stop)
	<-b.done
	return nil
}
