package consumer

import (
	"context"
	"runtime"
	"sync"
	"testing"
)

// refsOf is how many hold or wait for key's lock.
func (t *lockTable) refsOf(key string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.m[key]; e != nil {
		return e.refs
	}
	return 0
}

// TestLockHandOver checks that the next holder of a released lock runs
// before its releaser goes on: requests serialised by one lock follow
// each other without waiting for the previous one's reply to be published
// and acknowledged. On one thread the order is the scheduler's to keep,
// bar its fairness check (one pick in 61 from the global queue): most
// hand-overs, not all, must go first.
func TestLockHandOver(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	lt := newLockTable()
	const runs = 200
	first := 0
	for i := 0; i < runs; i++ {
		unlock, err := lt.lock(context.Background(), "k")
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var order []string
		note := func(who string) {
			mu.Lock()
			order = append(order, who)
			mu.Unlock()
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			next, err := lt.lock(context.Background(), "k")
			if err != nil {
				t.Error(err)
				return
			}
			note("next holder")
			next()
		}()
		for lt.refsOf("k") < 2 {
			runtime.Gosched() // until the next holder waits
		}
		unlock()
		note("releaser")
		<-done
		if order[0] == "next holder" {
			first++
		}
	}
	if first < runs*3/4 {
		t.Errorf("the next holder ran first in %d of %d hand-overs, want at least %d", first, runs, runs*3/4)
	}
	if n := lt.size(); n != 0 {
		t.Errorf("lock table keeps %d keys after all unlocked, want 0", n)
	}
}
