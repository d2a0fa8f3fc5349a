package consumer

import (
	"context"
	"runtime"
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
// It returns the function that releases it. A release that another
// request waits for yields to it (runtime.Gosched): requests serialised by
// one lock then follow each other at once, the next one started before
// the previous one's reply and acknowledgement go out, as those need not
// hold anyone up.
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
			if t.release(key, e) {
				runtime.Gosched()
			}
		}, nil
	case <-ctx.Done():
		t.release(key, e)
		return nil, ctx.Err()
	}
}

// release drops a reference to key's entry; waited reports whether
// others still hold or wait for it.
func (t *lockTable) release(key string, e *lockEntry) (waited bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e.refs--
	if e.refs == 0 {
		delete(t.m, key)
	}
	return e.refs > 0
}

// size is the number of keys held or waited for.
func (t *lockTable) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}
