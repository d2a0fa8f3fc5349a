package logserver

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store/sqlite"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store/storetest"
)

// TestRetention: each trigger purges what is older than keep_days at the
// clock's time, and nothing younger.
func TestRetention(t *testing.T) {
	clock := storetest.NewClock(storetest.Epoch)
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "log.db"), sqlite.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// One request a day for 10 days.
	for i := 0; i < 10; i++ {
		if err := st.AddRequest(context.Background(), storetest.Request(fmt.Sprintf("day-%d", i), "v", "x", "h")); err != nil {
			t.Fatal(err)
		}
		clock.Advance(24 * time.Hour)
	}
	// Now: day 10. keep_days 7 keeps days 3..9.
	tick := make(chan time.Time)
	purges := make(chan int64)
	r := &Retention{Store: st, KeepDays: 7, Now: clock.Now, Tick: tick, purged: func(n int64, err error) {
		if err != nil {
			t.Error(err)
		}
		purges <- n
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	if n := <-purges; n != 3 {
		t.Errorf("first purge (at start) removed %d, want 3", n)
	}
	tick <- time.Time{}
	if n := <-purges; n != 0 {
		t.Errorf("second purge, same day, removed %d, want 0", n)
	}
	clock.Advance(2 * 24 * time.Hour)
	tick <- time.Time{}
	if n := <-purges; n != 2 {
		t.Errorf("two days later, removed %d, want 2", n)
	}
	cancel()
	<-done
	counts, err := st.Counts(context.Background(), store.Filter{})
	if err != nil || counts[store.OutcomeAwaiting] != 5 {
		t.Errorf("left: %v, %v; want 5", counts, err)
	}
}

// TestRetentionKeepForever: keep_days 0 never purges.
func TestRetentionKeepForever(t *testing.T) {
	r := &Retention{KeepDays: 0}
	done := make(chan struct{})
	go func() { r.Run(context.Background()); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run with keep_days 0 must return at once")
	}
}
