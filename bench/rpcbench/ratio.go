package main

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// median picks the result with the median calls/s.
func median(rs []result) result {
	sorted := append([]result(nil), rs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].PerSec < sorted[j].PerSec })
	return sorted[len(sorted)/2]
}

// medianP50 is the median of the results' p50.
func medianP50(rs []result) time.Duration {
	p := make([]time.Duration, len(rs))
	for i, r := range rs {
		p[i] = r.P50
	}
	slices.Sort(p)
	if len(p) == 0 {
		return 0
	}
	return p[len(p)/2]
}

// pairedRatio compares two scenarios measured in the same rounds: it
// returns the ratio of a's calls/s to b's in each round, in round order,
// and their median. A round's two runs follow each other, so the machine's
// drift, which hits both alike, cancels out of each ratio; the median then
// sets aside a round that a burst of noise hit on one side only.
func pairedRatio(a, b []result) (float64, []float64) {
	ratios := make([]float64, len(a))
	for i := range a {
		ratios[i] = a[i].PerSec / b[i].PerSec
	}
	sorted := slices.Sorted(slices.Values(ratios))
	n := len(sorted)
	if n == 0 {
		return 0, nil
	}
	if n%2 == 0 {
		return (sorted[n/2-1] + sorted[n/2]) / 2, ratios
	}
	return sorted[n/2], ratios
}

// ratios formats per-round ratios for the report, two decimals each.
func ratios(rs []float64) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = fmt.Sprintf("%.2f", r)
	}
	return strings.Join(s, " ")
}
