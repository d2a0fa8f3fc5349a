package runner

import (
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	before := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(before) })
	for _, tc := range []struct {
		gogc string
		want int
	}{
		{"", DefaultGCPercent},
		{"100", 100}, // the runtime applied GOGC=100 at start: left as it is
	} {
		debug.SetGCPercent(100)
		got := tuneGC(func(k string) string {
			if k == "GOGC" {
				return tc.gogc
			}
			return ""
		})
		if got != tc.want {
			t.Errorf("GOGC=%q: tuneGC = %d, want %d", tc.gogc, got, tc.want)
		}
		if now := debug.SetGCPercent(100); now != tc.want {
			t.Errorf("GOGC=%q: GC percent in force %d, want %d", tc.gogc, now, tc.want)
		}
	}
}
