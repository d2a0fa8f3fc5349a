package gui

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
)

// pairView is what the pair page shows.
type pairView struct {
	page
	Row         rowView
	Queue       string
	User        string
	RespondedAt string
	Request     payloadView
	Response    *payloadView // nil while awaiting
	Traceback   string
	// EventsURL reports the response of an awaiting pair.
	EventsURL string
	// Progress lists the updates the handler reported, in order.
	Progress []progressView
}

// progressView is one progress update as the pair page lists it.
type progressView struct {
	Time    string // the consumer's clock, to the millisecond
	TimeISO string
	State   string
	Message string
	Percent string // "" when the handler gave none
	Data    string // compact JSON, "" when none
}

// progressLayout shows a progress update's time: updates come a fraction
// of a second apart.
const progressLayout = "2006-01-02 15:04:05.000"

// payloadView is a payload as a tree and as indented text.
type payloadView struct {
	Tree   Node
	Parsed bool // false: the payload is not JSON; Raw shows it as it is
	Raw    string
	Masked int // how many values are masked
}

func (g *gui) pair(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get(store.ParamCorrelationID)
	if id == "" {
		seeOther(w, "./")
		return
	}
	p, ok, err := g.st.Get(r.Context(), id)
	if err != nil {
		g.storeFailed(w, r, err)
		return
	}
	if !ok {
		v := errorView{page: g.newPage("No such request", "pair"), Status: http.StatusNotFound,
			Detail: "No request with the correlation id " + id + " is stored (it may be older than the retention time, or not shipped yet)."}
		g.write(w, r, http.StatusNotFound, "error", v)
		return
	}
	progress, err := g.st.Progress(r.Context(), id)
	if err != nil {
		g.storeFailed(w, r, err)
		return
	}
	v := g.pairView(p)
	v.Progress = g.progressViews(progress)
	if v.EventsURL != "" {
		v.EventsURL += "&" + url.Values{paramProgress: {id}, paramProgressSeen: {strconv.Itoa(len(progress))}}.Encode()
	}
	g.write(w, r, http.StatusOK, "pair", v)
}

// progressViews prepares progress updates for the pair page.
func (g *gui) progressViews(ps []store.Progress) []progressView {
	out := make([]progressView, 0, len(ps))
	for _, p := range ps {
		v := progressView{Time: p.Time.In(g.opts.Location).Format(progressLayout), TimeISO: p.Time.UTC().Format(time.RFC3339Nano),
			State: p.State, Message: p.Message}
		if p.Percent != nil {
			v.Percent = strconv.FormatFloat(*p.Percent, 'f', -1, 64) + " %"
		}
		if len(p.Data) > 0 {
			v.Data = string(compactJSON(p.Data))
		}
		out = append(out, v)
	}
	return out
}

// compactJSON is a JSON text without its spaces (as it is, if it is
// not JSON).
func compactJSON(raw json.RawMessage) []byte {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

// pairView prepares a pair for its page.
func (g *gui) pairView(p store.Pair) pairView {
	req := p.Request
	v := pairView{
		page:    g.newPage(req.CorrelationID+" · RPC log", "pair"),
		Row:     g.rowOf(p, store.Filter{}, g.opts.Now()),
		Queue:   req.QueueName,
		User:    req.RabbitMQUsername,
		Request: payloadOf(req.RequestPayload),
	}
	if p.Response == nil {
		v.EventsURL = eventsURL(store.Filter{CorrelationID: req.CorrelationID}, req.ID, []string{req.CorrelationID})
		return v
	}
	resp := payloadOf(p.Response.ResponsePayload)
	v.Response = &resp
	v.RespondedAt = p.Response.CreatedAt.In(g.opts.Location).Format(timeLayout)
	if tb := p.Response.Traceback; tb != nil {
		v.Traceback = strings.TrimRight(*tb, "\n")
	}
	return v
}

func payloadOf(raw json.RawMessage) payloadView {
	pv := payloadView{Raw: PrettyJSON(raw)}
	if tree, err := ParseTree(raw); err == nil {
		pv.Tree, pv.Parsed = tree, true
		pv.Masked = countMasked(tree)
	}
	return pv
}

func countMasked(n Node) int {
	c := 0
	if n.Masked {
		c++
	}
	for _, ch := range n.Children {
		c += countMasked(ch)
	}
	return c
}
