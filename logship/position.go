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
const positionSize = 96

// position is the next record to ship: a segment and a byte offset in it.
type position struct {
	Segment uint64
	Offset  int64
}

// sendingMark follows the position while records from it are being posted,
// and is followed by the offset past the last of them and a mask, in hex, of
// those already handled (accepted or set aside): bit i for the i-th record
// from the position ("3 1200 sending 4810 1a"). After a crash, the records
// from the position up to that offset not in the mask may be at the log
// server already although the position does not say so; those in the mask
// are not posted again. A record written without the offset ("3 1200
// sending", by earlier versions) is the one record at the position.
const sendingMark = " sending"

// positionWriter keeps the position file open and overwrites it in place
// when a record is taken to be posted and when the position moves: one
// pwrite(2), no fsync. It survives the process; after a power cut the
// shipper may resend what it shipped in the last moments.
type positionWriter struct {
	f *os.File
}

// openPosition opens a spool's position; until is the offset, in
// p.Segment, past the records that were being posted when the last shipper
// stopped (0 when none were), and handled the mask of those among them
// that were handled.
func openPosition(dir string) (w *positionWriter, p position, until int64, handled uint64, err error) {
	f, err := os.OpenFile(filepath.Join(dir, positionFile), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, position{}, 0, 0, fmt.Errorf("open position: %w", err)
	}
	buf := make([]byte, positionSize)
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		_ = f.Close()
		return nil, position{}, 0, 0, fmt.Errorf("read position: %w", err)
	}
	if s := strings.TrimSpace(string(buf[:n])); s != "" {
		if _, err := fmt.Sscanf(s, "%d %d", &p.Segment, &p.Offset); err != nil {
			_ = f.Close()
			return nil, position{}, 0, 0, fmt.Errorf("position file %s is corrupt (%q): remove it to ship the spool from its start", f.Name(), s)
		}
		if _, rest, ok := strings.Cut(s, sendingMark); ok {
			until = p.Offset + 1 // the record at the position
			if n, _ := fmt.Sscanf(rest, "%d %x", &until, &handled); n == 0 || until <= p.Offset {
				until, handled = p.Offset+1, 0
			}
		}
	}
	return &positionWriter{f: f}, p, until, handled, nil
}

// save records p, the next record to ship, with nothing being posted.
func (w *positionWriter) save(p position) error { return w.write(p, 0, 0) }

// sending records p, that the records from it up to offset until are
// being posted, and which of them are handled.
func (w *positionWriter) sending(p position, until int64, handled uint64) error {
	return w.write(p, until, handled)
}

func (w *positionWriter) write(p position, until int64, handled uint64) error {
	line := fmt.Sprintf("%d %d", p.Segment, p.Offset)
	if until > p.Offset {
		line += fmt.Sprintf("%s %d %x", sendingMark, until, handled)
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
