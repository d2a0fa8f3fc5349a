package main

import (
	"os"
	"path/filepath"
	"testing"
)

// Every scenario at every number of callers: the chart renders.
func TestWriteChart(t *testing.T) {
	var rs []result
	for i, name := range defaultScenarios {
		for _, n := range []int{1, 8, 64} {
			rs = append(rs, result{Scenario: name, Callers: n, PerSec: float64(100 * (i + n))})
		}
	}
	path := filepath.Join(t.TempDir(), "chart.png")
	if err := writeChart(path, rs, []int{1, 8, 64}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Fatalf("no chart: %v", err)
	}
}
