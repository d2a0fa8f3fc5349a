package handler

// Observer is told what becomes of a pool's processes, for metrics. Its
// methods are called from several goroutines and must not block.
type Observer interface {
	// ProcessStarted: a process started (and passed its handshake).
	ProcessStarted()
	// ProcessEnded: a process is gone.
	ProcessEnded()
	// HandlerRestarted: a failed process (it exited, timed out or broke
	// the protocol) was killed, to be replaced.
	HandlerRestarted()
}

// noObserver is the observer of a pool that has none.
type noObserver struct{}

func (noObserver) ProcessStarted()   {}
func (noObserver) ProcessEnded()     {}
func (noObserver) HandlerRestarted() {}

// Observe makes o the pool's observer; it must be called before Open.
func (pl *Pool) Observe(o Observer) {
	if o != nil {
		pl.obs = o
	}
}
