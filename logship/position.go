package logship

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// positionFile records how far a virtual host's spool has been shipped.
const positionFile = "position"

// position is the next record to ship: a segment and a byte offset in it.
type position struct {
	Segment uint64 `json:"segment"`
	Offset  int64  `json:"offset"`
}

func loadPosition(dir string) (position, error) {
	b, err := os.ReadFile(filepath.Join(dir, positionFile))
	if errors.Is(err, fs.ErrNotExist) {
		return position{}, nil
	}
	if err != nil {
		return position{}, fmt.Errorf("read position: %w", err)
	}
	var p position
	if err := json.Unmarshal(b, &p); err != nil {
		return position{}, fmt.Errorf("position file %s is corrupt: %w", filepath.Join(dir, positionFile), err)
	}
	return p, nil
}

// savePosition replaces the position file atomically (write, rename): a
// crash leaves the old position or the new one, never a torn one.
func savePosition(dir string, p position) error {
	b, _ := json.Marshal(p)
	tmp := filepath.Join(dir, positionFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o640); err != nil {
		return fmt.Errorf("save position: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, positionFile)); err != nil {
		return fmt.Errorf("save position: %w", err)
	}
	return nil
}
