package handler

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/wait"
)

// start starts a process, holding a slot already, after the backoff of
// failed starts and requests. On failure the slot is given back. When ctx
// ends first (the request's deadline) it returns errNoneFree at once: a
// start under way goes on for the pool, and its process, once it passed
// the handshake, goes to the idle ones.
func (pl *Pool) start(ctx context.Context) (*persistentProc, error) {
	pl.mu.Lock()
	if pl.closed {
		pl.mu.Unlock()
		<-pl.slots
		return nil, runEnd{ctxErr: context.Canceled}.failure()
	}
	gen, delay := pl.gen, time.Until(pl.nextStart)
	pl.current++
	pl.procs.Add(1)
	pl.mu.Unlock()
	if delay > 0 && !wait.Sleep(ctx, delay) {
		pl.unstart(gen)
		return nil, errNoneFree(ctx)
	}
	done := make(chan spawned, 1)
	go func() {
		p, err := spawnProc(pl.ctx, pl.exec, pl.vhost, pl.exchange, pl.wait, pl.log, pl.poke)
		p, err = pl.started(gen, p, err)
		done <- spawned{p, err}
	}()
	select {
	case r := <-done:
		if r.err == nil && ctx.Err() != nil {
			// Started as the request gave up: it serves the next one.
			pl.release(r.p)
			return nil, errNoneFree(ctx)
		}
		return r.p, r.err
	case <-ctx.Done():
		go pl.adopt(done)
		return nil, errNoneFree(ctx)
	}
}

// spawned is the end of a start: a process ready to serve, or why not.
type spawned struct {
	p   *persistentProc
	err error
}

// adopt takes the start a request gave up on: its process goes to the
// idle ones, its failure to the log.
func (pl *Pool) adopt(done <-chan spawned) {
	r := <-done
	if r.err != nil {
		if pl.ctx.Err() == nil {
			pl.log.Error().Err(r.err).Msg("cannot start a persistent handler process for a request that gave up waiting")
		}
		return
	}
	pl.release(r.p)
}

// failed counts a failed start or request of a process of generation gen
// (older generations' are not counted): the next start waits the backoff
// of the failures in a row, which an answer ends (recovered). So a handler
// whose processes start but fail every request is restarted no faster
// than one that cannot start.
func (pl *Pool) failed(gen uint64) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if gen != pl.gen {
		return
	}
	pl.failures++
	pl.lastFail = time.Now()
	pl.failing.Store(true)
	pl.nextStart = pl.lastFail.Add(pl.backoff(pl.failures))
}

// recovered ends the backoff when p answered: a process of the current
// generation started after the last failure works.
func (pl *Pool) recovered(p *persistentProc) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if p.gen == pl.gen && p.born.After(pl.lastFail) {
		pl.failures, pl.nextStart = 0, time.Time{}
		pl.failing.Store(false)
	}
}

// unstart takes back the count of a start of generation gen that did not
// happen, and its slot.
func (pl *Pool) unstart(gen uint64) {
	pl.mu.Lock()
	if gen == pl.gen {
		pl.current--
	}
	pl.mu.Unlock()
	pl.procs.Done()
	<-pl.slots
	pl.poke()
}

// started counts the start of a process of generation gen: a failed one
// (err) pushes the next start back and gives its slot back, a process that
// passed the handshake is made ready to serve.
func (pl *Pool) started(gen uint64, p *persistentProc, err error) (*persistentProc, error) {
	if err != nil {
		pl.failed(gen)
		pl.unstart(gen)
		he := &Error{Reason: "cannot start the handler", ExitStatus: -1, Err: err}
		if h, ok := err.(*Error); ok {
			he.Stderr = h.Stderr
		}
		return nil, he
	}
	p.gen, p.born = gen, time.Now()
	p.limit = recycleLimit(pl.maxReq, rand.Float64())
	pl.obs.ProcessStarted()
	pl.log.Info().Int("handler_pid", p.pid).Msg("persistent handler process started")
	return p, nil
}
