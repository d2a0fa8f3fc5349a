package metrics

import (
	"testing"
	"time"
)

// BenchmarkRequest is what the metrics cost one request: taken up, its lock
// wait, its end (go test -bench Request ./metrics/).
func BenchmarkRequest(b *testing.B) {
	c, err := NewConsumer(NewRegistry(), "v", []string{"dx_a", "dx_b"})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e := c.Exchange("dx_a")
			e.Started(false)
			e.LockWaited(time.Microsecond)
			e.Finished(Success, start)
		}
	})
}
