package consumer

import (
	"context"
	"sync"
)

// lockTable serialises requests by key: two holders of one key never run
// at the same time. Waiting is cancellable.
type lockTable struct {
	mu sync.Mutex
	m  map[string]*lockEntry
}

type lockEntry struct {
	ch   chan struct{} // holds a token while locked
	refs int
}

func newLockTable() *lockTable {
	return &lockTable{m: map[string]*lockEntry{}}
}

// lock takes the lock for key, waiting until it is free or ctx is done.
// It returns the function that releases it.
func (t *lockTable) lock(ctx context.Context, key string) (func(), error) {
	t.mu.Lock()
	e := t.m[key]
	if e == nil {
		e = &lockEntry{ch: make(chan struct{}, 1)}
		t.m[key] = e
	}
	e.refs++
	t.mu.Unlock()

	select {
	case e.ch <- struct{}{}:
		return func() {
			<-e.ch
			t.release(key, e)
		}, nil
	case <-ctx.Done():
		t.release(key, e)
		return nil, ctx.Err()
	}
}

func (t *lockTable) release(key string, e *lockEntry) {
	t.mu.Lock()
	e.refs--
	if e.refs == 0 {
		delete(t.m, key)
	}
	t.mu.Unlock()
}

// size is the number of keys held or waited for.
func (t *lockTable) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}
