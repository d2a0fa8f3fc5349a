package memory

import (
	"testing"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store/storetest"
)

// TestConformance runs the suite every store passes.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(_ *testing.T, now func() time.Time) store.Store { return NewWithClock(now) })
}
