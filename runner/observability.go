package runner

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/loglevel"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/metrics"
)

// observability is a virtual host's metrics and their listener, which also
// serves the log levels; all nil without metrics_listen.
type observability struct {
	addr    string
	reg     *prometheus.Registry
	metrics *metrics.Consumer
	levels  *loglevel.Switch
	log     zerolog.Logger
	srv     *metrics.Server
}

// newObservability makes the metrics of vhost when it has metrics_listen.
func newObservability(cfg *config.Config, vhost string, sw *loglevel.Switch, base zerolog.Logger) (*observability, error) {
	o := &observability{levels: sw, log: sw.Logger(base, loglevel.Metrics)}
	vh, err := cfg.VirtualHost(vhost)
	if err != nil || vh.MetricsListen == "" {
		return o, nil // a missing virtual host is consumer.New's to report
	}
	o.addr, o.reg = vh.MetricsListen, metrics.NewRegistry()
	if o.metrics, err = metrics.NewConsumer(o.reg, vhost, vh.ExchangeNames()); err != nil {
		return nil, err
	}
	return o, nil
}

// serve starts the listener, if any.
func (o *observability) serve() error {
	if o.reg == nil {
		return nil
	}
	srv, err := metrics.Listen(o.addr, metrics.Mux(o.reg, loglevel.HTTPHandler(o.levels, o.log)))
	if err != nil {
		return err
	}
	o.srv = srv
	o.log.Info().Str("metrics_listen", srv.Addr()).Msg("serving metrics at /metrics and the log levels at /log-level")
	return nil
}

// close stops the listener, if any.
func (o *observability) close() {
	if o.srv != nil {
		_ = o.srv.Close()
	}
}
