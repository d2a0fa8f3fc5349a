package gui

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
)

// listView is what the list page shows.
type listView struct {
	page
	Form     formView
	Counts   []countView
	Total    int64
	Rows     []rowView
	Presets  []presetView
	NewerURL string // the newest page, when this is an older one
	OlderURL string // "" on the last page
	// EventsURL feeds the live view; set on the newest page only.
	EventsURL string
	Filtered  bool
	// Suggestions for the filter inputs: the values on this page.
	VirtualHosts, Exchanges, Hostnames []string
}

// formView holds the filter form's current values.
type formView struct {
	CorrelationID string
	Prefix        bool
	VirtualHost   string
	Exchange      string
	Hostname      string
	Outcomes      []outcomeOption
	Since, Until  string // datetime-local values
	// Limit is the page size when it is not store.DefaultLimit, else 0.
	Limit int
}

type outcomeOption struct {
	Outcome store.Outcome
	Checked bool
}

// countView is one outcome's count, a link that shows only that outcome.
type countView struct {
	Outcome store.Outcome
	N       int64
	URL     string
	Active  bool
}

// presetView is a time range shortcut ("last hour").
type presetView struct {
	Label string
	URL   string
}

// presets are the time range shortcuts offered above the list.
var presets = []struct {
	label string
	d     time.Duration
}{
	{"15 min", 15 * time.Minute},
	{"1 h", time.Hour},
	{"24 h", 24 * time.Hour},
	{"7 days", 7 * 24 * time.Hour},
}

func (g *gui) list(w http.ResponseWriter, r *http.Request) {
	raw := r.URL.Query()
	norm := normalizeParams(raw, g.opts.Location)
	q, err := store.ParseQuery(norm)
	if err != nil {
		v := listView{page: g.newPage("RPC log", "list"), Form: g.formOf(store.Query{}, raw)}
		v.Error = err.Error()
		g.write(w, r, http.StatusBadRequest, "list", v)
		return
	}
	// Links and bookmarks carry one spelling of a query: the form's empty
	// fields and local times are rewritten once.
	if canon := listURL(q.Filter, q.Before, q.Limit); !sameQuery(canon, raw) {
		seeOther(w, canon)
		return
	}
	v, err := g.listView(r, q)
	if err != nil {
		g.storeFailed(w, r, err)
		return
	}
	g.write(w, r, http.StatusOK, "list", v)
}

// listView gathers one page of the list from the store.
func (g *gui) listView(r *http.Request, q store.Query) (listView, error) {
	ctx := r.Context()
	page, err := g.st.List(ctx, q.Filter, q.Before, q.Limit)
	if err != nil {
		return listView{}, err
	}
	counts, err := g.st.Counts(ctx, q.Filter)
	if err != nil {
		return listView{}, err
	}
	v := listView{page: g.newPage("RPC log", "list"), Form: g.formOf(q, nil)}
	v.Filtered = listURL(q.Filter, 0, 0) != "./"
	now := g.opts.Now()
	for _, p := range page.Pairs {
		v.Rows = append(v.Rows, g.rowOf(p, q.Filter, now))
		v.VirtualHosts = appendNew(v.VirtualHosts, p.Request.VirtualHostName)
		v.Exchanges = appendNew(v.Exchanges, p.Request.ExchangeName)
		v.Hostnames = appendNew(v.Hostnames, p.Request.Hostname)
	}
	v.Counts, v.Total = countsOf(counts, q.Filter)
	for _, p := range presets {
		f := q.Filter
		f.Since, f.Until = now.Add(-p.d).Truncate(time.Second), time.Time{}
		v.Presets = append(v.Presets, presetView{Label: p.label, URL: listURL(f, 0, q.Limit)})
	}
	if page.Next != 0 {
		v.OlderURL = listURL(q.Filter, page.Next, q.Limit)
	}
	if q.Before != 0 {
		v.NewerURL = listURL(q.Filter, 0, q.Limit)
	} else {
		newest := q.Filter.After // an empty page: only what arrives later
		if len(page.Pairs) > 0 {
			newest = page.Pairs[0].Request.ID
		}
		v.EventsURL = eventsURL(q.Filter, newest, watchList(page.Pairs))
	}
	return v, nil
}

// countsOf orders the counts per outcome for display, each a link to the
// filter narrowed to that outcome, and sums them.
func countsOf(counts map[store.Outcome]int64, f store.Filter) ([]countView, int64) {
	var out []countView
	var total int64
	for _, o := range store.Outcomes {
		only := f
		only.Outcomes = []store.Outcome{o}
		active := slices.Contains(f.Outcomes, o)
		if active && len(f.Outcomes) == 1 {
			only.Outcomes = nil // a second click shows every outcome again
		}
		out = append(out, countView{Outcome: o, N: counts[o], URL: listURL(only, 0, 0), Active: active})
		total += counts[o]
	}
	return out, total
}

// formOf fills the filter form from a parsed query, or, when the query
// did not parse, from the raw parameters so the user can correct them.
func (g *gui) formOf(q store.Query, raw map[string][]string) formView {
	f := q.Filter
	fv := formView{
		CorrelationID: f.CorrelationID, Prefix: f.CorrelationPrefix,
		VirtualHost: f.VirtualHost, Exchange: f.Exchange, Hostname: f.Hostname,
	}
	if q.Limit != store.DefaultLimit {
		fv.Limit = q.Limit
	}
	if !f.Since.IsZero() {
		fv.Since = f.Since.In(g.opts.Location).Format(inputLayout)
	}
	if !f.Until.IsZero() {
		fv.Until = f.Until.In(g.opts.Location).Format(inputLayout)
	}
	if raw != nil {
		get := func(k string) string {
			if vs := raw[k]; len(vs) > 0 {
				return vs[0]
			}
			return ""
		}
		fv.CorrelationID, fv.Prefix = get(store.ParamCorrelationID), get(store.ParamPrefix) == "1"
		fv.VirtualHost, fv.Exchange, fv.Hostname = get(store.ParamVirtualHost), get(store.ParamExchange), get(store.ParamHostname)
		fv.Since, fv.Until = get(store.ParamSince), get(store.ParamUntil)
	}
	for _, o := range store.Outcomes {
		fv.Outcomes = append(fv.Outcomes, outcomeOption{Outcome: o, Checked: slices.Contains(f.Outcomes, o)})
	}
	return fv
}

// watchList names the awaiting pairs of a page, whose responses the live
// view reports when they arrive.
func watchList(pairs []store.Pair) []string {
	var ids []string
	for _, p := range pairs {
		if p.Outcome == store.OutcomeAwaiting && len(ids) < maxWatch {
			ids = append(ids, p.Request.CorrelationID)
		}
	}
	return ids
}

// eventsURL is the relative URL of the live view's event stream.
func eventsURL(f store.Filter, after int64, watch []string) string {
	v := f.Values()
	v.Set(store.ParamAfter, strconv.FormatInt(after, 10))
	for _, id := range watch {
		v.Add(paramWatch, id)
	}
	return "events?" + v.Encode()
}

func appendNew(list []string, s string) []string {
	if s == "" || slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
