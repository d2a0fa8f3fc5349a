package logship

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// RejectedFile is the file, in a virtual host's spool directory, that keeps
// the records set aside: those the log server would not accept. One JSON
// line each: {"time", "reason", "status", "answer", "record"} (or "line",
// the text of a spool line that is not a record).
const RejectedFile = "rejected.jsonl"

// rejectedLine is one line of RejectedFile.
type rejectedLine struct {
	Time   time.Time       `json:"time"`
	Reason string          `json:"reason"`
	Status int             `json:"status,omitempty"`
	Answer string          `json:"answer,omitempty"`
	Record json.RawMessage `json:"record,omitempty"`
	Line   string          `json:"line,omitempty"`
}

// keepRejected appends one line to dir's RejectedFile and fsyncs it, so
// that the record is kept before the position moves past it.
func keepRejected(dir string, l rejectedLine) error {
	b, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("set aside: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, RejectedFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("set aside: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("set aside: %w", err)
	}
	return nil
}

// recentIDs remembers the last correlation ids added, up to a bound.
type recentIDs struct {
	max  int
	set  map[string]bool
	ring []string
	next int
}

func newRecentIDs(max int) *recentIDs {
	return &recentIDs{max: max, set: map[string]bool{}}
}

func (r *recentIDs) add(id string) {
	if r.set[id] {
		return
	}
	if len(r.ring) < r.max {
		r.ring = append(r.ring, id)
	} else {
		delete(r.set, r.ring[r.next])
		r.ring[r.next] = id
		r.next = (r.next + 1) % r.max
	}
	r.set[id] = true
}

func (r *recentIDs) has(id string) bool { return r.set[id] }
