package consumer

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"unicode/utf8"
)

// outcomeLine is one line of an outcomes file.
type outcomeLine struct {
	Key   string          `json:"key"`
	Reply json.RawMessage `json:"reply"`
}

// outcomesFile persists finished outcomes, one JSON line each, so that a
// request the broker redelivers after the process died (after its handler
// ran, before its acknowledgement) is answered from the file by the next
// process. An append returns once its line is written (not fsynced: lines
// survive the process, not a power cut). Appends that come while a write
// is under way are written together by the next write (group commit): one
// write(2) for many outcomes under load. The file is rewritten with the
// remembered outcomes when it grows past twice their number.
type outcomesFile struct {
	path    string
	compact int

	mu      sync.Mutex
	wrote   *sync.Cond     // broadcast after each write
	next    *outcomesBatch // the lines the next write takes
	spare   []byte         // the previous write's buffer, reused
	writing bool           // a writer is at work; the others wait for it
	f       *os.File       // the writer's, or under mu while none works
	lines   int            // lines in the file; the writer's
}

// maxSpareOutcomes bounds the write buffer kept for the next write.
const maxSpareOutcomes = 1 << 20

// outcomesBatch is the lines one write takes, and how it went.
type outcomesBatch struct {
	buf  []byte
	n    int
	done bool
	err  error
}

// outcomesPath is the virtual host's outcomes file in dir.
func outcomesPath(dir, vhost string) string {
	return filepath.Join(dir, url.PathEscape(vhost)+".outcomes")
}

// openOutcomes loads the outcomes kept in path into c and opens the file
// for appending.
func openOutcomes(path string, c *outcomes) (*outcomesFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("outcomes file: %w", err)
	}
	of := &outcomesFile{path: path, f: f, compact: 2 * c.max, next: &outcomesBatch{}}
	of.wrote = sync.NewCond(&of.mu)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 128<<20)
	for sc.Scan() {
		var l outcomeLine
		if json.Unmarshal(sc.Bytes(), &l) != nil || l.Key == "" {
			continue // a line torn by a crash
		}
		of.lines++
		o, first := c.begin(l.Key)
		if first {
			c.finish(l.Key, o, l.Reply)
		}
	}
	if err := sc.Err(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("outcomes file %s: %w", path, err)
	}
	if of.lines > c.max {
		if err := of.rewrite(c.snapshot()); err != nil {
			_ = f.Close()
			return nil, err
		}
	}
	c.mu.Lock()
	c.store = of
	c.mu.Unlock()
	return of, nil
}

// append records one outcome and returns once it is written. The first
// appender to find no write under way becomes the writer: it writes what
// is pending, then what came meanwhile, until nothing is left; the others
// wait for the write that took their line.
func (of *outcomesFile) append(key string, reply []byte, c *outcomes) error {
	of.mu.Lock()
	defer of.mu.Unlock()
	mine := of.next
	mine.buf = appendOutcomeLine(mine.buf, key, reply)
	mine.n++
	if of.writing {
		for !mine.done {
			of.wrote.Wait()
		}
		return mine.err
	}
	of.writing = true
	for of.next.n > 0 {
		b := of.next
		of.next = &outcomesBatch{buf: of.spare}
		of.mu.Unlock()
		err := of.write(b.buf, b.n, c)
		of.mu.Lock()
		if cap(b.buf) <= maxSpareOutcomes {
			of.spare = b.buf[:0]
		}
		b.buf = nil
		b.done, b.err = true, err
		of.wrote.Broadcast()
	}
	of.writing = false
	return mine.err
}

// write writes lines to the file, and rewrites the file when it has grown
// too long; the writer's only.
func (of *outcomesFile) write(buf []byte, n int, c *outcomes) error {
	if _, err := of.f.Write(buf); err != nil {
		return fmt.Errorf("append to %s: %w", of.path, err)
	}
	of.lines += n
	if of.lines > of.compact {
		return of.rewrite(c.snapshot())
	}
	return nil
}

// appendOutcomeLine appends the JSON line {"key":...,"reply":...} to b.
// reply is JSON the consumer made or checked.
func appendOutcomeLine(b []byte, key string, reply []byte) []byte {
	b = append(b, `{"key":`...)
	b = appendJSONString(b, key)
	b = append(b, `,"reply":`...)
	b = append(b, reply...)
	return append(b, "}\n"...)
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	if !utf8.ValidString(s) {
		q, _ := json.Marshal(s) // replaces invalid bytes as encoding/json does
		return append(b, q...)
	}
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '"' || ch == '\\':
			b = append(b, '\\', ch)
		case ch < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[ch>>4], hex[ch&0xf])
		default:
			b = append(b, ch)
		}
	}
	return append(b, '"')
}

// rewrite replaces the file by the given outcomes, atomically.
func (of *outcomesFile) rewrite(lines []outcomeLine) error {
	tmp := of.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("rewrite outcomes: %w", err)
	}
	w := bufio.NewWriterSize(f, 64<<10)
	var line []byte
	for _, l := range lines {
		line = appendOutcomeLine(line[:0], l.Key, l.Reply)
		_, _ = w.Write(line)
	}
	if err := w.Flush(); err != nil {
		_ = f.Close()
		return fmt.Errorf("rewrite outcomes: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("rewrite outcomes: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("rewrite outcomes: %w", err)
	}
	if err := os.Rename(tmp, of.path); err != nil {
		return fmt.Errorf("rewrite outcomes: %w", err)
	}
	nf, err := os.OpenFile(of.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("reopen outcomes: %w", err)
	}
	_ = of.f.Close()
	of.f = nf
	of.lines = len(lines)
	return nil
}

// close closes the file once no write is under way.
func (of *outcomesFile) close() error {
	of.mu.Lock()
	defer of.mu.Unlock()
	for of.writing {
		of.wrote.Wait()
	}
	return of.f.Close()
}
