package consumer

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"sync"
)

// DefaultOutcomes is how many recent outcomes a consumer remembers.
const DefaultOutcomes = 10000

// maxOutcomeBytes bounds the memory the remembered replies take; the oldest
// are forgotten first.
const maxOutcomeBytes = 64 << 20

// outcomes remembers the replies of recent requests, so that a request the
// broker delivers again (after a lost channel, say) is answered from memory
// instead of running its handler a second time. A delivery of a request
// that is still running waits for that run.
type outcomes struct {
	mu    sync.Mutex
	max   int
	m     map[string]*outcome
	done  *list.List    // keys of finished outcomes, oldest first
	bytes int           // total size of the remembered replies
	store *outcomesFile // where finished outcomes persist; nil: memory only
	err   func(error)   // told when the store fails
}

// outcome is one request's result, finished or in progress.
type outcome struct {
	finished  chan struct{} // closed when the first run ends
	reply     []byte        // the reply body; nil when there was none to send
	abandoned bool          // the run did not finish: its message went back to the queue
	// learned is the reply of the same request finished by another
	// consumer instance, read from the outcomes stream while this run was
	// in progress; nil when none was read. Guarded by outcomes.mu.
	learned []byte
}

func newOutcomes(max int) *outcomes {
	if max <= 0 {
		max = DefaultOutcomes
	}
	return &outcomes{max: max, m: map[string]*outcome{}, done: list.New()}
}

// outcomeKey identifies a request: its exchange, correlation id and body.
// A request without a correlation id is never matched.
func outcomeKey(exchange, correlationID string, body []byte) string {
	if correlationID == "" {
		return ""
	}
	h := sha256.Sum256(body)
	return exchange + "\x00" + correlationID + "\x00" + hex.EncodeToString(h[:16])
}

// begin registers a run of key. first is true when the caller is the first
// and must run the request; otherwise o is the earlier run to wait for.
func (c *outcomes) begin(key string) (o *outcome, first bool) {
	if key == "" {
		return &outcome{finished: make(chan struct{})}, true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if o := c.m[key]; o != nil {
		return o, false
	}
	o = &outcome{finished: make(chan struct{})}
	c.m[key] = o
	return o, true
}

// answered reports whether key's request has a finished outcome with a
// reply, from which it can be answered.
func (c *outcomes) answered(key string) bool {
	if key == "" {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	o := c.m[key]
	if o == nil {
		return false
	}
	select {
	case <-o.finished:
		return !o.abandoned && o.reply != nil
	default:
		return false
	}
}

// finish records the reply of a run and wakes those waiting for it.
func (c *outcomes) finish(key string, o *outcome, reply []byte) {
	o.reply = reply
	close(o.finished)
	if key == "" {
		return
	}
	c.mu.Lock()
	c.doneLocked(key, reply)
	store := c.store
	c.mu.Unlock()
	if store != nil && reply != nil {
		if err := store.append(key, reply, c); err != nil && c.err != nil {
			c.err(err)
		}
	}
}

// doneLocked lists key among the finished outcomes, forgetting the oldest
// beyond the bounds.
func (c *outcomes) doneLocked(key string, reply []byte) {
	c.done.PushBack(key)
	c.bytes += len(reply)
	for c.done.Len() > c.max || (c.bytes > maxOutcomeBytes && c.done.Len() > 1) {
		oldest := c.done.Front()
		k := oldest.Value.(string)
		c.bytes -= len(c.m[k].reply)
		delete(c.m, k)
		c.done.Remove(oldest)
	}
}

// learn records the outcome of a request that a consumer instance
// finished, read from the outcomes stream (see outcome_stream.go): a
// request delivered later is answered from it. A run of the same request
// in progress here keeps it as learned (see learnedFor); an outcome known
// already is kept as it is. It is not written to the outcomes file: the
// stream keeps it.
func (c *outcomes) learn(key string, reply []byte) {
	if key == "" || reply == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if o := c.m[key]; o != nil {
		select {
		case <-o.finished:
		default:
			o.learned = reply
		}
		return
	}
	o := &outcome{finished: make(chan struct{}), reply: reply}
	close(o.finished)
	c.m[key] = o
	c.doneLocked(key, reply)
}

// learnedFor is the reply learned from the outcomes stream for the run of
// key in progress, if any.
func (c *outcomes) learnedFor(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if o := c.m[key]; o != nil && o.learned != nil {
		return o.learned, true
	}
	return nil, false
}

// snapshot lists the finished outcomes, oldest first.
func (c *outcomes) snapshot() []outcomeLine {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snapshotLocked()
}

func (c *outcomes) snapshotLocked() []outcomeLine {
	out := make([]outcomeLine, 0, c.done.Len())
	for e := c.done.Front(); e != nil; e = e.Next() {
		k := e.Value.(string)
		out = append(out, outcomeLine{Key: k, Reply: c.m[k].reply})
	}
	return out
}

// abandon forgets a run that did not finish (its message went back to the
// queue) and wakes those waiting for it with no reply.
func (c *outcomes) abandon(key string, o *outcome) {
	if key != "" {
		c.mu.Lock()
		if c.m[key] == o {
			delete(c.m, key)
		}
		c.mu.Unlock()
	}
	o.abandoned = true
	close(o.finished)
}

// len is the number of outcomes remembered or in progress.
func (c *outcomes) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
