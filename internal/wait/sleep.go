// Package wait holds the waits that end with a context.
package wait

import (
	"context"
	"time"
)

// Sleep waits d, or until ctx ends: it reports whether d passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
