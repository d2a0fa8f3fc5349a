package consumer

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
)

// outcomeLine is one line of an outcomes file.
type outcomeLine struct {
	Key   string          `json:"key"`
	Reply json.RawMessage `json:"reply"`
}

// outcomesFile persists finished outcomes, one JSON line each, so that a
// request the broker redelivers after the process died (after its handler
// ran, before its acknowledgement) is answered from the file by the next
// process. Lines are appended with one write each and not fsynced: they
// survive the process, not a power cut. The file is rewritten with the
// remembered outcomes when it grows past twice their number.
type outcomesFile struct {
	path    string
	f       *os.File
	lines   int
	compact int
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
	of := &outcomesFile{path: path, f: f, compact: 2 * c.max}
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
	c.store = of
	return of, nil
}

// append records one outcome; the caller holds the outcomes lock.
func (of *outcomesFile) append(key string, reply []byte, c *outcomes) error {
	b, err := json.Marshal(outcomeLine{Key: key, Reply: reply})
	if err != nil {
		return err
	}
	if _, err := of.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("append to %s: %w", of.path, err)
	}
	of.lines++
	if of.lines > of.compact {
		return of.rewrite(c.snapshotLocked())
	}
	return nil
}

// rewrite replaces the file by the given outcomes, atomically.
func (of *outcomesFile) rewrite(lines []outcomeLine) error {
	tmp := of.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("rewrite outcomes: %w", err)
	}
	w := bufio.NewWriter(f)
	for _, l := range lines {
		b, _ := json.Marshal(l)
		_, _ = w.Write(append(b, '\n'))
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

func (of *outcomesFile) close() error { return of.f.Close() }
