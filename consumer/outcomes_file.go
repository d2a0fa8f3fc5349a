package consumer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/contract"
)

// outcomeLine is one line of an outcomes file.
type outcomeLine struct {
	Key   string          `json:"key"`
	Reply json.RawMessage `json:"reply"`
}

// outcomesFile persists finished outcomes, one JSON line each, so that a
// request the broker redelivers after the process died (after its handler
// ran, before its acknowledgement) is answered from the file by the next
// process.
//
// The file is mapped into memory and its space allocated in advance: an
// outcome is recorded by copying its line into the mapping, without a
// system call, and is in the kernel's page cache as soon as it is copied.
// Lines therefore survive the process, not a power cut (they are not
// fsynced). The unused end of the file is zeros. When the space runs out,
// or the file holds twice as many lines as outcomes are remembered, the
// file is rewritten with the remembered outcomes (renamed into place) and
// mapped again.
type outcomesFile struct {
	path    string
	compact int // lines after which the file is rewritten

	mu    sync.Mutex
	f     *os.File
	mem   []byte // the file, mapped; nil once closed
	off   int    // where the next line goes
	lines int
	buf   []byte // the line being built
}

// minOutcomesSpace is the smallest file the outcomes get.
const minOutcomesSpace = 4 << 20

// outcomesPath is the virtual host's outcomes file in dir.
func outcomesPath(dir, vhost string) string {
	return filepath.Join(dir, url.PathEscape(vhost)+".outcomes")
}

// openOutcomes loads the outcomes kept in path into c, then rewrites the
// file with them and maps it.
func openOutcomes(path string, c *outcomes) (*outcomesFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("outcomes file: %w", err)
	}
	if end := bytes.IndexByte(data, 0); end >= 0 {
		data = data[:end] // the unused space
	}
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		var l outcomeLine
		if json.Unmarshal(line, &l) != nil || l.Key == "" {
			continue // a line torn by a crash
		}
		o, first := c.begin(l.Key)
		if first {
			c.finish(l.Key, o, l.Reply)
		}
	}
	of := &outcomesFile{path: path, compact: 2 * c.max}
	if err := of.rewrite(c.snapshot(), 0); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.store = of
	c.mu.Unlock()
	return of, nil
}

// append records one outcome: once it returns, the line is in the file.
func (of *outcomesFile) append(key string, reply []byte, c *outcomes) error {
	of.mu.Lock()
	defer of.mu.Unlock()
	if of.mem == nil {
		return fmt.Errorf("append to %s: closed", of.path)
	}
	of.buf = appendOutcomeLine(of.buf[:0], key, reply)
	if of.off+len(of.buf) > len(of.mem) || of.lines >= of.compact {
		// The snapshot holds this outcome already (unless it was
		// forgotten at once): writing the line again is harmless.
		if err := of.rewrite(c.snapshot(), len(of.buf)); err != nil {
			return err
		}
	}
	copy(of.mem[of.off:], of.buf)
	of.off += len(of.buf)
	of.lines++
	if cap(of.buf) > maxSpareOutcomes {
		of.buf = nil
	}
	return nil
}

// maxSpareOutcomes bounds the line buffer kept for the next line.
const maxSpareOutcomes = 1 << 20

// appendOutcomeLine appends the JSON line {"key":...,"reply":...} to b.
// reply is JSON the consumer made or checked.
func appendOutcomeLine(b []byte, key string, reply []byte) []byte {
	b = append(b, `{"key":`...)
	b = contract.AppendJSONString(b, key)
	b = append(b, `,"reply":`...)
	b = append(b, reply...)
	return append(b, "}\n"...)
}

// rewrite replaces the file by one holding the given outcomes, with room
// for more (at least extra bytes), and maps it. It is not fsynced: like
// the lines, it survives the process, not a power cut.
func (of *outcomesFile) rewrite(lines []outcomeLine, extra int) error {
	estimate := 0 // the content's length when no key needs escaping
	for _, l := range lines {
		estimate += len(`{"key":"","reply":}`+"\n") + len(l.Key) + len(l.Reply)
	}
	content := make([]byte, 0, estimate)
	for _, l := range lines {
		content = appendOutcomeLine(content, l.Key, l.Reply)
	}
	size := max(minOutcomesSpace, 2*(len(content)+extra))
	size = (size + os.Getpagesize() - 1) &^ (os.Getpagesize() - 1)
	tmp := of.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("rewrite outcomes: %w", err)
	}
	_, err = f.Write(content)
	var mem []byte
	if err == nil {
		mem, err = mapOutcomes(f, size)
	}
	if err != nil {
		_ = f.Close()
		_ = os.Remove(tmp)
		return fmt.Errorf("rewrite outcomes %s: %w", of.path, err)
	}
	off := len(content)
	if err := os.Rename(tmp, of.path); err != nil {
		_ = syscall.Munmap(mem)
		_ = f.Close()
		return fmt.Errorf("rewrite outcomes: %w", err)
	}
	of.unmap()
	of.f, of.mem, of.off, of.lines = f, mem, off, len(lines)
	return nil
}

// mapOutcomes allocates size bytes of disk space to f (so that writing
// into the mapping cannot fail for want of space) and maps it.
func mapOutcomes(f *os.File, size int) ([]byte, error) {
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, int64(size)); err != nil {
		if !errors.Is(err, syscall.EOPNOTSUPP) {
			return nil, fmt.Errorf("allocate %d bytes: %w", size, err)
		}
		// A file system without fallocate: a sparse file.
		if err := f.Truncate(int64(size)); err != nil {
			return nil, err
		}
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("map: %w", err)
	}
	return mem, nil
}

func (of *outcomesFile) unmap() {
	if of.mem != nil {
		_ = syscall.Munmap(of.mem)
		of.mem = nil
	}
	if of.f != nil {
		_ = of.f.Close()
		of.f = nil
	}
}

// close unmaps and closes the file; appends after it fail.
func (of *outcomesFile) close() error {
	of.mu.Lock()
	defer of.mu.Unlock()
	of.unmap()
	return nil
}
