package runner

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func TestBatchWriter(t *testing.T) {
	defer goleak.VerifyNone(t)
	var out lockedBuffer
	w := newBatchWriter(&out, time.Hour) // only size and Close flush here
	for i := 0; i < 100; i++ {
		_, _ = w.Write([]byte("line\n"))
	}
	out.mu.Lock()
	if out.writes != 0 {
		t.Errorf("%d writes before a flush, want 0", out.writes)
	}
	out.mu.Unlock()
	_ = w.Close()
	if out.writes != 1 || strings.Count(out.b.String(), "line\n") != 100 {
		t.Errorf("after Close: %d writes, %d lines; want 1 write of 100 lines", out.writes, strings.Count(out.b.String(), "line\n"))
	}
	// A large batch is written at once.
	out = lockedBuffer{}
	w = newBatchWriter(&out, time.Hour)
	big := bytes.Repeat([]byte("x"), w.maxBatch)
	_, _ = w.Write(big)
	out.mu.Lock()
	if out.writes != 1 {
		t.Errorf("a full batch: %d writes, want 1", out.writes)
	}
	out.mu.Unlock()
	_ = w.Close()
	// The interval flushes.
	out = lockedBuffer{}
	w = newBatchWriter(&out, time.Millisecond)
	_, _ = w.Write([]byte("tick\n"))
	deadline := time.Now().Add(10 * time.Second)
	for {
		out.mu.Lock()
		n := out.writes
		out.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the interval did not flush")
		}
		time.Sleep(time.Millisecond)
	}
	_ = w.Close()
}
