package handler

// recycleLimit is how many requests one persistent process serves before it
// is replaced: max less up to a tenth of it, by r in [0, 1), so that
// processes started together are not all replaced at once. 0 (never)
// stays 0; below 10 it is exact.
func recycleLimit(max int, r float64) int {
	if max <= 0 {
		return 0
	}
	return max - int(r*float64(max/10))
}
