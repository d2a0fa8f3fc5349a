package logserver

import (
	"net/http"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/api"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
)

// guiHandler is the GUI served at /.
//
// Placeholder until the GUI package is wired in: a page, behind the GUI
// password, that points at the JSON API.
func guiHandler(_ store.Store, cfg *config.Config) http.Handler {
	return api.RequirePassword(cfg.GUIPassword, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("rabbitmq-consumer-log-server: the records are at " + APIBase + "/rpc-requests (JSON)\n"))
	}))
}
