package consumer

import (
	"fmt"
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/rs/zerolog"
)

// leaseConn is a connection leases are taken on (see lease.go). Its
// channels are reused: a refused declaration (405) closes its channel, and
// the next attempt takes a fresh one. When it closes, the leases still
// held are lost, and each is logged.
type leaseConn struct {
	conn *amqp.Connection
	addr string // the broker node's host:port
	log  zerolog.Logger

	mu      sync.Mutex
	free    []*amqp.Channel
	held    map[string]leaseHolder // by lease queue
	retired bool                   // closed once it holds no lease
}

// leases keeps the connection new leases are taken on: one at a time, on
// another node than the consumer's connection when there are several (see
// leaseNodes). It outlives the consumer's connection while that
// reconnects: the runs it holds leases for keep them, and are answered and
// acknowledged on the new connection. When the consumer reconnects onto
// the lease connection's node, or the lease connection dies, a new one is
// opened; one given up is closed once its runs have given their leases
// up.
type leases struct {
	mu      sync.Mutex
	cur     *leaseConn
	retired []*leaseConn
}

// on returns the lease connection on node addr, opening it with dial when
// there is none alive on that node; the one before is retired.
func (ls *leases) on(addr string, dial func(addr string) (*leaseConn, error)) (*leaseConn, error) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.cur != nil && ls.cur.addr == addr && !ls.cur.conn.IsClosed() {
		return ls.cur, nil
	}
	if ls.cur != nil {
		ls.cur.retire()
		ls.retired = append(ls.retired, ls.cur)
		ls.cur = nil
	}
	live := ls.retired[:0]
	for _, l := range ls.retired {
		if !l.conn.IsClosed() {
			live = append(live, l)
		}
	}
	ls.retired = live
	l, err := dial(addr)
	if err != nil {
		return nil, err
	}
	ls.cur = l
	return l, nil
}

// current is the lease connection new leases are taken on; nil before
// the first.
func (ls *leases) current() *leaseConn {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.cur
}

// closeAll closes every lease connection: the leases still held are lost.
func (ls *leases) closeAll() {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.cur != nil {
		ls.cur.close()
		ls.cur = nil
	}
	for _, l := range ls.retired {
		l.close()
	}
	ls.retired = nil
}

// leaseHolder is the request holding a lease, for the log when it is lost.
type leaseHolder struct {
	exchange, correlationID string
}

// newLeaseConn takes conn for leases and starts watching it: when it
// closes, for whatever reason, each lease still held is logged as lost.
func newLeaseConn(conn *amqp.Connection, addr string, log zerolog.Logger) *leaseConn {
	l := &leaseConn{conn: conn, addr: addr, log: log, held: map[string]leaseHolder{}}
	closed := conn.NotifyClose(make(chan *amqp.Error, 1))
	go func() {
		err := <-closed
		l.lost(err)
	}()
	return l
}

// lost logs the leases held when the connection closed and forgets them.
func (l *leaseConn) lost(err *amqp.Error) {
	l.mu.Lock()
	held := l.held
	l.held = map[string]leaseHolder{}
	l.free = nil
	l.mu.Unlock()
	for q, h := range held {
		l.log.Error().Str("exchange", h.exchange).Str("correlation_id", h.correlationID).Str("lease", q).Str("reason", amqpReason(err)).
			Msg("the connection holding this request's lease closed while its handler runs: the lock is no longer held across hosts, and another consumer instance may start a request with the same lock value before this one ends")
	}
}

// channel takes a channel: a free one, or a new one.
func (l *leaseConn) channel() (*amqp.Channel, error) {
	l.mu.Lock()
	for len(l.free) > 0 {
		ch := l.free[len(l.free)-1]
		l.free = l.free[:len(l.free)-1]
		if !ch.IsClosed() {
			l.mu.Unlock()
			return ch, nil
		}
	}
	l.mu.Unlock()
	ch, err := l.conn.Channel()
	if err != nil {
		return nil, fmt.Errorf("open a lease channel: %w", err)
	}
	return ch, nil
}

// put gives back a channel that is still open.
func (l *leaseConn) put(ch *amqp.Channel) {
	if ch.IsClosed() {
		return
	}
	l.mu.Lock()
	l.free = append(l.free, ch)
	l.mu.Unlock()
}

// tryAcquire declares the lease queue q once: true when this connection
// now holds it; false, with no error, when another connection does
// (405 RESOURCE_LOCKED).
func (l *leaseConn) tryAcquire(q string, h leaseHolder) (bool, error) {
	ch, err := l.channel()
	if err != nil {
		return false, err
	}
	_, err = ch.QueueDeclare(q, false, true, true, false, nil)
	l.put(ch) // closed by a refusal: not kept
	switch {
	case err == nil:
		l.mu.Lock()
		l.held[q] = h
		l.mu.Unlock()
		return true, nil
	case leaseHeld(err):
		return false, nil
	}
	return false, fmt.Errorf("declare lease queue %s: %w", q, err)
}

// release deletes the lease queue q, giving the lease up. On a closed
// connection there is nothing to give up: the broker deleted it. A retired
// connection is closed with its last lease.
func (l *leaseConn) release(q string) error {
	l.mu.Lock()
	_, ok := l.held[q]
	l.mu.Unlock()
	if !ok {
		return nil // lost with its connection, logged then
	}
	ch, err := l.channel()
	if err == nil {
		_, err = ch.QueueDelete(q, false, false, false)
		l.put(ch)
	}
	l.mu.Lock()
	delete(l.held, q)
	last := l.retired && len(l.held) == 0
	l.mu.Unlock()
	if last {
		l.close()
	}
	if err != nil {
		return fmt.Errorf("delete lease queue %s: %w", q, err)
	}
	return nil
}

// retire marks the connection given up: it is closed once it holds no
// lease, now if it holds none.
func (l *leaseConn) retire() {
	l.mu.Lock()
	l.retired = true
	empty := len(l.held) == 0
	l.mu.Unlock()
	if empty {
		l.close()
	}
}

// close closes the connection; the broker deletes its lease queues.
func (l *leaseConn) close() {
	_ = l.conn.Close()
}
