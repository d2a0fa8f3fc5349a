package runner

import "runtime/debug"

// DefaultGCPercent is the garbage collector's target the consumer runs
// with when GOGC is not set: half the collections of Go's default (100),
// for a few MB more heap under load. Every request allocates a little
// (decoding, logging), and at a few thousand requests a second the
// collector's share of the CPU halves.
const DefaultGCPercent = 200

// tuneGC sets the collector's target to DefaultGCPercent unless the
// operator set GOGC (which the Go runtime has applied already), and
// returns the target in force.
func tuneGC(getenv func(string) string) int {
	if getenv("GOGC") != "" {
		p := debug.SetGCPercent(-1) // read it, and put it back
		debug.SetGCPercent(p)
		return p
	}
	debug.SetGCPercent(DefaultGCPercent)
	return DefaultGCPercent
}
