package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testpg"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store/postgres"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		s, err := postgres.Open(context.Background(), testpg.New(t, "logserver_test"), postgres.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestConcurrentStarts: servers starting at once on one database apply
// each migration once.
func TestConcurrentStarts(t *testing.T) {
	url := testpg.New(t, "logserver_test")
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() {
			s, err := postgres.Open(context.Background(), url, postgres.Options{})
			if err == nil {
				err = s.Close()
			}
			errs <- err
		}()
	}
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestRedact(t *testing.T) {
	got := postgres.Redact("postgres://logs:s3cret@db.example.com/logs")
	if strings.Contains(got, "s3cret") || !strings.Contains(got, "db.example.com") {
		t.Errorf("Redact = %s", got)
	}
}
