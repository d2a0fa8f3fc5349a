package store

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Query parameters shared by the GUI's URLs and the JSON API.
const (
	ParamCorrelationID = "correlation_id"
	ParamPrefix        = "prefix" // "1": correlation_id is a prefix
	ParamVirtualHost   = "virtual_host_name"
	ParamExchange      = "exchange_name"
	ParamHostname      = "hostname"
	ParamOutcome       = "outcome" // repeated, or comma-separated
	ParamSince         = "since"   // RFC 3339
	ParamUntil         = "until"   // RFC 3339
	ParamAfter         = "after"   // request ID
	ParamBefore        = "before"  // keyset cursor: request ID
	ParamLimit         = "limit"
)

// DefaultLimit and MaxLimit bound a page.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Query is a parsed listing request: what to select and which page.
type Query struct {
	Filter Filter
	// Before is the keyset cursor (Page.Next of the previous page), 0 for
	// the newest page.
	Before int64
	Limit  int
}

// ParseQuery reads a listing request from URL parameters. Empty parameters
// are ignored; a malformed one is an error naming it.
func ParseQuery(v url.Values) (Query, error) {
	q := Query{Limit: DefaultLimit}
	f := &q.Filter
	f.CorrelationID = strings.TrimSpace(v.Get(ParamCorrelationID))
	f.CorrelationPrefix = v.Get(ParamPrefix) == "1"
	f.VirtualHost = v.Get(ParamVirtualHost)
	f.Exchange = v.Get(ParamExchange)
	f.Hostname = v.Get(ParamHostname)
	for _, raw := range v[ParamOutcome] {
		for _, s := range strings.Split(raw, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			o := Outcome(s)
			if !validOutcome(o) {
				return Query{}, fmt.Errorf("parameter %s: %q is not one of awaiting, success, failure, error", ParamOutcome, s)
			}
			f.Outcomes = append(f.Outcomes, o)
		}
	}
	var err error
	if f.Since, err = parseTime(v, ParamSince); err != nil {
		return Query{}, err
	}
	if f.Until, err = parseTime(v, ParamUntil); err != nil {
		return Query{}, err
	}
	if f.After, err = parseInt(v, ParamAfter); err != nil {
		return Query{}, err
	}
	if q.Before, err = parseInt(v, ParamBefore); err != nil {
		return Query{}, err
	}
	if s := v.Get(ParamLimit); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return Query{}, fmt.Errorf("parameter %s: %q is not a number from 1 to %d", ParamLimit, s, MaxLimit)
		}
		q.Limit = n
	}
	return q, nil
}

// Values renders the filter as URL parameters (without paging), so that a
// link keeps the current filter.
func (f Filter) Values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set(ParamCorrelationID, f.CorrelationID)
	if f.CorrelationPrefix {
		v.Set(ParamPrefix, "1")
	}
	set(ParamVirtualHost, f.VirtualHost)
	set(ParamExchange, f.Exchange)
	set(ParamHostname, f.Hostname)
	for _, o := range f.Outcomes {
		v.Add(ParamOutcome, string(o))
	}
	if !f.Since.IsZero() {
		v.Set(ParamSince, f.Since.UTC().Format(time.RFC3339))
	}
	if !f.Until.IsZero() {
		v.Set(ParamUntil, f.Until.UTC().Format(time.RFC3339))
	}
	if f.After != 0 {
		v.Set(ParamAfter, strconv.FormatInt(f.After, 10))
	}
	return v
}

func validOutcome(o Outcome) bool {
	for _, x := range Outcomes {
		if o == x {
			return true
		}
	}
	return false
}

func parseTime(v url.Values, key string) (time.Time, error) {
	s := v.Get(key)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parameter %s: %q is not an RFC 3339 time such as 2026-01-02T15:04:05Z", key, s)
	}
	return t, nil
}

func parseInt(v url.Values, key string) (int64, error) {
	s := v.Get(key)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("parameter %s: %q is not a record id", key, s)
	}
	return n, nil
}
