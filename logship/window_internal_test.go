package logship

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWindowMovesOverHandledPrefix: the position moves only over the
// records handled in a row from it, and the mask says which of the others
// are handled.
func TestWindowMovesOverHandledPrefix(t *testing.T) {
	tests := []struct {
		name     string
		sizes    []int64
		handle   []int // indexes of the records handled, in this order
		wantPos  int64
		wantMask uint64
		wantBusy bool
	}{
		{"nothing handled", []int64{10, 20, 30}, nil, 100, 0, true},
		{"the first handled", []int64{10, 20, 30}, []int{0}, 110, 0, true},
		{"a later one handled", []int64{10, 20, 30}, []int{1}, 100, 0b010, true},
		{"the gap filled", []int64{10, 20, 30}, []int{2, 1, 0}, 160, 0, false},
		{"the first and last", []int64{10, 20, 30}, []int{2, 0}, 110, 0b10, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w window
			w.reset(position{Segment: 3, Offset: 100})
			var slots []*slot
			for _, n := range tt.sizes {
				slots = append(slots, w.take(n))
			}
			for _, i := range tt.handle {
				w.handle(slots[i])
			}
			if w.pos != (position{Segment: 3, Offset: tt.wantPos}) || w.handledMask() != tt.wantMask || w.busy() != tt.wantBusy {
				t.Errorf("pos %+v mask %b busy %v, want offset %d mask %b busy %v", w.pos, w.handledMask(), w.busy(), tt.wantPos, tt.wantMask, tt.wantBusy)
			}
		})
	}
}

// TestPositionFileForms: the position file is read back as written, and
// the form of earlier versions ("sending" alone) is the one record at the
// position.
func TestPositionFileForms(t *testing.T) {
	tests := []struct {
		name        string
		text        string
		wantPos     position
		wantUntil   int64
		wantHandled uint64
	}{
		{"empty", "", position{}, 0, 0},
		{"idle", "2 300\n", position{2, 300}, 0, 0},
		{"earlier sending", "2 300 sending\n", position{2, 300}, 301, 0},
		{"window", "2 300 sending 900 1a\n", position{2, 300}, 900, 0x1a},
		{"window end not past the position", "2 300 sending 300 1\n", position{2, 300}, 301, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, positionFile), []byte(tt.text), 0o640); err != nil {
				t.Fatal(err)
			}
			w, p, until, handled, err := openPosition(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer w.close()
			if p != tt.wantPos || until != tt.wantUntil || handled != tt.wantHandled {
				t.Errorf("read %+v until %d handled %x, want %+v until %d handled %x", p, until, handled, tt.wantPos, tt.wantUntil, tt.wantHandled)
			}
			if until > p.Offset+1 {
				// Written back, it reads the same.
				if err := w.sending(p, until, handled); err != nil {
					t.Fatal(err)
				}
				w2, p2, until2, handled2, err := openPosition(dir)
				if err != nil {
					t.Fatal(err)
				}
				defer w2.close()
				if p2 != p || until2 != until || handled2 != handled {
					t.Errorf("written back: %+v %d %x", p2, until2, handled2)
				}
			}
		})
	}
}
