package logship

// window is the records of one segment posted and not all answered yet,
// in spool order. The recorded position advances only over the prefix
// that is handled, so that a restart never skips a record still in
// flight.
type window struct {
	// pos is the first record not known handled.
	pos position
	// next is the offset, in pos.Segment, past the last record taken.
	next int64
	// slots are the records taken, from pos on.
	slots []*slot
}

// slot is one record of the window: its bytes in the segment.
type slot struct {
	start, end int64
	handled    bool
}

// reset starts the window at p, with nothing in flight.
func (w *window) reset(p position) {
	w.pos, w.next, w.slots = p, p.Offset, w.slots[:0]
}

// take adds the next record, of size bytes with its newline.
func (w *window) take(size int64) *slot {
	sl := &slot{start: w.next, end: w.next + size}
	w.next = sl.end
	w.slots = append(w.slots, sl)
	return sl
}

// handle marks sl handled and moves pos over the handled prefix; it
// returns how many records pos moved over.
func (w *window) handle(sl *slot) int {
	sl.handled = true
	n := 0
	for n < len(w.slots) && w.slots[n].handled {
		w.pos.Offset = w.slots[n].end
		w.slots[n] = nil
		n++
	}
	w.slots = w.slots[n:]
	return n
}

// handledMask has bit i set when the i-th record from pos is handled
// (bits past 63 are not kept: the window is at most 64 records).
func (w *window) handledMask() uint64 {
	var m uint64
	for i, sl := range w.slots {
		if i < 64 && sl.handled {
			m |= 1 << i
		}
	}
	return m
}

// head tells whether sl is the oldest record not handled.
func (w *window) head(sl *slot) bool { return len(w.slots) > 0 && w.slots[0] == sl }

// busy tells whether records are in flight.
func (w *window) busy() bool { return len(w.slots) > 0 }
