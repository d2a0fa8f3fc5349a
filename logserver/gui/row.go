package gui

import (
	"strconv"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
)

// rowView is one pair in the list.
type rowView struct {
	ID            int64
	CorrelationID string
	URL           string
	Time          string
	TimeISO       string
	Ago           string
	Outcome       store.Outcome
	Duration      string // "" while awaiting
	Message       string
	VirtualHost   cellView
	Exchange      cellView
	Hostname      cellView
}

// cellView is a value with a link that narrows the list to it.
type cellView struct {
	Text, URL string
}

// rowOf prepares a pair for the list; f is the list's filter, which the
// cells' links narrow.
func (g *gui) rowOf(p store.Pair, f store.Filter, now time.Time) rowView {
	r := p.Request
	row := rowView{
		ID:            r.ID,
		CorrelationID: r.CorrelationID,
		URL:           pairURL(r.CorrelationID),
		Time:          r.CreatedAt.In(g.opts.Location).Format(timeLayout),
		TimeISO:       r.CreatedAt.UTC().Format(time.RFC3339Nano),
		Ago:           formatAgo(now, r.CreatedAt),
		Outcome:       p.Outcome,
	}
	if p.Response != nil {
		row.Duration = formatDuration(p.Duration)
		row.Message = responseMessage(p.Response.ResponsePayload)
	}
	narrow := func(text string, set func(*store.Filter)) cellView {
		g := f
		g.After = 0
		set(&g)
		return cellView{Text: text, URL: listURL(g, 0, 0)}
	}
	row.VirtualHost = narrow(r.VirtualHostName, func(g *store.Filter) { g.VirtualHost = r.VirtualHostName })
	row.Exchange = narrow(r.ExchangeName, func(g *store.Filter) { g.Exchange = r.ExchangeName })
	row.Hostname = narrow(r.Hostname, func(g *store.Filter) { g.Hostname = r.Hostname })
	return row
}

// rowID is the HTML id of a pair's row, which the live view updates.
func (r rowView) RowID() string { return "pair-" + strconv.FormatInt(r.ID, 10) }
