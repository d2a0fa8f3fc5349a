package logship

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// recentIDsKept bounds the correlation ids a spool's shipper remembers as
// shipped and as set aside.
const recentIDsKept = 10000

// maxSetAsideDoublings caps how much longer a record answered 500 waits
// before it is set aside while no record is accepted (2^6 = 64 times).
const maxSetAsideDoublings = 6

// spoolShip is the state of shipping one virtual host's spool.
type spoolShip struct {
	dir string
	log zerolog.Logger
	pw  *positionWriter
	pos position
	// resend is the position of a record that was being posted when the
	// last shipper stopped: the log server may have it already.
	resend position
	// shipped and setAside are recent records, by kind and correlation id.
	shipped, setAside *recentIDs
	// strikes counts the records set aside after 500s since the last
	// record accepted.
	strikes int
}

// recordKey names a record by kind and correlation id (case-insensitive,
// as the log server compares UUIDs).
func recordKey(kind Kind, id string) string { return string(kind) + " " + strings.ToLower(id) }

// ship posts one spool line until the log server accepts it, it is known
// to be there already, or it is set aside; then records the position past
// it. It waits, without limit, while the log server is unavailable.
func (s *Shipper) ship(ctx context.Context, sp *spoolShip, line []byte, size int64) error {
	var rec Record
	if err := json.Unmarshal(line, &rec); err != nil {
		if err := s.setAside(sp, rejectedLine{Reason: "not a record: " + err.Error(), Line: string(line)}, ""); err != nil {
			return err
		}
		return sp.advance(size)
	}
	if rec.Kind == KindResponse && sp.setAside.has(recordKey(KindRequest, rec.CorrelationID)) {
		if err := s.setAside(sp, rejectedLine{Reason: "its request was set aside", Record: line}, rec.CorrelationID); err != nil {
			return err
		}
		return sp.advance(size)
	}
	key := recordKey(rec.Kind, rec.CorrelationID)
	maybeThere := sp.pos == sp.resend
	delay := 100 * time.Millisecond
	down := false
	var fails int
	var firstFail time.Time
	for {
		if err := sp.pw.sending(sp.pos); err != nil {
			return err
		}
		a := s.post(ctx, rec)
		if ctx.Err() != nil {
			return nil // stopping: the record stays unshipped, marked as sending
		}
		maybeThere = maybeThere || a.uncertain
		switch a.verdict {
		case accepted:
			if down {
				sp.log.Info().Msg("log server available again")
			}
			sp.shipped.add(key)
			sp.strikes = 0
			s.count(func(st *Stats) { st.Shipped++ })
			return sp.advance(size)
		case unauthorized:
			sp.log.Error().Str("answer", a.detail).Msg(ErrUnauthorized.Error())
			return ErrUnauthorized
		case refused:
			if err := s.setAside(sp, rejectedLine{Reason: "refused by the log server", Status: a.status, Answer: a.detail, Record: line}, rec.CorrelationID); err != nil {
				return err
			}
			sp.setAside.add(key)
			return sp.advance(size)
		case failed:
			if maybeThere {
				// Sent before without an answer, and now refused: the
				// reference log server answers 500 to a correlation id it
				// has already.
				sp.log.Warn().Str("correlation_id", rec.CorrelationID).Str("kind", string(rec.Kind)).Str("answer", a.detail).
					Msg("a record sent again after an interruption was refused: counted as already at the log server")
				sp.shipped.add(key)
				s.count(func(st *Stats) { st.AlreadyThere++ })
				return sp.advance(size)
			}
			if sp.shipped.has(key) {
				if err := s.setAside(sp, rejectedLine{Reason: "the log server has a record with this correlation id already (recorded twice?)", Status: a.status, Answer: a.detail, Record: line}, rec.CorrelationID); err != nil {
					return err
				}
				return sp.advance(size)
			}
			fails++
			if firstFail.IsZero() {
				firstFail = time.Now()
			}
			if wait := s.opts.SetAsideAfter << min(sp.strikes, maxSetAsideDoublings); fails >= s.opts.SetAsideTries && time.Since(firstFail) >= wait {
				reason := "the log server kept failing on it (" + a.detail + ") while it was not known to fail on others"
				if err := s.setAside(sp, rejectedLine{Reason: reason, Status: a.status, Answer: a.detail, Record: line}, rec.CorrelationID); err != nil {
					return err
				}
				sp.setAside.add(key)
				sp.strikes++
				return sp.advance(size)
			}
		}
		s.count(func(st *Stats) { st.PostFailures++ })
		if !maybeThere {
			// Every try so far was answered or never left: not at the server.
			if err := sp.pw.save(sp.pos); err != nil {
				return err
			}
		}
		if !down {
			sp.log.Warn().Str("answer", a.detail).Msg("log server unavailable; retrying with backoff")
			down = true
		}
		if !sleep(ctx, delay/2+rand.N(delay/2+1)) {
			return nil
		}
		delay = min(delay*2, s.opts.MaxBackoff)
	}
}

// advance moves the position past the record just handled.
func (sp *spoolShip) advance(size int64) error {
	sp.pos.Offset += size
	return sp.pw.save(sp.pos)
}

// setAside keeps a record the log server does not accept in the spool's
// RejectedFile, logs it once and counts it.
func (s *Shipper) setAside(sp *spoolShip, l rejectedLine, correlationID string) error {
	l.Time = time.Now().UTC()
	if err := keepRejected(sp.dir, l); err != nil {
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
