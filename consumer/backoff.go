package consumer

import (
	"math/rand/v2"
	"time"
)

// Backoff is a bounded exponential backoff with jitter.
type Backoff struct {
	// Min is the first delay, Max the largest.
	Min, Max time.Duration
}

// DefaultBackoff retries quickly at first and at least every 5 seconds, so
// that a consumer serves again within seconds of the broker's return.
var DefaultBackoff = Backoff{Min: 250 * time.Millisecond, Max: 5 * time.Second}

// Delay is the wait before attempt n (1-based): Min·2^(n-1), capped at Max,
// of which the upper half is random ("equal jitter"), so that many
// consumers do not reconnect in step.
func (b Backoff) Delay(n int, rnd func(int64) int64) time.Duration {
	d := b.ceiling(n)
	if rnd == nil {
		rnd = rand.Int64N
	}
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + time.Duration(rnd(int64(half)+1))
}

// ceiling is the longest wait before attempt n (1-based), without jitter:
// Min·2^(n-1), capped at Max.
func (b Backoff) ceiling(n int) time.Duration {
	d := b.Min
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}
