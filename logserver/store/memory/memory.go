// Package memory is an in-memory store.Store: the HTTP handlers' tests use
// it, and so does the storage conformance suite as its reference. It keeps
// nothing across restarts.
package memory

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// ErrClosed is returned by every method of a closed Store.
var ErrClosed = errors.New("memory store: closed")

// Store is an in-memory store.Store, safe for concurrent use.
type Store struct {
	now func() time.Time

	mu     sync.RWMutex
	closed bool
	lastID int64
	// latest is the newest request CreatedAt given out: CreatedAt never
	// decreases as ID grows, even if the clock steps back.
	latest time.Time
	// pairs holds every pair in arrival order (ascending Request.ID).
	pairs  []*store.Pair
	byCorr map[string]*store.Pair
	// progress holds each correlation id's progress updates in arrival
	// order; lastProgress numbers them.
	progress     map[string][]*progress
	lastProgress int64
}

var _ store.Store = (*Store)(nil)

// New returns an empty store that stamps records with time.Now.
func New() *Store { return NewWithClock(nil) }

// NewWithClock returns an empty store that stamps records with now (nil:
// time.Now), so that tests can place records in time.
func NewWithClock(now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{now: now, byCorr: map[string]*store.Pair{}, progress: map[string][]*progress{}}
}

// AddRequest stores a request; an identical repeat is a no-op and a
// different record with the same correlation id is store.ErrConflict. Its
// CreatedAt is the clock's time, or the previous request's if that is
// later (a clock stepped back).
func (s *Store) AddRequest(_ context.Context, r wire.LogRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if p, ok := s.byCorr[r.CorrelationID]; ok {
		if sameRequest(p.Request.LogRequest, r) {
			return nil
		}
		return store.ErrConflict
	}
	s.lastID++
	s.latest = later(s.latest, s.now().UTC())
	r.RequestPayload = clone(r.RequestPayload)
	p := &store.Pair{
		Request: store.Request{LogRequest: r, ID: s.lastID, CreatedAt: s.latest},
		Outcome: store.OutcomeAwaiting,
	}
	s.pairs = append(s.pairs, p)
	s.byCorr[r.CorrelationID] = p
	return nil
}

// AddResponse stores the response of a stored request:
// store.ErrUnknownRequest when there is none, store.ErrConflict when a
// different response is stored already, nil for an identical repeat.
func (s *Store) AddResponse(_ context.Context, r wire.LogResponse) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	p, ok := s.byCorr[r.CorrelationID]
	if !ok {
		return store.ErrUnknownRequest
	}
	if p.Response != nil {
		if sameResponse(p.Response.LogResponse, r) {
			return nil
		}
		return store.ErrConflict
	}
	r.ResponsePayload = clone(r.ResponsePayload)
	r.Traceback = clonePtr(r.Traceback)
	p.Response = &store.Response{LogResponse: r, CreatedAt: s.now().UTC()}
	p.Outcome = store.OutcomeOf(r.ResponsePayload, r.Traceback)
	p.Duration = p.Response.CreatedAt.Sub(p.Request.CreatedAt)
	return nil
}

// List returns up to limit pairs matching f with Request.ID < before (0:
// from the newest), newest first. Page.Next is the last pair's ID when
// older matching pairs remain, else 0.
func (s *Store) List(_ context.Context, f store.Filter, before int64, limit int) (store.Page, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.Page{}, ErrClosed
	}
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	page := store.Page{Pairs: []store.Pair{}}
	for i := s.start(before); i >= 0; i-- {
		p := s.pairs[i]
		if f.After != 0 && p.Request.ID <= f.After {
			break // pairs are in ID order: none older can match
		}
		if !matches(f, p) {
			continue
		}
		if len(page.Pairs) == limit {
			page.Next = page.Pairs[limit-1].Request.ID
			break
		}
		page.Pairs = append(page.Pairs, copyPair(p))
	}
	return page, nil
}

// start is the index of the newest pair with Request.ID < before (before 0:
// the newest pair), -1 when there is none.
func (s *Store) start(before int64) int {
	if before == 0 {
		return len(s.pairs) - 1
	}
	return sort.Search(len(s.pairs), func(i int) bool { return s.pairs[i].Request.ID >= before }) - 1
}

// Get returns the pair of one correlation id.
func (s *Store) Get(_ context.Context, correlationID string) (store.Pair, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.Pair{}, false, ErrClosed
	}
	p, ok := s.byCorr[correlationID]
	if !ok {
		return store.Pair{}, false, nil
	}
	return copyPair(p), true, nil
}

// Counts returns the number of pairs matching f per outcome, every outcome
// present (zero included); f.Outcomes is ignored.
func (s *Store) Counts(_ context.Context, f store.Filter) (map[store.Outcome]int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	f.Outcomes = nil
	counts := make(map[store.Outcome]int64, len(store.Outcomes))
	for _, o := range store.Outcomes {
		counts[o] = 0
	}
	for _, p := range s.pairs {
		if matches(f, p) {
			counts[p.Outcome]++
		}
	}
	return counts, nil
}

// Purge deletes the pairs whose request was stored before cutoff, and the
// progress updates stored before cutoff.
func (s *Store) Purge(_ context.Context, cutoff time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	kept := s.pairs[:0]
	var n int64
	for _, p := range s.pairs {
		if p.Request.CreatedAt.Before(cutoff) {
			delete(s.byCorr, p.Request.CorrelationID)
			n++
			continue
		}
		kept = append(kept, p)
	}
	clear(s.pairs[len(kept):])
	s.pairs = kept
	s.purgeProgress(cutoff.UnixMicro())
	return n, nil
}

// Close empties the store; later calls return ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.pairs, s.byCorr, s.progress = nil, nil, nil
	return nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// matches says whether p passes every set field of f.
func matches(f store.Filter, p *store.Pair) bool {
	r := p.Request
	switch {
	case f.CorrelationID != "" && !f.CorrelationPrefix && r.CorrelationID != f.CorrelationID,
		f.CorrelationID != "" && f.CorrelationPrefix && !strings.HasPrefix(r.CorrelationID, f.CorrelationID),
		f.VirtualHost != "" && r.VirtualHostName != f.VirtualHost,
		f.Exchange != "" && r.ExchangeName != f.Exchange,
		f.Hostname != "" && r.Hostname != f.Hostname,
		!f.Since.IsZero() && r.CreatedAt.Before(f.Since),
		!f.Until.IsZero() && !r.CreatedAt.Before(f.Until),
		f.After != 0 && r.ID <= f.After:
		return false
	}
	if len(f.Outcomes) == 0 {
		return true
	}
	for _, o := range f.Outcomes {
		if p.Outcome == o {
			return true
		}
	}
	return false
}
