package handler

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/contract"
)

// DefaultGrowAfter is how long a request that finds every process of its
// pool busy waits for one to be free before it starts another: long
// enough for a process of a fast handler to finish its request even on a
// loaded host, so that a few busy processes serve many callers (each
// wake-up of a process costs more CPU than its request), and short beside
// the run of a slow handler, which gets a process per request.
const DefaultGrowAfter = 50 * time.Millisecond

// Pool is a persistent executable handler: long-lived processes of one
// exchange's handler, each serving one request at a time over the
// persistent handler protocol (docs/handlers.md). Processes are started on
// demand, up to max at once, when a request has waited DefaultGrowAfter
// for a free one; one is kept warm. A process that fails is
// killed and replaced; after failed starts or failed requests in a row
// the next start waits a backoff; and a process is recycled after its
// contract's max_requests_per_process.
type Pool struct {
	exec     *Exec
	vhost    string
	exchange string
	log      zerolog.Logger
	backoff  func(failures int) time.Duration // the wait before the next start
	maxReq   int
	wait     time.Duration // the longest handshake wait
	// growAfter is how long a request waits for an idle process before
	// it starts another (DefaultGrowAfter; 0: at once).
	growAfter time.Duration
	obs       Observer // told of processes started, ended, restarted

	idle    chan *persistentProc // processes waiting for a request
	waiting atomic.Int32         // requests waiting for an idle process
	failing atomic.Bool          // failures > 0: the next answer resets them
	slots   chan struct{}        // a token per process alive or starting: at most max
	wake    chan struct{}        // tells the keeper to check for a warm process
	procs   sync.WaitGroup       // processes started and not yet swept

	ctx    context.Context // ends when the pool is closed
	cancel context.CancelFunc

	mu        sync.Mutex
	gen       uint64    // bumped by Reload: older processes are retired
	current   int       // processes of gen alive or starting
	closed    bool      // Close was called
	failures  int       // starts and requests that failed in a row (see failed)
	lastFail  time.Time // when the last of them failed
	nextStart time.Time // no start before this (backoff)
}

// NewPool makes the pool of e for exchange in vhost, at most max
// processes; backoff is the wait before a start after that many failed
// ones in a row. Open starts it.
func NewPool(e *Exec, vhost, exchange string, max int, backoff func(failures int) time.Duration, log zerolog.Logger) *Pool {
	if max < 1 {
		max = 1
	}
	handshake := min(e.contract.Timeout(), maxHandshakeWait)
	ctx, cancel := context.WithCancel(context.Background())
	return &Pool{
		exec: e, vhost: vhost, exchange: exchange,
		log:     log.With().Str("exchange", exchange).Logger(),
		backoff: backoff, maxReq: e.contract.MaxRequests(), wait: handshake, growAfter: DefaultGrowAfter,
		idle: make(chan *persistentProc, max), slots: make(chan struct{}, max), wake: make(chan struct{}, 1),
		ctx: ctx, cancel: cancel, obs: noObserver{},
	}
}

// Open starts the warm process, which must pass the handshake, and the
// keeper that replaces it. When it fails the pool is closed.
func (pl *Pool) Open() error {
	pl.slots <- struct{}{}
	p, err := pl.start(pl.ctx)
	if err != nil {
		pl.Close()
		if inner := errors.Unwrap(err); inner != nil {
			return inner // why it cannot start, without "cannot start the handler"
		}
		return err
	}
	pl.release(p)
	go pl.keep()
	return nil
}

// Contract implements Handler.
func (pl *Pool) Contract() *contract.Contract { return pl.exec.contract }

// Handle implements Handler: it sends the request to an idle process (one
// started for it when none is idle) and reads its response. A process that
// fails (exits, breaks the protocol, times out) is killed and replaced.
func (pl *Pool) Handle(ctx context.Context, call *Call) (json.RawMessage, error) {
	if call.Redelivered {
		KillOrphaned(call.VirtualHost, Logger(ctx))
	}
	p, err := pl.acquire(ctx)
	if err != nil {
		return nil, err
	}
	raw, later, he := p.roundTrip(ctx, call)
	if he != nil {
		pl.failed(p.gen) // before discard wakes the keeper to replace it
		pl.discard(p)
		he.Stderr = p.stderr.tail()
		return nil, he
	}
	if pl.failing.Load() {
		pl.recovered(p)
	}
	pl.release(p)
	if later != nil {
		return nil, later
	}
	return raw, nil
}

// stopsWithContext marks the pool for StopsWithContext: waiting for a
// process, for one to start (its handshake; the start goes on for the
// pool) and a round trip (the process killed) all end when ctx ends.
func (pl *Pool) stopsWithContext() {}

// acquire takes an idle process, or starts one when there is room and
// none became idle within growAfter.
func (pl *Pool) acquire(ctx context.Context) (*persistentProc, error) {
	for {
		var p *persistentProc
		select {
		case p = <-pl.idle:
		default:
			var start bool
			var err error
			if p, start, err = pl.awaitProc(ctx); err != nil {
				return nil, err
			}
			if start {
				return pl.start(ctx)
			}
		}
		if pl.usable(p) {
			return p, nil
		}
	}
}

// awaitProc waits for an idle process, counted among the requests waiting (see
// release); start is true, with a slot taken, when it should start one.
func (pl *Pool) awaitProc(ctx context.Context) (p *persistentProc, start bool, err error) {
	pl.waiting.Add(1)
	defer pl.waiting.Add(-1)
	if p, err = pl.waitIdle(ctx); err != nil || p != nil {
		return p, false, err
	}
	select {
	case p = <-pl.idle:
		return p, false, nil
	case pl.slots <- struct{}{}:
		return nil, true, nil
	case <-ctx.Done():
		return nil, false, errNoneFree(ctx)
	}
}

// waitIdle waits up to growAfter for a process to become idle, when some
// are alive: a fast handler's requests are then served by the few
// processes that keep up with them, not by one process each. It returns
// nil when none became idle (or none is alive).
func (pl *Pool) waitIdle(ctx context.Context) (*persistentProc, error) {
	if pl.growAfter <= 0 || len(pl.slots) == 0 {
		return nil, nil
	}
	t := time.NewTimer(pl.growAfter)
	defer t.Stop()
	select {
	case p := <-pl.idle:
		return p, nil
	case <-t.C:
		return nil, nil
	case <-ctx.Done():
		return nil, errNoneFree(ctx)
	}
}

// errNoneFree is the failure of a request whose context ended while it
// waited for a process.
func errNoneFree(ctx context.Context) error {
	return &Error{Reason: "no handler process was free in time", ExitStatus: -1, Err: ctx.Err()}
}

// usable checks an idle process: one of an older generation is retired, one
// that exited or wrote outside a request is discarded.
func (pl *Pool) usable(p *persistentProc) bool {
	pl.mu.Lock()
	old := p.gen != pl.gen
	pl.mu.Unlock()
	switch {
	case old:
		go pl.retire(p)
		return false
	case p.stale():
		pl.log.Warn().Int("handler_pid", p.pid).Msg("persistent handler process exited or wrote output outside a request while idle; replacing it")
		go pl.discard(p)
		return false
	}
	return true
}

// release puts a process that answered back to work, or retires it when
// it served its number of requests, is of an older generation, or the pool
// is closed.
func (pl *Pool) release(p *persistentProc) {
	pl.mu.Lock()
	recycle := pl.closed || p.gen != pl.gen || (p.limit > 0 && p.served >= p.limit)
	if !recycle {
		pl.idle <- p // never blocks: a slot per process
	}
	pl.mu.Unlock()
	switch {
	case recycle:
		go pl.retire(p)
	case pl.waiting.Load() > 0:
		// A request waits for a process: it runs first, so that the
		// process goes on serving while this request is answered.
		runtime.Gosched()
	}
}

// checkIdle replaces the idle processes that exited or wrote outside a
// request, so that the keeper knows when the warm one is gone.
func (pl *Pool) checkIdle() {
	for n := len(pl.idle); n > 0; n-- {
		var p *persistentProc
		select {
		case p = <-pl.idle:
		default:
			return
		}
		if !pl.usable(p) {
			continue
		}
		pl.mu.Lock()
		if pl.closed {
			pl.mu.Unlock()
			go pl.retire(p)
			continue
		}
		pl.idle <- p
		pl.mu.Unlock()
	}
}

// retire ends a healthy process: stdin closed, then killed after the grace.
func (pl *Pool) retire(p *persistentProc) {
	pl.leave(p)
	p.retire(pl.log)
	pl.reaped()
}

// discard kills a failed process and what it left.
func (pl *Pool) discard(p *persistentProc) {
	pl.leave(p)
	pl.obs.HandlerRestarted()
	p.kill()
	p.sweep(pl.log)
	pl.reaped()
}

// leave counts a process out of its generation and wakes the keeper.
func (pl *Pool) leave(p *persistentProc) {
	pl.mu.Lock()
	if p.gen == pl.gen {
		pl.current--
	}
	pl.mu.Unlock()
	pl.poke()
}

// reaped frees the slot of a process that is gone.
func (pl *Pool) reaped() {
	pl.obs.ProcessEnded()
	<-pl.slots
	pl.procs.Done()
}

func (pl *Pool) poke() {
	select {
	case pl.wake <- struct{}{}:
	default:
	}
}

// keep keeps a process of the current generation warm until the pool is
// closed: when the last one leaves, it starts another (with backoff after
// failed starts and requests).
func (pl *Pool) keep() {
	for {
		select {
		case <-pl.ctx.Done():
			return
		case <-pl.wake:
		}
		pl.checkIdle()
		pl.mu.Lock()
		need := !pl.closed && pl.current == 0
		pl.mu.Unlock()
		if !need {
			continue
		}
		select {
		case pl.slots <- struct{}{}:
		case <-pl.ctx.Done():
			return
		}
		p, err := pl.start(pl.ctx)
		if err != nil {
			if pl.ctx.Err() == nil {
				pl.mu.Lock()
				next := time.Until(pl.nextStart)
				pl.mu.Unlock()
				pl.log.Error().Err(err).Dur("next_start_in", next).Msg("cannot start a persistent handler process; retrying")
			}
			continue
		}
		pl.release(p)
	}
}

// Reload makes the pool serve new requests with new processes: idle ones
// are retired now, busy ones after their request, and a new one is
// started warm.
func (pl *Pool) Reload() {
	pl.mu.Lock()
	pl.gen++
	pl.current = 0
	pl.failures, pl.nextStart = 0, time.Time{}
	pl.failing.Store(false)
	pl.mu.Unlock()
	pl.retireIdle()
	pl.poke()
}

func (pl *Pool) retireIdle() {
	for {
		select {
		case p := <-pl.idle:
			go pl.retire(p)
		default:
			return
		}
	}
}

// Close implements Handler: it retires every process (busy ones after
// their request) and waits until they are gone, at most retireGrace and a
// little. It is safe to call more than once.
func (pl *Pool) Close() error {
	pl.mu.Lock()
	if pl.closed {
		pl.mu.Unlock()
		return nil
	}
	pl.closed = true
	pl.mu.Unlock()
	pl.cancel()
	pl.retireIdle()
	done := make(chan struct{})
	go func() {
		pl.procs.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-time.After(retireGrace + 2*pipeGrace + time.Second):
		return errors.New("persistent handler processes still running after the pool was closed")
	}
}
