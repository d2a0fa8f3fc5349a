package logserver

import (
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/api"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
)

// newServer is the HTTP server of every route. Its shutdown ends the GUI's
// live views, which would otherwise hold it until its timeout.
func newServer(st store.Store, cfg *config.Config, opts api.Options, log zerolog.Logger) *http.Server {
	stopGUI := make(chan struct{})
	srv := &http.Server{
		Handler:           Handler(st, opts, guiHandler(st, cfg, log, stopGUI)),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	srv.RegisterOnShutdown(func() { close(stopGUI) })
	return srv
}
