// Package coalesce provides a net.Conn whose writes leave together: a Write
// copies its bytes into a buffer and returns, and one goroutine sends
// everything buffered in a single write to the socket. Writes made while
// that goroutine is busy in a system call go out together in its next one.
//
// amqp091-go writes every frame group (a publish, an acknowledgement)
// with a flush while holding its connection lock, one system call each, so
// under load a consumer spends much of its time in write(2). Given to
// amqp.Config.Dial, a Conn keeps the library's order of bytes while
// replies and acknowledgements made at the same time share system calls.
//
// What a Write returns has the meaning it has on a TCP socket: the bytes
// are on their way, not received. A failed write to the socket is returned
// by every later Write and closes the socket, so that the reader on it
// fails too, with that error. Close sends what is buffered first, so a
// layer that writes a farewell and then closes (TLS's close_notify) belongs
// below the Conn, in the dial function.
package coalesce

import (
	"net"
	"sync"
	"time"
)

// DefaultMaxPending is how many bytes may wait to be sent before a Write
// waits for room.
const DefaultMaxPending = 1 << 20

// closeFlush bounds how long Close tries to send what is still buffered.
const closeFlush = 2 * time.Second

// keepBuffer is the largest buffer kept for reuse after a write; a larger
// one (from a burst or a big message) is left to the garbage collector.
const keepBuffer = 256 << 10

// Conn is a net.Conn whose writes are coalesced. Reads, addresses and
// deadlines are the wrapped connection's.
type Conn struct {
	net.Conn
	max int

	mu      sync.Mutex
	data    sync.Cond // the flusher waits for bytes
	room    sync.Cond // writers wait for room
	pending []byte
	spare   []byte
	closed  bool  // Close has begun: no more Writes, its write deadline stands
	err     error // the first failed write; sticky
	waiting int   // writers waiting for room (for tests)
	done    chan struct{}
}

// New wraps conn; maxPending bounds the buffered bytes (DefaultMaxPending
// when <= 0). The Conn owns conn: Close closes it.
func New(conn net.Conn, maxPending int) *Conn {
	if maxPending <= 0 {
		maxPending = DefaultMaxPending
	}
	c := &Conn{Conn: conn, max: maxPending, done: make(chan struct{})}
	c.data.L = &c.mu
	c.room.L = &c.mu
	go c.flusher()
	return c
}

// Dialer wraps dial so that every connection it makes is coalesced.
func Dialer(dial func(network, addr string) (net.Conn, error)) func(network, addr string) (net.Conn, error) {
	return func(network, addr string) (net.Conn, error) {
		conn, err := dial(network, addr)
		if err != nil {
			return nil, err
		}
		return New(conn, 0), nil
	}
}

// Write buffers p for the flusher. It waits only while the buffer is full;
// a p larger than the bound is taken whole once the buffer is empty.
func (c *Conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.err == nil && !c.closed && len(c.pending) > 0 && len(c.pending)+len(p) > c.max {
		c.waiting++
		c.room.Wait()
		c.waiting--
	}
	switch {
	case c.closed:
		return 0, net.ErrClosed
	case c.err != nil:
		return 0, c.err
	}
	if len(c.pending) == 0 {
		c.data.Signal()
	}
	c.pending = append(c.pending, p...)
	return len(p), nil
}

// flusher sends the buffered bytes, a whole buffer per write, until the
// Conn is closed and drained or a write fails.
func (c *Conn) flusher() {
	defer close(c.done)
	c.mu.Lock()
	for {
		for len(c.pending) == 0 && !c.closed {
			c.data.Wait()
		}
		if len(c.pending) == 0 {
			c.mu.Unlock()
			return // closed, nothing left
		}
		buf := c.pending
		c.pending, c.spare = c.spare[:0], nil
		c.mu.Unlock()
		_, err := c.Conn.Write(buf)
		c.mu.Lock()
		if cap(buf) <= keepBuffer {
			c.spare = buf[:0]
		}
		c.room.Broadcast()
		if err != nil {
			c.err = err // before the reader fails, so Read returns it
			c.pending = nil
			c.mu.Unlock()
			// Outside the lock: closing may write (a TLS close_notify).
			_ = c.Conn.Close() // the reader fails too
			return
		}
	}
}

// Read reads from the connection. When it fails because a write failed
// (the flusher closed the socket), it returns the write's error, which says
// what went wrong.
func (c *Conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil {
		if werr := c.writeErr(); werr != nil {
			return n, werr
		}
	}
	return n, err
}

// SetDeadline sets the read and write deadlines, as SetReadDeadline and
// SetWriteDeadline do.
func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// SetWriteDeadline sets the deadline of the socket writes; once Close has
// begun, Close's own bound stands and t is ignored.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	return c.Conn.SetWriteDeadline(t)
}

// Close sends what is buffered (within a bound, in case the peer reads no
// more), then closes the connection. It returns the error of a write that
// failed, if one did. Later Writes fail with net.ErrClosed; a second Close
// returns net.ErrClosed at once, without waiting for the first.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return net.ErrClosed
	}
	c.closed = true
	_ = c.Conn.SetWriteDeadline(time.Now().Add(closeFlush))
	c.data.Signal()
	c.room.Broadcast()
	c.mu.Unlock()
	<-c.done
	err := c.Conn.Close()
	if werr := c.writeErr(); werr != nil {
		return werr // the flusher closed the socket after it failed
	}
	return err
}

// writeErr is the first failed write's error, or nil.
func (c *Conn) writeErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
