package loglevel

import (
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"
)

// Switch holds the live level of every component. Loggers made by Logger
// follow its changes at once; a disabled line is dropped before any of its
// fields is written.
type Switch struct {
	initial Levels
	levels  map[string]*level

	mu      sync.Mutex
	current Levels
}

// level is one component's live level: a zerolog.Sampler that lets through
// the events at or above it.
type level struct{ v atomic.Int32 }

// Sample reports whether an event of level lvl is written.
func (l *level) Sample(lvl zerolog.Level) bool { return lvl >= zerolog.Level(l.v.Load()) }

// NewSwitch starts every component at its level in initial.
func NewSwitch(initial Levels) *Switch {
	s := &Switch{initial: initial, levels: map[string]*level{}}
	for _, c := range Components {
		s.levels[c] = &level{}
	}
	s.Set(initial)
	return s
}

// Logger is base for component: its level follows the switch, and its
// lines carry "component". base's own level must let through the most
// verbose level wanted (the runner's is trace).
func (s *Switch) Logger(base zerolog.Logger, component string) zerolog.Logger {
	lv, ok := s.levels[component]
	if !ok {
		panic("loglevel: unknown component " + component)
	}
	return base.Level(zerolog.TraceLevel).Sample(lv).With().Str("component", component).Logger()
}

// Set makes levels the live levels.
func (s *Switch) Set(levels Levels) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.current = levels
	for c, lv := range s.levels {
		lv.v.Store(int32(levels.Of(c)))
	}
}

// Levels are the live levels.
func (s *Switch) Levels() Levels {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current
}

// Initial are the levels the switch started with.
func (s *Switch) Initial() Levels { return s.initial }

// MoreVerbose makes every component one level more verbose and returns the
// new levels.
func (s *Switch) MoreVerbose() Levels {
	s.mu.Lock()
	l := s.current.MoreVerbose()
	s.mu.Unlock()
	s.Set(l)
	return l
}

// Reset goes back to the initial levels and returns them.
func (s *Switch) Reset() Levels {
	s.Set(s.initial)
	return s.initial
}
