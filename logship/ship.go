package logship

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/wait"
)

// recentIDsKept bounds the correlation ids a spool's shipper remembers as
// shipped and as set aside.
const recentIDsKept = 10000

// maxSetAsideDoublings caps how much longer a record answered 500 waits
// before it is set aside while no record is accepted (2^6 = 64 times).
const maxSetAsideDoublings = 6

// spoolShip is the state of shipping one virtual host's spool: up to
// ShipperOptions.Window records posted at once, by as many goroutines, and
// the position recorded over the prefix of them that is handled.
type spoolShip struct {
	dir string
	log zerolog.Logger
	// slots holds a token per record of the window.
	slots chan struct{}
	// jobs are the records taken, to post; work runs them.
	jobs chan func()
	// cancel stops the spool's shipping after a fatal error.
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu  sync.Mutex
	pw  *positionWriter
	win window
	// resend and resendUntil are the records, from resend up to offset
	// resendUntil of its segment, that were being posted when the last
	// shipper stopped: the log server may have them already, unless
	// resendHandled says they were handled (bit i for the i-th record);
	// resendSeen counts those taken again.
	resend        position
	resendUntil   int64
	resendHandled uint64
	resendSeen    int
	// shipped and setAside are recent records, by kind and correlation id.
	shipped, setAside *recentIDs
	// inFlight holds, by lower-case correlation id, a channel closed when
	// the record with that id in flight is handled: a record waits for the
	// one before it with its id (a response for its request).
	inFlight map[string]chan struct{}
	// strikes counts the records set aside after 500s since the last
	// record accepted.
	strikes int
	// down is true while the log server is unavailable (logged once).
	down bool
	// err is the first fatal error of a post.
	err error
	// rejected serialises the writes of RejectedFile.
	rejected sync.Mutex
}

// recordKey names a record by kind and correlation id (case-insensitive,
// as the log server compares UUIDs).
func recordKey(kind Kind, id string) string { return string(kind) + " " + strings.ToLower(id) }

// start begins shipping a segment from p, with nothing in flight.
func (sp *spoolShip) start(p position) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.win.reset(p)
}

// position is the first record not known handled.
func (sp *spoolShip) position() position {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.win.pos
}

// taken is the offset, in the position's segment, past the last record
// taken.
func (sp *spoolShip) taken() int64 {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.win.next
}

// fail records a fatal error and stops the spool's shipping.
func (sp *spoolShip) fail(err error) {
	sp.mu.Lock()
	if sp.err == nil {
		sp.err = err
	}
	sp.mu.Unlock()
	sp.cancel()
}

// failure is the first fatal error, if any.
func (sp *spoolShip) failure() error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.err
}

// drain waits for the records in flight, and returns the first fatal
// error.
func (sp *spoolShip) drain() error {
	sp.wg.Wait()
	return sp.failure()
}

// ship takes one spool line, of size bytes with its newline, into the
// window (and keeps line: the caller must not reuse it) and posts it in
// the background; it waits while the window is full. The record is posted until the log server accepts it, it is known
// to be there already, or it is set aside, then the position moves over it
// once every record before it is handled too. A post waits, without limit,
// while the log server is unavailable. ship returns nil when ctx ends, and
// a fatal error of an earlier post.
func (s *Shipper) ship(ctx context.Context, sp *spoolShip, line []byte, size int64) error {
	var rec Record
	parseErr := json.Unmarshal(line, &rec)
	id := strings.ToLower(rec.CorrelationID)
	select {
	case sp.slots <- struct{}{}:
	case <-ctx.Done():
		return sp.failure()
	}
	sp.mu.Lock()
	if sp.err != nil {
		sp.mu.Unlock()
		<-sp.slots
		return sp.err
	}
	sl := sp.win.take(size)
	var maybeThere bool
	if sp.win.pos.Segment == sp.resend.Segment && sl.start >= sp.resend.Offset && sl.start < sp.resendUntil {
		maybeThere = true
		handledBefore := sp.resendSeen < 64 && sp.resendHandled&(1<<sp.resendSeen) != 0
		sp.resendSeen++
		if handledBefore {
			// Accepted or set aside by the last shipper, which stopped
			// before the records ahead of it were: not posted again.
			err := sp.handledLocked(sl)
			sp.mu.Unlock()
			if err != nil {
				sp.fail(err)
			}
			return err
		}
	}
	var before, mine chan struct{}
	if parseErr == nil {
		before, mine = sp.inFlight[id], make(chan struct{})
		sp.inFlight[id] = mine
	}
	err := sp.pw.sending(sp.win.pos, sp.win.next, sp.win.handledMask())
	sp.mu.Unlock()
	if err != nil {
		sp.fail(err)
		return err
	}
	sp.wg.Add(1)
	sp.jobs <- func() {
		defer sp.wg.Done()
		var err error
		if parseErr != nil {
			err = s.setAside(sp, rejectedLine{Reason: "not a record: " + parseErr.Error(), Line: string(line)}, "")
		} else {
			if before != nil {
				select {
				case <-before:
				case <-ctx.Done():
					return // stopping: the record stays unshipped, marked as sending
				}
			}
			var done bool
			done, err = s.deliver(ctx, sp, sl, rec, line, maybeThere)
			if err == nil && !done {
				return // stopping
			}
		}
		if err == nil {
			err = sp.handled(sl, id, mine)
		}
		if err != nil {
			sp.fail(err)
		}
	}
	return nil
}

// work runs jobs until the channel is closed. The jobs are taken in spool
// order, so a record waiting for an earlier one never holds back the one it
// waits for.
func (sp *spoolShip) work() {
	for job := range sp.jobs {
		job()
	}
}

// handled records sl handled, moves the position over it once the
// records before it are handled, and lets the record waiting for sl's
// correlation id go.
func (sp *spoolShip) handled(sl *slot, id string, mine chan struct{}) error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if mine != nil {
		close(mine)
		if sp.inFlight[id] == mine {
			delete(sp.inFlight, id)
		}
	}
	return sp.handledLocked(sl)
}

// handledLocked is handled without the correlation id, with sp.mu held:
// the records the position moves over leave the window.
func (sp *spoolShip) handledLocked(sl *slot) error {
	for range sp.win.handle(sl) {
		<-sp.slots
	}
	if sp.win.busy() {
		return sp.pw.sending(sp.win.pos, sp.win.next, sp.win.handledMask())
	}
	return sp.pw.save(sp.win.pos)
}

// deliver posts one record until it is handled (done) or ctx ends (not
// done, no error).
func (s *Shipper) deliver(ctx context.Context, sp *spoolShip, sl *slot, rec Record, line []byte, maybeThere bool) (done bool, err error) {
	key := recordKey(rec.Kind, rec.CorrelationID)
	if rec.Kind == KindProgress {
		// A request has many: each is told apart by its time.
		key += " " + rec.Time.UTC().Format(time.RFC3339Nano)
		if s.progressOff() {
			s.count(func(st *Stats) { st.ProgressSkipped++ })
			return true, nil
		}
	}
	sp.mu.Lock()
	requestSetAside := rec.Kind != KindRequest && sp.setAside.has(recordKey(KindRequest, rec.CorrelationID))
	sp.mu.Unlock()
	if requestSetAside {
		if rec.Kind == KindProgress {
			s.count(func(st *Stats) { st.ProgressSkipped++ })
			return true, nil
		}
		return true, s.setAside(sp, rejectedLine{Reason: "its request was set aside", Record: line}, rec.CorrelationID)
	}
	delay := 100 * time.Millisecond
	var fails int
	var firstFail time.Time
	for {
		a := s.post(ctx, rec)
		if ctx.Err() != nil {
			return false, nil // stopping: the record stays unshipped, marked as sending
		}
		maybeThere = maybeThere || a.uncertain
		if rec.Kind == KindProgress && (a.status == http.StatusNotFound || a.status == http.StatusMethodNotAllowed) {
			// Its request was accepted, so the base URL is right: the log
			// server does not take progress (the reference does not).
			s.progressUnsupported(a.detail)
			return true, nil
		}
		if rec.Repeat && (a.verdict == failed || a.status == http.StatusConflict) {
			// A request that ran before, and whose earlier run may have
			// journaled it: the reference answers 500 to a correlation id
			// it has, rabbitmq-consumer-log-server 409 when it was stored
			// from another host.
			maybeThere = true
			a.verdict = failed
		}
		switch a.verdict {
		case accepted:
			sp.mu.Lock()
			if sp.down {
				sp.log.Info().Msg("log server available again")
				sp.down = false
			}
			sp.shipped.add(key)
			sp.strikes = 0
			sp.mu.Unlock()
			s.count(func(st *Stats) { st.Shipped++ })
			return true, nil
		case unauthorized:
			sp.log.Error().Str("answer", a.detail).Msg(ErrUnauthorized.Error())
			return true, ErrUnauthorized
		case refused:
			if err := s.setAside(sp, rejectedLine{Reason: "refused by the log server", Status: a.status, Answer: a.detail, Record: line}, rec.CorrelationID); err != nil {
				return true, err
			}
			sp.mu.Lock()
			sp.setAside.add(key)
			sp.mu.Unlock()
			return true, nil
		case failed:
			if maybeThere {
				// Sent before without an answer, and now refused: the
				// reference log server answers 500 to a correlation id it
				// has already.
				sp.log.Warn().Str("correlation_id", rec.CorrelationID).Str("kind", string(rec.Kind)).Str("answer", a.detail).
					Msg("a record sent again after an interruption was refused: counted as already at the log server")
				sp.mu.Lock()
				sp.shipped.add(key)
				sp.mu.Unlock()
				s.count(func(st *Stats) { st.AlreadyThere++ })
				return true, nil
			}
			sp.mu.Lock()
			twice := sp.shipped.has(key)
			// Only the oldest record in flight counts its failures: the
			// others wait behind it as they would one at a time.
			head, strikes := sp.win.head(sl), sp.strikes
			sp.mu.Unlock()
			if twice {
				return true, s.setAside(sp, rejectedLine{Reason: "the log server has a record with this correlation id already (recorded twice?)", Status: a.status, Answer: a.detail, Record: line}, rec.CorrelationID)
			}
			if head {
				fails++
				if firstFail.IsZero() {
					firstFail = time.Now()
				}
			}
			if wait := s.opts.SetAsideAfter << min(strikes, maxSetAsideDoublings); head && fails >= s.opts.SetAsideTries && time.Since(firstFail) >= wait {
				reason := "the log server kept failing on it (" + a.detail + ") while it was not known to fail on others"
				if err := s.setAside(sp, rejectedLine{Reason: reason, Status: a.status, Answer: a.detail, Record: line}, rec.CorrelationID); err != nil {
					return true, err
				}
				sp.mu.Lock()
				sp.setAside.add(key)
				sp.strikes++
				sp.mu.Unlock()
				return true, nil
			}
		}
		s.count(func(st *Stats) { st.PostFailures++ })
		sp.mu.Lock()
		if !sp.down {
			sp.log.Warn().Str("answer", a.detail).Msg("log server unavailable; retrying with backoff")
			sp.down = true
		}
		sp.mu.Unlock()
		if !wait.Sleep(ctx, delay/2+rand.N(delay/2+1)) {
			return false, nil
		}
		delay = min(delay*2, s.opts.MaxBackoff)
	}
}

// setAside keeps a record the log server does not accept in the spool's
// RejectedFile, logs it once and counts it.
func (s *Shipper) setAside(sp *spoolShip, l rejectedLine, correlationID string) error {
	l.Time = time.Now().UTC()
	sp.rejected.Lock()
	err := keepRejected(sp.dir, l)
	sp.rejected.Unlock()
	if err != nil {
		return err
	}
	ev := sp.log.Error().Str("reason", l.Reason).Str("file", RejectedFile)
	if l.Status != 0 {
		ev = ev.Int("status", l.Status).Str("answer", l.Answer)
	}
	if correlationID != "" {
		ev = ev.Str("correlation_id", correlationID)
	}
	if l.Record != nil {
		ev = ev.RawJSON("record", l.Record)
	} else {
		ev = ev.Str("line", truncate(l.Line, 512))
	}
	ev.Msg("record set aside: the log server did not accept it; kept in " + RejectedFile)
	s.count(func(st *Stats) { st.SetAside++ })
	return nil
}

func (s *Shipper) count(f func(*Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.stats)
}
