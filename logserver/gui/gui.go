// Package gui is the log server's web interface: the list of RPC pairs
// with search, filters and counts, a pair's request and response side by
// side, and a live view fed by server-sent events. Pages are rendered on
// the server and work without JavaScript; every asset is embedded.
package gui

import (
	"net/http"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
)

// DefaultPollInterval is how often the live view asks the store for new
// records when Options.PollInterval is zero.
const DefaultPollInterval = time.Second

// Options configure the GUI. The zero value serves the GUI to anyone, in
// UTC, polling every DefaultPollInterval.
type Options struct {
	// Password protects every page and asset with HTTP basic
	// authentication, as the reference log server does: any user name, this
	// password. Empty: no authentication at all — the caller decides
	// whether that is allowed (behind an authenticating proxy, on a
	// loopback address).
	Password string
	// Location is the time zone in which times are shown and the time
	// range inputs are read. Nil: UTC.
	Location *time.Location
	// Now returns the current time (the time range presets, "5 min ago").
	// Nil: time.Now.
	Now func() time.Time
	// PollInterval is how often each open live view asks the store for new
	// records. Zero: DefaultPollInterval.
	PollInterval time.Duration
	// Stop, once closed, ends every live view's event stream (browsers
	// reconnect by themselves), so that a graceful shutdown does not wait
	// for them: close it from http.Server.RegisterOnShutdown. Nil: a stream
	// ends only when its browser goes away.
	Stop <-chan struct{}
	// LogError receives the errors of the store that a page could not be
	// drawn for, so that the server can log them. Nil: they are dropped
	// (the page says that the store failed).
	LogError func(r *http.Request, err error)
}

// withDefaults fills the zero fields of o.
func (o Options) withDefaults() Options {
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.LogError == nil {
		o.LogError = func(*http.Request, error) {}
	}
	return o
}

// gui serves the pages of one store.
type gui struct {
	st    store.Store
	opts  Options
	pages pages
}

// New returns the GUI over st as an http.Handler for the root of a server
// (or of a prefix the caller strips: every link is relative). Routes:
//
//	/               the list (store.ParseQuery's parameters)
//	/pair           one pair (?correlation_id=...)
//	/events         the live view's server-sent events
//	/static/...     the style sheet, the script and the icon
func New(st store.Store, opts Options) http.Handler {
	g := &gui{st: st, opts: opts.withDefaults(), pages: mustParsePages()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", g.list)
	mux.HandleFunc("GET /pair", g.pair)
	mux.HandleFunc("GET /events", g.events)
	mux.Handle("GET /static/", staticHandler())
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) {
		seeOther(w, "static/favicon.svg")
	})
	mux.HandleFunc("/", g.notFound)
	return secureHeaders(basicAuth(g.opts.Password, mux))
}

// secureHeaders forbids every script, style and frame that is not the
// GUI's own, so that nothing a payload holds can ever run.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}
