package api

import (
	"net/http"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
)

// ParamCounts asks GET /rpc-requests for the counts per outcome of the
// filter too ("1").
const ParamCounts = "counts"

// ListResponse is the body of GET /rpc-requests.
type ListResponse struct {
	store.Page
	// Counts per outcome of the filter (its outcomes aside), when asked
	// for with counts=1.
	Counts map[store.Outcome]int64 `json:"counts,omitempty"`
}

// ListRequests is GET /rpc-requests?<store query parameters>: one page of
// pairs, newest first, as JSON; ?correlation_id=X finds one, with its
// progress updates in order ("progress", an array). It answers
// 400 naming a malformed parameter. Guarded by the GUI password (see
// RequirePassword): the records are what the GUI shows.
func ListRequests(st store.Store, opts Options) http.Handler {
	return RequirePassword(opts.GUIPassword, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := r.URL.Query()
		q, err := store.ParseQuery(v)
		if err != nil {
			detail(w, http.StatusBadRequest, err.Error())
			return
		}
		var resp ListResponse
		if resp.Page, err = st.List(r.Context(), q.Filter, q.Before, q.Limit); err != nil {
			opts.Logger.Error().Err(err).Msg("cannot list records")
			detail(w, http.StatusInternalServerError, "Internal Server Error")
			return
		}
		if q.Filter.CorrelationID != "" && !q.Filter.CorrelationPrefix {
			for i := range resp.Pairs {
				p := &resp.Pairs[i]
				if p.Progress, err = st.Progress(r.Context(), p.Request.CorrelationID); err != nil {
					opts.Logger.Error().Err(err).Msg("cannot read progress updates")
					detail(w, http.StatusInternalServerError, "Internal Server Error")
					return
				}
			}
		}
		if v.Get(ParamCounts) == "1" {
			if resp.Counts, err = st.Counts(r.Context(), q.Filter); err != nil {
				opts.Logger.Error().Err(err).Msg("cannot count records")
				detail(w, http.StatusInternalServerError, "Internal Server Error")
				return
			}
		}
		writeJSON(w, http.StatusOK, resp)
	}))
}
