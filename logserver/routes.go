// Package logserver is the rabbitmq-consumer-log-server process: every
// route in one place (Handler), the retention of records, and Main (flags,
// configuration, store, signals, systemd notification).
package logserver

import (
	"net/http"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/api"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// APIBase is where the API is served; consumers' log_server.base_url is
// http://HOST:PORT/api/v1.
const APIBase = "/api/v1"

// Handler serves every route of the log server: the API under /api/v1/ and
// the GUI at /.
func Handler(st store.Store, opts api.Options, gui http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST "+APIBase+wire.LogRequestsPath, api.PostRequests(st, opts))
	mux.Handle("POST "+APIBase+wire.LogResponsesPath, api.PostResponses(st, opts))
	mux.Handle("POST "+APIBase+wire.LogProgressPath, api.PostProgress(st, opts))
	mux.Handle("GET "+APIBase+wire.LogRequestsPath, api.ListRequests(st, opts))
	mux.Handle(APIBase+"/", api.Fallback(map[string]string{
		APIBase + wire.LogRequestsPath:  "GET, POST",
		APIBase + wire.LogResponsesPath: "POST",
		APIBase + wire.LogProgressPath:  "POST",
	}))
	mux.Handle("/", gui)
	return mux
}
