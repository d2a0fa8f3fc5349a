package gui

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
)

// paramWatch names, on the events URL, an awaiting pair whose response the
// stream reports (repeated).
const paramWatch = "watch"

// paramProgress names, on the events URL, the awaiting pair whose progress
// updates the stream reports (the pair page's), and paramProgressSeen how
// many of them the page shows.
const (
	paramProgress     = "progress"
	paramProgressSeen = "progress_seen"
)

// maxWatch bounds the awaiting pairs one stream follows.
const maxWatch = 100

// keepAliveEvery: a stream that had nothing to say for this long sends a
// comment, so that proxies keep it open and a closed browser is noticed.
const keepAliveEvery = 15 * time.Second

// countsEvery: the counts, a query over every matching record, are sent
// at most this often (the store may hold millions of records).
const countsEvery = 2 * time.Second

// retryMillis tells the browser how soon to reconnect a broken stream.
const retryMillis = 3000

// The live view's events. Each carries JSON: pair and update carry
// {"id": request ID, "html": the list row}, counts the counts per outcome
// and "total".
const (
	eventPair   = "pair"   // a new pair, oldest first; its id is the request ID
	eventUpdate = "update" // a watched pair got its response
	eventCounts = "counts" // the counts for the filter changed
	// eventProgress: the watched pair got progress updates; its data is
	// {"html": the pair page's progress list}.
	eventProgress = "progress"
)

// rowEvent is the data of a pair or update event.
type rowEvent struct {
	ID   int64  `json:"id"`
	HTML string `json:"html"`
}

// events streams, as server-sent events, the pairs that match the query's
// filter and arrive after its "after" ID (or the browser's Last-Event-ID),
// and the responses of the watched awaiting pairs. It polls the store every
// PollInterval until the browser goes away or Options.Stop is closed.
func (g *gui) events(w http.ResponseWriter, r *http.Request) {
	q, err := store.ParseQuery(r.URL.Query())
	if err != nil {
		http.Error(w, "400 bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	s := g.newStream(w, r, q.Filter)
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass events on at once
	fmt.Fprintf(w, "retry: %d\n\n", retryMillis)
	if err := rc.Flush(); err != nil {
		g.opts.LogError(r, fmt.Errorf("live view: %w", err))
		return
	}
	if err := s.run(r.Context(), rc.Flush); err != nil {
		g.opts.LogError(r, fmt.Errorf("live view: %w", err))
	}
}

// newStream prepares the live view of one browser: its filter, where it
// resumes and the awaiting pairs it watches.
func (g *gui) newStream(w io.Writer, r *http.Request, f store.Filter) *stream {
	s := &stream{g: g, w: w, filter: f, after: f.After, watch: map[string]bool{}}
	s.filter.After = 0
	if id, err := strconv.ParseInt(r.Header.Get("Last-Event-ID"), 10, 64); err == nil && id > s.after {
		s.after = id
	}
	s.progressID = r.URL.Query().Get(paramProgress)
	s.progressSeen, _ = strconv.Atoi(r.URL.Query().Get(paramProgressSeen))
	for _, id := range r.URL.Query()[paramWatch] {
		if len(s.watch) < maxWatch {
			s.watch[id] = true
		}
	}
	return s
}

// run polls until the browser goes away (ctx) or the server stops; it
// returns the store's error, after which the browser reconnects from its
// Last-Event-ID.
func (s *stream) run(ctx context.Context, flush func() error) error {
	tick := time.NewTicker(s.g.opts.PollInterval)
	defer tick.Stop()
	quiet := time.Now()
	for {
		sent, err := s.poll(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if !sent && time.Since(quiet) >= keepAliveEvery {
			_, _ = io.WriteString(s.w, ": keep-alive\n\n")
			sent = true
		}
		if sent {
			quiet = time.Now()
			if flush() != nil {
				return nil // the browser went away
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.g.opts.Stop:
			return nil
		case <-tick.C:
		}
	}
}

// stream is one browser's live view.
type stream struct {
	g      *gui
	w      io.Writer
	filter store.Filter // without After
	after  int64        // the newest request ID sent
	watch  map[string]bool
	// progressID is the pair whose progress updates are reported, and
	// progressSeen how many the browser has.
	progressID   string
	progressSeen int
	// countsDue says the counts changed since they were last sent, at
	// countsAt.
	countsDue bool
	countsAt  time.Time
}

// poll sends what changed since the last poll and says whether it sent
// anything.
func (s *stream) poll(ctx context.Context) (bool, error) {
	f := s.filter
	f.After = s.after
	page, err := s.g.st.List(ctx, f, 0, store.MaxLimit)
	if err != nil {
		return false, err
	}
	now := s.g.opts.Now()
	sent := false
	for i := len(page.Pairs) - 1; i >= 0; i-- {
		p := page.Pairs[i]
		if err := s.sendRow(eventPair, p, now); err != nil {
			return false, err
		}
		s.after, sent = max(s.after, p.Request.ID), true
		if p.Outcome == store.OutcomeAwaiting && len(s.watch) < maxWatch {
			s.watch[p.Request.CorrelationID] = true
		}
	}
	if s.progressID != "" {
		ps, err := s.g.st.Progress(ctx, s.progressID)
		if err != nil {
			return false, err
		}
		if len(ps) > s.progressSeen {
			html, err := s.g.pages.renderProgress(s.g.progressViews(ps))
			if err != nil {
				return false, err
			}
			if err := writeEvent(s.w, eventProgress, "", map[string]string{"html": html}); err != nil {
				return false, err
			}
			s.progressSeen, sent = len(ps), true
		}
	}
	for id := range s.watch {
		p, ok, err := s.g.st.Get(ctx, id)
		if err != nil {
			return false, err
		}
		if ok && p.Outcome == store.OutcomeAwaiting {
			continue
		}
		delete(s.watch, id)
		if ok {
			if err := s.sendRow(eventUpdate, p, now); err != nil {
				return false, err
			}
			sent = true
		}
	}
	s.countsDue = s.countsDue || sent
	if !s.countsDue || time.Since(s.countsAt) < countsEvery {
		return sent, nil
	}
	counts, err := s.g.st.Counts(ctx, s.filter)
	if err != nil {
		return false, err
	}
	data := map[string]int64{"total": 0}
	for _, o := range store.Outcomes {
		data[string(o)] = counts[o]
		data["total"] += counts[o]
	}
	s.countsDue, s.countsAt = false, time.Now()
	return true, writeEvent(s.w, eventCounts, "", data)
}

func (s *stream) sendRow(event string, p store.Pair, now time.Time) error {
	html, err := s.g.pages.renderRow(s.g.rowOf(p, s.filter, now))
	if err != nil {
		return err
	}
	id := ""
	if event == eventPair {
		id = strconv.FormatInt(p.Request.ID, 10)
	}
	return writeEvent(s.w, event, id, rowEvent{ID: p.Request.ID, HTML: html})
}

// writeEvent writes one server-sent event with JSON data (which holds no
// line breaks, so one data line carries it).
func writeEvent(w io.Writer, event, id string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	if id != "" {
		_, err = fmt.Fprintf(w, "event: %s\nid: %s\ndata: %s\n\n", event, id, b)
	} else {
		_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
	}
	return err
}
