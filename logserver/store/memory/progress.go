package memory

import (
	"bytes"
	"context"
	"sort"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// AddProgress stores a progress update of a stored request:
// store.ErrUnknownRequest when there is none, nil for an identical repeat,
// store.ErrConflict for a different update at the same Time (to the
// microsecond).
func (s *Store) AddProgress(_ context.Context, p wire.LogProgress) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if _, ok := s.byCorr[p.CorrelationID]; !ok {
		return store.ErrUnknownRequest
	}
	p.Time = p.Time.UTC().Truncate(time.Microsecond)
	if t := bytes.TrimSpace(p.Data); string(t) == "null" {
		p.Data = nil
	}
	for _, old := range s.progress[p.CorrelationID] {
		if old.Time.Equal(p.Time) {
			if sameProgress(old.LogProgress, p) {
				return nil
			}
			return store.ErrConflict
		}
	}
	p.Data = clone(p.Data)
	p.Percent = clonePtr(p.Percent)
	s.lastProgress++
	s.progress[p.CorrelationID] = append(s.progress[p.CorrelationID], &progress{
		Progress: store.Progress{LogProgress: p, CreatedAt: s.now().UTC()}, seq: s.lastProgress})
	return nil
}

// Progress returns the progress updates of one correlation id, by Time
// then arrival.
func (s *Store) Progress(_ context.Context, correlationID string) ([]store.Progress, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	ps := append([]*progress(nil), s.progress[correlationID]...)
	sort.SliceStable(ps, func(i, j int) bool {
		if !ps[i].Time.Equal(ps[j].Time) {
			return ps[i].Time.Before(ps[j].Time)
		}
		return ps[i].seq < ps[j].seq
	})
	out := make([]store.Progress, 0, len(ps))
	for _, p := range ps {
		c := p.Progress
		c.Data = clone(c.Data)
		c.Percent = clonePtr(c.Percent)
		out = append(out, c)
	}
	return out, nil
}

// progress is a stored update and its arrival order.
type progress struct {
	store.Progress
	seq int64
}

// purgeProgress deletes the updates stored before cutoff; s.mu is held.
func (s *Store) purgeProgress(cutoff int64) {
	for id, ps := range s.progress {
		kept := ps[:0]
		for _, p := range ps {
			if p.CreatedAt.UnixMicro() >= cutoff {
				kept = append(kept, p)
			}
		}
		clear(ps[len(kept):])
		if len(kept) == 0 {
			delete(s.progress, id)
			continue
		}
		s.progress[id] = kept
	}
}
