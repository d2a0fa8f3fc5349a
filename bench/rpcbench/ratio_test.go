package main

import (
	"math"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"
)

func perSec(v ...float64) []result {
	rs := make([]result, len(v))
	for i, x := range v {
		rs[i] = result{PerSec: x}
	}
	return rs
}

func TestPairedRatio(t *testing.T) {
	for _, tc := range []struct {
		name   string
		a, b   []result
		want   float64
		ratios []float64
	}{
		{"odd", perSec(90, 100, 45), perSec(100, 100, 50), 0.9, []float64{0.9, 1, 0.9}},
		{"even", perSec(80, 90, 100, 50), perSec(100, 100, 100, 100), 0.85, []float64{0.8, 0.9, 1, 0.5}},
		// The machine halves its speed between the two runs of the third
		// round: the ratio of the medians (45/100) is off, the paired
		// ratio is not.
		{"drift", perSec(90, 90, 45, 45, 45), perSec(100, 100, 100, 50, 50), 0.9, []float64{0.9, 0.9, 0.45, 0.9, 0.9}},
		{"none", nil, nil, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ratios := pairedRatio(tc.a, tc.b)
			if math.Abs(got-tc.want) > 1e-9 || !slices.Equal(ratios, tc.ratios) {
				t.Fatalf("pairedRatio = %v, %v; want %v, %v", got, ratios, tc.want, tc.ratios)
			}
		})
	}
}

func TestMedian(t *testing.T) {
	if got := median(perSec(3, 1, 2)).PerSec; got != 2 {
		t.Fatalf("median = %v, want 2", got)
	}
	p50 := []result{{P50: 3 * time.Millisecond}, {P50: time.Millisecond}, {P50: 2 * time.Millisecond}}
	if got := medianP50(p50); got != 2*time.Millisecond {
		t.Fatalf("medianP50 = %v, want 2ms", got)
	}
	if got := medianP50(nil); got != 0 {
		t.Fatalf("medianP50 of none = %v, want 0", got)
	}
}

// The broker of the benchmark is the one listening on 5672, whichever other
// RabbitMQ nodes run beside it.
func TestBrokerPID(t *testing.T) {
	pid := brokerPID()
	if pid == 0 {
		t.Fatal("no beam.smp listening on 5672")
	}
	if cpuTicks(pid) < 0 {
		t.Fatalf("no CPU time for the broker %d", pid)
	}
}

// A server's CPU time counts its handler processes: a child that burns CPU
// and exits is in its parent's tree time, not in the parent's own.
func TestTreeTicks(t *testing.T) {
	self := os.Getpid()
	before, ownBefore := treeTicks(self), cpuTicks(self)
	cmd := exec.Command("sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	child := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	after, ownAfter := treeTicks(self), cpuTicks(self)
	if got, want := after-before, int64(child.Seconds()*clockTicks)-1; got < want {
		t.Fatalf("tree time grew by %d ticks, the child used %v (%d ticks)", got, child, want+1)
	}
	if ownAfter-ownBefore >= int64(child.Seconds()*clockTicks) {
		t.Fatalf("own time grew by %d ticks with the child's %v: not the process's own", ownAfter-ownBefore, child)
	}
}

func TestCounted(t *testing.T) {
	from := time.Unix(100, 0)
	end := from.Add(5 * time.Second)
	for _, tc := range []struct {
		name string
		done time.Time
		want bool
	}{
		{"answered in the warm-up", from.Add(-time.Millisecond), false},
		{"answered as the window opens", from, true},
		{"answered in the window (started in the warm-up or not)", from.Add(4 * time.Second), true},
		{"answered at the end", end, false},
		{"answered after the end", end.Add(time.Second), false},
	} {
		if got := counted(tc.done, from, end); got != tc.want {
			t.Errorf("%s: counted = %v, want %v", tc.name, got, tc.want)
		}
	}
}
