package logship

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// positionFile records how far a virtual host's spool has been shipped.
const positionFile = "position"

// positionSize is the fixed size of the position record: one write of it
// at offset 0 replaces the whole record, so a crash leaves the old position
// or the new one, never a mix.
const positionSize = 64

// position is the next record to ship: a segment and a byte offset in it.
type position struct {
	Segment uint64
	Offset  int64
}

// sendingMark ends the position record while the record at the position
// is being posted: after a crash, that record may be at the log server
// already although the position does not say so.
const sendingMark = " sending"

// positionWriter keeps the position file open and overwrites it in place
// before each post (marked sending) and after each shipped record: one
// pwrite(2), no fsync. It survives the process; after a power cut the
// shipper may resend what it shipped in the last moments.
type positionWriter struct {
	f *os.File
}

// openPosition opens a spool's position; sending is true when the record
// at the position was being posted when the last shipper stopped.
func openPosition(dir string) (w *positionWriter, p position, sending bool, err error) {
	f, err := os.OpenFile(filepath.Join(dir, positionFile), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, position{}, false, fmt.Errorf("open position: %w", err)
	}
	buf := make([]byte, positionSize)
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		_ = f.Close()
		return nil, position{}, false, fmt.Errorf("read position: %w", err)
	}
	if s := strings.TrimSpace(string(buf[:n])); s != "" {
		if _, err := fmt.Sscanf(s, "%d %d", &p.Segment, &p.Offset); err != nil {
			_ = f.Close()
			return nil, position{}, false, fmt.Errorf("position file %s is corrupt (%q): remove it to ship the spool from its start", f.Name(), s)
		}
		sending = strings.HasSuffix(s, sendingMark)
	}
	return &positionWriter{f: f}, p, sending, nil
}

// save records p, the next record to ship.
func (w *positionWriter) save(p position) error { return w.write(p, false) }

// sending records that the record at p is being posted.
func (w *positionWriter) sending(p position) error { return w.write(p, true) }

func (w *positionWriter) write(p position, sending bool) error {
	line := fmt.Sprintf("%d %d", p.Segment, p.Offset)
	if sending {
		line += sendingMark
	}
	buf := []byte(line + strings.Repeat(" ", positionSize-1-len(line)) + "\n")
	if _, err := w.f.WriteAt(buf, 0); err != nil {
		return fmt.Errorf("save position: %w", err)
	}
	return nil
}

func (w *positionWriter) close() error { return w.f.Close() }

// loadPosition reads a spool's position without keeping the file open.
func loadPosition(dir string) (position, error) {
	b, err := os.ReadFile(filepath.Join(dir, positionFile))
	if errors.Is(err, fs.ErrNotExist) {
		return position{}, nil
	}
	if err != nil {
		return position{}, fmt.Errorf("read position: %w", err)
	}
	var p position
	if s := strings.TrimSpace(string(b)); s != "" {
		if _, err := fmt.Sscanf(s, "%d %d", &p.Segment, &p.Offset); err != nil {
			return position{}, fmt.Errorf("position file is corrupt: %q", s)
		}
	}
	return p, nil
}
