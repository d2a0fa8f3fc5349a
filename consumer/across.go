package consumer

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Locks and outcomes across hosts (virtual_hosts.<vhost>.locks_across_hosts):
// the consumer keeps a connection for leases, on another broker node than
// its session's when there are several (lease_conn.go, leaseNodes), and
// each session opens a link to the outcomes stream (outcome_stream.go); a
// request takes its lease after its in-process lock, one delivered again
// or one that waited for another holder then reads the stream up to a
// marker of its own (answeredElsewhere), and every finished outcome is
// published to the stream before its request is acknowledged and its
// lease given up.

// openAcrossHosts makes sure a lease connection is open for the session
// (leaseConnFor), and opens the session's link to the outcomes stream, reading the
// stream into the outcomes cache.
func (c *Consumer) openAcrossHosts(s *session) error {
	if _, err := c.leaseConnFor(s); err != nil {
		return err
	}
	st, err := openStream(s.conn, c.vh.Queue, s.tag+"-outcomes", c.streamNext.Load())
	if err != nil {
		return err
	}
	s.stream = st
	learn := c.outcomes.learn
	if hook := c.testHookLearn; hook != nil {
		learn = func(key string, reply []byte) {
			hook()
			c.outcomes.learn(key, reply)
		}
	}
	go st.read(learn, func(offset int64) { c.streamNext.Store(offset + 1) })
	return nil
}

// leaseConnFor is the lease connection for the requests of session s:
// the current one while it is open on another node than s's (or on the
// only node), else a new one on the first of leaseNodes that takes it.
func (c *Consumer) leaseConnFor(s *session) (*leaseConn, error) {
	addrs := c.nodes.addrs
	if l := c.leases.current(); l != nil && !l.conn.IsClosed() && (l.addr != s.addr || len(addrs) == 1) {
		return l, nil
	}
	var errs []error
	for _, addr := range leaseNodes(addrs, s.addr) {
		l, err := c.leases.on(addr, c.dialLeases)
		if err == nil {
			return l, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// dialLeases opens a lease connection to the broker node at addr.
func (c *Consumer) dialLeases(addr string) (*leaseConn, error) {
	conn, err := c.dialNodeFor(addr, "leases")
	if err != nil {
		return nil, fmt.Errorf("lease connection: %w", err)
	}
	return newLeaseConn(conn, addr, c.log), nil
}

// takeLease takes the lease on lock key across hosts, trying again after
// a short delay while another instance holds it, until it is taken or ctx
// ends. It returns the function that gives it up, and whether it had to
// wait for another holder.
func (c *Consumer) takeLease(ctx context.Context, log *requestLog, in incoming, key string) (release func(), waited bool, err error) {
	q := leaseQueue(c.vh.Queue, key)
	holder := leaseHolder{exchange: in.exchange, correlationID: in.correlationID}
	for n := 1; ; n++ {
		if s := c.live(); s != nil {
			l, err := c.leaseConnFor(s)
			ok := false
			if err == nil {
				ok, err = l.tryAcquire(q, holder)
			}
			if ok {
				return func() {
					if err := l.release(q); err != nil && !l.conn.IsClosed() {
						log.Warn().Err(err).Str("lease", q).Msg("cannot give up the lease; it ends with its connection")
					}
				}, n > 1, nil
			}
			if err != nil && s.alive() && n%100 == 1 { // every 10 s or so
				log.Warn().Err(err).Str("lease", q).Int("attempt", n).Msg("cannot take the lease; trying again")
			} else if err == nil && n == 1 {
				log.Debug().Str("lease", q).Msg("another consumer instance holds the lock value; waiting")
			}
		}
		if !waitRetry(ctx, n) {
			return nil, n > 1, ctx.Err()
		}
	}
}

// answeredElsewhere decides, once a request holds its lease, whether
// another instance ran it already, so that it must not run here: done is
// true with the answer to give then. A request is answered from the
// outcome another instance published when that outcome is known already,
// or, for a request delivered again or one whose lease another instance
// held first, after reading the outcomes stream up to a marker (recall).
// A request whose channel closed while it waited is not run: the broker
// has given it back to the queue, and its copy is answered wherever it
// goes, from the outcome of a run that finished or by running it.
func (c *Consumer) answeredElsewhere(stopping context.Context, log *requestLog, in incoming, contended bool) (answer, bool) {
	if reply, ok := c.outcomes.learnedFor(in.key); ok {
		log.Info().Bool("redelivered", in.redelivered).Msg("request run by another consumer instance while it waited here: answering from the outcome another consumer instance recorded, not running the handler again")
		return answer{fate: recalled, reply: reply}, true
	}
	if in.channelAlive != nil && !in.channelAlive() {
		log.Info().Msg("the request's channel closed while it waited for its lock: not run here, the broker delivers it again")
		return answer{fate: requeued}, true
	}
	if !in.redelivered && !contended {
		return answer{}, false
	}
	reply, ok, err := c.recall(stopping, in)
	switch {
	case ok:
		log.Info().Bool("redelivered", in.redelivered).Msg("request run by another consumer instance: answering from the outcome another consumer instance recorded, not running the handler again")
		return answer{fate: recalled, reply: reply}, true
	case err != nil && stopping.Err() != nil:
		log.Info().Msg("consumer stopping before the request started: returned to the queue")
		return answer{fate: requeued}, true
	case err != nil:
		log.Warn().Err(err).Msg("cannot read the outcomes stream: running the request (were it finished elsewhere, it runs again)")
	}
	return answer{}, false
}

// recall answers a redelivered request, whose lease this instance now
// holds, from the outcome another instance published to the outcomes
// stream, if any: it reads the stream up to a marker of its own first, so
// that every outcome confirmed before is known. While the consumer
// reconnects it waits for the new connection (see onStream).
func (c *Consumer) recall(ctx context.Context, in incoming) ([]byte, bool, error) {
	err := c.onStream(ctx, "read the outcomes stream: not connected", func(s *session) error {
		return s.stream.sync(ctx, s.dead)
	})
	if err != nil {
		return nil, false, err
	}
	reply, ok := c.outcomes.learnedFor(in.key)
	return reply, ok, nil
}

// shareOutcome publishes a finished outcome to the outcomes stream and
// waits for the broker's confirmation, so that the request, if delivered
// again to any instance, is answered from it. While the consumer is
// reconnecting it waits for the new connection (see onStream), holding the
// run's locks, so that a copy of the request delivered to another instance
// waits too.
func (c *Consumer) shareOutcome(stopping context.Context, log *requestLog, key string, reply []byte) {
	if key == "" || reply == nil {
		return
	}
	err := c.onStream(stopping, "not connected", func(s *session) error {
		return s.stream.publishOutcome(context.Background(), key, reply)
	})
	if err != nil {
		log.Warn().Err(err).Msg("the outcome is not in the outcomes stream; were the request delivered again to another instance, it would run again")
	}
}

// onStream calls do with the live session once it has an outcomes stream,
// and returns its error: nil, or do's error on a connection still alive.
// When there is no such session, or do failed because the connection was
// lost, it tries again after a short delay, while the consumer reconnects,
// for streamPublishTimeout at most, or until ctx ends; it then returns the
// last error (notConnected when there was no session).
func (c *Consumer) onStream(ctx context.Context, notConnected string, do func(s *session) error) error {
	give := time.Now().Add(streamPublishTimeout)
	for n := 1; ; n++ {
		var err error
		if s := c.live(); s != nil && s.stream != nil {
			if err = do(s); err == nil || s.alive() {
				return err
			}
		} else {
			err = errors.New(notConnected)
		}
		if ctx.Err() != nil || time.Now().After(give) {
			return err
		}
		waitRetry(ctx, n) // the loop's check ends it with ctx
	}
}

// heldLocks are the locks (in-process, lease) a request holds until its
// outcome is recorded. It holds two at most, without allocating.
type heldLocks struct {
	release [2]func()
	n       int
}

// add holds one more lock, given the function that releases it.
func (h *heldLocks) add(release func()) {
	h.release[h.n] = release
	h.n++
}

// releaseAll releases the locks, the last taken first.
func (h *heldLocks) releaseAll() {
	for ; h.n > 0; h.n-- {
		h.release[h.n-1]()
		h.release[h.n-1] = nil
	}
}
