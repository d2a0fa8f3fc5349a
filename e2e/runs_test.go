package e2e

import (
	"maps"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// handlerRun is one run of the run recorder handler (see runRecorder): the
// request it ran, where, and when. End is zero for a run that never
// finished (its host was killed while it ran).
type handlerRun struct {
	ID, Lock, Host string
	N              int
	Start, End     time.Time
}

// parseRuns reads the recorder's lines, "start|end|crash <correlation id>
// <n> <lock value> <host> <handler pid> <epoch seconds.micros>", into runs
// (a start and the end of the same handler process) and crashes (runs of
// a poison request). Lines it cannot read are left out.
func parseRuns(text string) (runs []handlerRun, crashes int) {
	open := map[string]int{} // host/pid -> index in runs
	for _, l := range strings.Split(text, "\n") {
		f := strings.Fields(l)
		if len(f) != 7 {
			continue
		}
		n, err := strconv.Atoi(f[2])
		if err != nil {
			continue
		}
		at, err := parseEpoch(f[6])
		if err != nil {
			continue
		}
		key := f[4] + "/" + f[5]
		switch f[0] {
		case "start":
			open[key] = len(runs)
			runs = append(runs, handlerRun{ID: f[1], N: n, Lock: f[3], Host: f[4], Start: at})
		case "end":
			if i, ok := open[key]; ok {
				runs[i].End = at
				delete(open, key)
			}
		case "crash":
			crashes++
		}
	}
	return runs, crashes
}

// parseEpoch reads bash's $EPOCHREALTIME, seconds and microseconds.
func parseEpoch(s string) (time.Time, error) {
	sec, frac, _ := strings.Cut(s, ".")
	secs, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	var micros int64
	if frac != "" {
		frac = (frac + "000000")[:6]
		if micros, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return time.Time{}, err
		}
	}
	return time.Unix(secs, micros*1000), nil
}

// overlaps counts the pairs of runs of the same lock value that ran at
// once: across two hosts (cross) and on one host (same). A run without an
// end is taken to run until cut: for a run on a killed host, when it was
// killed (cut[host]); otherwise for ever.
func overlaps(runs []handlerRun, cut map[string]time.Time) (cross, same int) {
	end := func(r handlerRun) time.Time {
		if !r.End.IsZero() {
			return r.End
		}
		if at, ok := cut[r.Host]; ok {
			return at
		}
		return time.Unix(1<<40, 0)
	}
	byLock := map[string][]handlerRun{}
	for _, r := range runs {
		byLock[r.Lock] = append(byLock[r.Lock], r)
	}
	for _, rs := range byLock {
		sort.Slice(rs, func(i, j int) bool { return rs[i].Start.Before(rs[j].Start) })
		for i := range rs {
			for j := i + 1; j < len(rs) && rs[j].Start.Before(end(rs[i])); j++ {
				if rs[i].Host != rs[j].Host {
					cross++
				} else {
					same++
				}
			}
		}
	}
	return cross, same
}

// rerunCounts counts the requests that ran more than once, by how their
// first run ended.
type rerunCounts struct {
	// Requests and Runs are the requests that ran and their runs.
	Requests, Runs int
	// Twice is the number of requests run more than once.
	Twice int
	// FinishedRecorded ran again although their first run had finished
	// and its outcome had been recorded before the second run started:
	// what must never happen.
	FinishedRecorded int
	// FinishedUnrecorded ran again after a first run that finished, with
	// no sign its outcome was recorded before the second run started (its
	// host, or its broker node, died between the handler's end and the
	// outcome's confirmation): at least once.
	FinishedUnrecorded int
	// Interrupted ran again after a first run that never finished.
	Interrupted int
	// Suspect are the first and second runs of the requests that ran
	// again after a first run that finished (FinishedRecorded and
	// FinishedUnrecorded), in that order, by request number.
	Suspect [][2]handlerRun
}

// countReruns groups runs by request number and counts the reruns;
// recordedBefore tells whether a finished first run's outcome was
// recorded before the second run started.
func countReruns(runs []handlerRun, recordedBefore func(first, second handlerRun) bool) rerunCounts {
	byN := map[int][]handlerRun{}
	for _, r := range runs {
		byN[r.N] = append(byN[r.N], r)
	}
	c := rerunCounts{Requests: len(byN), Runs: len(runs)}
	for _, n := range slices.Sorted(maps.Keys(byN)) { // Suspect in request order
		rs := byN[n]
		if len(rs) < 2 {
			continue
		}
		c.Twice++
		sort.Slice(rs, func(i, j int) bool { return rs[i].Start.Before(rs[j].Start) })
		switch {
		case rs[0].End.IsZero():
			c.Interrupted++
		case recordedBefore(rs[0], rs[1]):
			c.FinishedRecorded++
			c.Suspect = append(c.Suspect, [2]handlerRun{rs[0], rs[1]})
		default:
			c.FinishedUnrecorded++
			c.Suspect = append(c.Suspect, [2]handlerRun{rs[0], rs[1]})
		}
	}
	return c
}

func TestParseRunsAndOverlaps(t *testing.T) {
	text := `start c1 1 L1 hostA 10 100.000000
start c2 2 L1 hostB 11 100.002000
end c1 1 L1 hostA 10 100.005000
end c2 2 L1 hostB 11 100.007000
start c3 3 L1 hostA 12 100.007500
end c3 3 L1 hostA 12 100.009
start c4 4 L2 hostA 13 100.0
start c5 5 L2 hostA 14 100.001
end c5 5 L2 hostA 14 100.002
start c6 6 L2 hostB 15 100.010
crash c7 7 P hostB 16 100.5
garbage line
`
	runs, crashes := parseRuns(text)
	if len(runs) != 6 || crashes != 1 {
		t.Fatalf("parsed %d runs, %d crashes: %+v", len(runs), crashes, runs)
	}
	tests := []struct {
		name        string
		cut         map[string]time.Time
		cross, same int
	}{
		// c1/c2 overlap across hosts; c4 (open) overlaps c5 and c6.
		{"open run runs for ever", nil, 2, 1},
		// hostA killed at 100.0015: c4 ends then, before c6.
		{"open run cut by its host's kill", map[string]time.Time{"hostA": time.Unix(100, 1_500_000)}, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cross, same := overlaps(runs, tt.cut)
			if cross != tt.cross || same != tt.same {
				t.Errorf("overlaps = %d cross, %d same; want %d, %d", cross, same, tt.cross, tt.same)
			}
		})
	}
}

func TestCountReruns(t *testing.T) {
	at := func(ms int) time.Time { return time.Unix(100, int64(ms)*int64(time.Millisecond)) }
	runs := []handlerRun{
		{ID: "a", N: 1, Host: "hostA", Start: at(1), End: at(2)},
		{ID: "b", N: 2, Host: "hostA", Start: at(1), End: at(2)}, // finished, recorded, ran again
		{ID: "b", N: 2, Host: "hostB", Start: at(5), End: at(6)},
		{ID: "c", N: 3, Host: "hostA", Start: at(1), End: at(2)}, // finished, not recorded
		{ID: "c", N: 3, Host: "hostB", Start: at(5), End: at(6)},
		{ID: "d", N: 4, Host: "hostB", Start: at(7), End: at(8)}, // interrupted (listed second)
		{ID: "d", N: 4, Host: "hostA", Start: at(3)},
	}
	got := countReruns(runs, func(first, _ handlerRun) bool { return first.ID == "b" })
	want := rerunCounts{Requests: 4, Runs: 7, Twice: 3, FinishedRecorded: 1, FinishedUnrecorded: 1, Interrupted: 1,
		Suspect: [][2]handlerRun{{runs[1], runs[2]}, {runs[3], runs[4]}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("countReruns = %+v, want %+v", got, want)
	}
}
