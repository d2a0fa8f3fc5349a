// Command rabbitmq-consumer-logship ships the RPC request and response
// records that the consumers spool to the central log server:
//
//	rabbitmq-consumer-logship --config-file-path F
//
// Exit status 0 on SIGTERM/SIGINT, 1 on a runtime failure, 64 for a bad
// command line, 78 for a configuration error (or no log_server), 77 when
// the log server rejects the API token (sysexits(3); not 2, the Go
// runtime's crash status).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/rs/zerolog"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/loglevel"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/metrics"
)

const (
	exitOK           = 0
	exitFailure      = 1
	exitUsage        = 64
	exitUnauthorized = 77
	exitConfig       = 78
)

func main() { os.Exit(run()) }

func run() int {
	fs := flag.NewFlagSet("rabbitmq-consumer-logship", flag.ContinueOnError)
	setUsage(fs)
	cfgPath := fs.String("config-file-path", envOr("CONFIG_FILE_PATH", config.DefaultPath), "configuration file")
	poll := fs.Duration("poll", 250*time.Millisecond, "how often to look for new records and virtual hosts")
	logLevel := fs.String("log-level", "info", "log level: trace, debug, info, warn or error, then component=level items (components: logship, metrics); SIGUSR1 makes every component more verbose, SIGUSR2 restores these levels")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return exitUsage
	}
	levels, err := loglevel.Parse(*logLevel)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rabbitmq-consumer-logship: --log-level:", err)
		return exitUsage
	}
	sw := loglevel.NewSwitch(levels)
	base := zerolog.New(os.Stderr).With().Timestamp().Logger()
	log := sw.Logger(base, loglevel.Logship)
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		log.Error().Msg("configuration error: " + err.Error())
		return exitConfig
	}
	for _, w := range cfg.Warnings {
		log.Warn().Msg(w)
	}
	if cfg.LogServer == nil {
		log.Error().Msg("configuration error: " + cfg.Path + ": log_server: not configured, nothing to ship to")
		return exitConfig
	}
	sh := logship.NewShipper(cfg.SpoolDirectory, logship.ShipperOptions{
		BaseURL: cfg.LogServer.BaseURL, Token: cfg.LogServer.APIToken, Logger: log, Poll: *poll,
	})
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()
	defer loglevel.FollowSignals(sw, sw.Logger(base, loglevel.Metrics))()
	if addr := cfg.LogServer.MetricsListen; addr != "" {
		srv, err := serveMetrics(addr, sh, sw, sw.Logger(base, loglevel.Metrics))
		if err != nil {
			log.Error().Msg("cannot serve metrics: " + err.Error())
			return exitFailure
		}
		defer srv.Close()
		log.Info().Str("metrics_listen", srv.Addr()).Msg("serving metrics at /metrics")
	}
	notify := func(s string) { _, _ = daemon.SdNotify(false, s) }
	go report(ctx, sh, notify)
	log.Info().Str("spool", cfg.SpoolDirectory).Str("log_server", cfg.LogServer.BaseURL).Msg("shipping")
	notify("READY=1")
	err = sh.Run(ctx)
	notify("STOPPING=1")
	st := sh.Stats()
	log.Info().Int64("shipped", st.Shipped).Int64("set_aside", st.SetAside).Int64("already_there", st.AlreadyThere).Int64("progress_skipped", st.ProgressSkipped).Msg("stopped")
	switch {
	case errors.Is(err, logship.ErrUnauthorized):
		return exitUnauthorized
	case err != nil:
		log.Error().Err(err).Msg("shipping failed")
		return exitFailure
	}
	return exitOK
}

// report sends STATUS= with the backlog, and WATCHDOG=1 pings while the
// process runs.
func report(ctx context.Context, sh *logship.Shipper, notify func(string)) {
	interval := 5 * time.Second
	if wd, err := daemon.SdWatchdogEnabled(false); err == nil && wd > 0 && wd/2 < interval {
		interval = wd / 2
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		bytes, files := sh.Backlog()
		notify("STATUS=" + status(bytes, files, sh.Stats()))
		notify("WATCHDOG=1")
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// status is the STATUS= text: the backlog and what became of the records.
func status(bytes int64, files int, st logship.Stats) string {
	s := fmt.Sprintf("backlog %d bytes in %d files; shipped %d", bytes, files, st.Shipped)
	if st.AlreadyThere > 0 {
		s += fmt.Sprintf(", %d already there", st.AlreadyThere)
	}
	if st.ProgressSkipped > 0 {
		s += fmt.Sprintf(", %d progress skipped", st.ProgressSkipped)
	}
	return s + fmt.Sprintf(", set aside %d (%s)", st.SetAside, logship.RejectedFile)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// serveMetrics serves the shipper's metrics and log levels on addr.
func serveMetrics(addr string, sh *logship.Shipper, sw *loglevel.Switch, log zerolog.Logger) (*metrics.Server, error) {
	reg := metrics.NewRegistry()
	if err := metrics.RegisterShipper(reg, sh); err != nil {
		return nil, err
	}
	return metrics.Listen(addr, metrics.Mux(reg, loglevel.HTTPHandler(sw, log)))
}
