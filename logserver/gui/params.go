package gui

import (
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
)

// inputLayouts are what a browser's datetime-local input sends, read in
// the GUI's time zone.
var inputLayouts = []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"}

// inputLayout is the value of a datetime-local input (with seconds).
const inputLayout = "2006-01-02T15:04:05"

// normalizeParams returns a copy of v without empty parameters and with the
// time range in RFC 3339: the list form's time inputs send local times
// without a zone, which are read in loc. Values it cannot read are kept
// as they are, for store.ParseQuery to name.
func normalizeParams(v url.Values, loc *time.Location) url.Values {
	out := url.Values{}
	for k, vs := range v {
		for _, s := range vs {
			if s == "" {
				continue
			}
			if k == store.ParamSince || k == store.ParamUntil {
				s = rfc3339(s, loc)
			}
			out.Add(k, s)
		}
	}
	return out
}

func rfc3339(s string, loc *time.Location) string {
	if _, err := time.Parse(time.RFC3339, s); err == nil {
		return s
	}
	for _, layout := range inputLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UTC().Format(time.RFC3339)
		}
	}
	return s
}

// listURL is the relative URL of a list page: the filter, the cursor
// (0: the newest page) and the page size (store.DefaultLimit left out).
func listURL(f store.Filter, before int64, limit int) string {
	v := f.Values()
	if before != 0 {
		v.Set(store.ParamBefore, strconv.FormatInt(before, 10))
	}
	if limit != 0 && limit != store.DefaultLimit {
		v.Set(store.ParamLimit, strconv.Itoa(limit))
	}
	if len(v) == 0 {
		return "./"
	}
	return "./?" + v.Encode()
}

// pairURL is the relative URL of a pair's page.
func pairURL(correlationID string) string {
	return "pair?" + url.Values{store.ParamCorrelationID: {correlationID}}.Encode()
}

// sameQuery says whether the relative URL u carries exactly the parameters
// v (however either is spelled).
func sameQuery(u string, v url.Values) bool {
	parsed, err := url.Parse(u)
	if err != nil {
		return false
	}
	w := parsed.Query()
	if len(w) != len(v) {
		return false
	}
	for k, vs := range v {
		if !slices.Equal(vs, w[k]) {
			return false
		}
	}
	return true
}
