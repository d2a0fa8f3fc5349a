package consumer

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/rs/zerolog"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testbroker"
)

// The per-request costs of locks_across_hosts against the local broker:
// go test -run '^$' -bench 'Lease|OutcomePublish|StreamSync' ./consumer/

func benchConn(b *testing.B) *amqp.Connection {
	b.Helper()
	vh := testbroker.New(b)
	conn, err := amqp.Dial(vh.URL())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = conn.Close() })
	return conn
}

func reportMicros(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/request")
}

// BenchmarkLease: taking and giving up a lease (a queue declaration and
// deletion), as every request of a lock value does.
func BenchmarkLease(b *testing.B) {
	l := newLeaseConn(benchConn(b), "", zerolog.Nop())
	q := leaseQueue("bench", "dx_bench\x00value")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ok, err := l.tryAcquire(q, leaseHolder{})
		if err != nil || !ok {
			b.Fatalf("acquire: %v %v", ok, err)
		}
		if err := l.release(q); err != nil {
			b.Fatal(err)
		}
	}
	reportMicros(b)
}

// BenchmarkLeaseParallel: leases on distinct lock values taken by
// concurrent requests on one lease connection (8 per core): the broker's
// throughput of leases, as elapsed time per lease.
func BenchmarkLeaseParallel(b *testing.B) {
	l := newLeaseConn(benchConn(b), "", zerolog.Nop())
	var next atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		q := leaseQueue("bench", fmt.Sprint("dx_bench\x00", next.Add(1)))
		for pb.Next() {
			ok, err := l.tryAcquire(q, leaseHolder{})
			if err != nil || !ok {
				b.Errorf("acquire: %v %v", ok, err)
				return
			}
			if err := l.release(q); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportMicros(b)
}

// BenchmarkOutcomePublish: publishing an outcome to the outcomes stream
// and waiting for its confirmation, as every finished request does.
func BenchmarkOutcomePublish(b *testing.B) {
	st, done := benchStream(b)
	defer done()
	reply := []byte(`{"success":true,"message":"Determined toleration","data":{"tolerable":false}}`)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		key := outcomeKey("dx_bench", fmt.Sprint("cid-", i), []byte(`{"chance_percentage":50}`))
		if err := st.publishOutcome(context.Background(), key, reply); err != nil {
			b.Fatal(err)
		}
	}
	reportMicros(b)
}

// BenchmarkStreamSync: publishing a marker and reading the stream up to
// it, as a redelivered request does.
func BenchmarkStreamSync(b *testing.B) {
	st, done := benchStream(b)
	defer done()
	dead := make(chan struct{})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := st.sync(context.Background(), dead); err != nil {
			b.Fatal(err)
		}
	}
	reportMicros(b)
}

// benchStream opens the outcomes stream of a fresh virtual host and reads
// it; done stops reading.
func benchStream(b *testing.B) (*outcomeStream, func()) {
	b.Helper()
	conn := benchConn(b)
	st, err := openStream(conn, "bench", "bench", -1)
	if err != nil {
		b.Fatal(err)
	}
	read := make(chan struct{})
	go func() {
		defer close(read)
		st.read(func(string, []byte) {}, func(int64) {})
	}()
	return st, func() {
		_ = conn.Close()
		select {
		case <-read:
		case <-time.After(10 * time.Second):
			b.Error("the stream reader did not stop")
		}
	}
}
