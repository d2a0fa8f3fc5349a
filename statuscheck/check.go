package statuscheck

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Check asks systemd for the consumer units and, when logshipMetrics (an
// address or URL of the shipper's metrics) is not empty, the shipper for
// its backlog, and judges them.
func Check(ctx context.Context, th Thresholds, logshipMetrics string) Verdict {
	units, err := Discover(ctx)
	if err != nil {
		return Unreachable(err)
	}
	f := Facts{Now: time.Now(), Units: units}
	if logshipMetrics != "" {
		f.Backlog = ReadBacklog(ctx, MetricsURL(logshipMetrics))
	}
	return Judge(f, th)
}

// ParseSize reads a byte count: a number, optionally followed by K, M, G or
// T (powers of 1024, with or without "iB"/"B"); 0 is 0.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	num := strings.TrimRight(t, "KMGTiBkmgtb")
	unit := strings.ToUpper(strings.TrimSuffix(strings.TrimSuffix(t[len(num):], "B"), "i"))
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size (a number of bytes, or with K, M, G, T: 100M)", s)
	}
	shift := map[string]uint{"": 0, "K": 10, "M": 20, "G": 30, "T": 40}
	sh, ok := shift[unit]
	if !ok || (sh > 0 && n > (1<<(63-sh))-1) {
		return 0, fmt.Errorf("%q is not a size (a number of bytes, or with K, M, G, T: 100M)", s)
	}
	return n << sh, nil
}
