package consumer

import (
	"context"
	"errors"
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Locks and outcomes across hosts (virtual_hosts.<vhost>.locks_across_hosts):
// the session opens a connection for leases (lease_conn.go) and a link to
// the outcomes stream (outcome_stream.go); a request takes its lease after
// its in-process lock, a redelivered one then reads the stream up to a
// marker of its own, and every finished outcome is published to the
// stream before its request is acknowledged.

// openAcrossHosts opens the session's lease connection, on the session's
// node, and its link to the outcomes stream, and starts reading the
// stream into the outcomes cache.
func (c *Consumer) openAcrossHosts(s *session) error {
	conn, err := c.dialNodeFor(s.addr, "leases")
	if err != nil {
		return fmt.Errorf("lease connection: %w", err)
	}
	s.lease = newLeaseConn(conn, c.log)
	s.leaseClosed = conn.NotifyClose(make(chan *amqp.Error, 1))
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

// takeLease takes the lease on lock key across hosts, trying again after
// a short delay while another instance holds it, until it is taken or ctx
// ends. It returns the function that gives it up.
func (c *Consumer) takeLease(ctx context.Context, log *requestLog, in incoming, key string) (func(), error) {
	q := leaseQueue(c.vh.Queue, key)
	holder := leaseHolder{exchange: in.exchange, correlationID: in.correlationID}
	for n := 1; ; n++ {
		if s := c.live(); s != nil && s.lease != nil {
			ok, err := s.lease.tryAcquire(q, holder)
			if ok {
				return func() {
					if err := s.lease.release(q); err != nil && s.alive() {
						log.Warn().Err(err).Str("lease", q).Msg("cannot give up the lease; it ends with its connection")
					}
				}, nil
			}
			if err != nil && s.alive() {
				log.Warn().Err(err).Str("lease", q).Msg("cannot take the lease; trying again")
			} else if n == 1 {
				log.Debug().Str("lease", q).Msg("another consumer instance holds the lock value; waiting")
			}
		}
		t := time.NewTimer(leaseDelay(n))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
}

// recall answers a redelivered request, whose lease this instance now
// holds, from the outcome another instance published to the outcomes
// stream, if any: it reads the stream up to a marker of its own first, so
// that every outcome confirmed before is known.
func (c *Consumer) recall(ctx context.Context, in incoming) ([]byte, bool, error) {
	s := c.live()
	if s == nil || s.stream == nil {
		return nil, false, errors.New("read the outcomes stream: not connected")
	}
	if err := s.stream.sync(ctx, s.dead); err != nil {
		return nil, false, err
	}
	reply, ok := c.outcomes.learnedFor(outcomeKey(in.exchange, in.correlationID, in.body))
	return reply, ok, nil
}

// shareOutcome publishes a finished outcome to the outcomes stream and
// waits for the broker's confirmation, so that the request, if delivered
// again to any instance, is answered from it.
func (c *Consumer) shareOutcome(log *requestLog, key string, reply []byte) {
	if key == "" || reply == nil {
		return
	}
	s := c.live()
	if s == nil || s.stream == nil {
		log.Warn().Msg("not connected: the outcome is not in the outcomes stream; were the request delivered again to another instance, it would run again")
		return
	}
	if err := s.stream.publishOutcome(context.Background(), key, reply); err != nil {
		log.Warn().Err(err).Msg("the outcome is not in the outcomes stream; were the request delivered again to another instance, it would run again")
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
