package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store/sqlite"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "log.db"), sqlite.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestReopen: the migrations run once; a second start finds the records.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.db")
	for i := 0; i < 2; i++ {
		s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if err := s.AddRequest(context.Background(), storetest.Request("kept", "v", "x", "h")); err != nil {
				t.Fatal(err)
			}
		} else if _, ok, err := s.Get(context.Background(), "kept"); !ok || err != nil {
			t.Errorf("after reopening: ok %v, %v", ok, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	_, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "missing", "log.db"), sqlite.Options{})
	if err == nil {
		t.Fatal("a database in a missing directory must be an error")
	}
	t.Log(err)
}
