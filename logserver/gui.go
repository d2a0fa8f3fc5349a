package logserver

import (
	"net/http"

	"github.com/rs/zerolog"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/gui"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
)

// guiHandler is the web interface served at /, behind the GUI password.
// Closing stop ends its live views, so that a shutdown does not wait for
// them.
func guiHandler(st store.Store, cfg *config.Config, log zerolog.Logger, stop <-chan struct{}) http.Handler {
	return gui.New(st, gui.Options{
		Password: cfg.GUIPassword,
		Stop:     stop,
		LogError: func(r *http.Request, err error) {
			log.Error().Err(err).Str("path", r.URL.Path).Msg("web interface: cannot read the store")
		},
	})
}
