package main

import (
	"strings"
	"sync"
)

// tailSize is how much of a server's stderr a tail keeps.
const tailSize = 2048

// tail keeps the end of what is written to it: the last words of a server
// that does not answer.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > tailSize {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailSize:]...)
	}
	return len(p), nil
}

// String is the kept end, on one line.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.TrimSpace(string(t.buf))
	if s == "" {
		return "(nothing)"
	}
	return strings.ReplaceAll(s, "\n", " | ")
}
