package runner

import "testing"

func TestRelayThreads(t *testing.T) {
	tests := []struct {
		name       string
		relaysOnly bool
		env        string
		procs      int
		want       int
	}{
		{"a Go or one-shot handler keeps every CPU", false, "", 8, 0},
		{"relaying on 2 CPUs: one thread", true, "", 2, 1},
		{"relaying on 1 CPU: as it is", true, "", 1, 0},
		{"relaying on 4 CPUs: one thread", true, "", 4, 1},
		{"relaying on 8 CPUs: a quarter", true, "", 8, 2},
		{"relaying on 64 CPUs: a quarter", true, "", 64, 16},
		{"the operator's GOMAXPROCS wins", true, "2", 2, 0},
		{"the operator's GOMAXPROCS wins, even without relaying", false, "1", 8, 0},
		{"a GOMAXPROCS the runtime ignores: 0", true, "0", 8, 2},
		{"a GOMAXPROCS the runtime ignores: not a number", true, "all", 8, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := relayThreads(tt.relaysOnly, tt.env, tt.procs); got != tt.want {
				t.Errorf("relayThreads(%v, %q, %d) = %d, want %d", tt.relaysOnly, tt.env, tt.procs, got, tt.want)
			}
		})
	}
}
