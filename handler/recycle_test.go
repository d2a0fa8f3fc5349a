package handler

import "testing"

func TestRecycleLimit(t *testing.T) {
	tests := []struct {
		max  int
		r    float64
		want int
	}{
		{0, 0.5, 0},
		{3, 0.99, 3},
		{9, 0.99, 9},
		{10, 0, 10},
		{10, 0.99, 10},
		{1000, 0, 1000},
		{1000, 0.5, 950},
		{10000, 0.9999, 9001},
	}
	for _, tt := range tests {
		if got := recycleLimit(tt.max, tt.r); got != tt.want {
			t.Errorf("recycleLimit(%d, %v) = %d, want %d", tt.max, tt.r, got, tt.want)
		}
	}
}
