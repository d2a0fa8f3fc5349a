package logserver

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/rs/zerolog"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/manual"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/api"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/runner"
)

// ShutdownTimeout bounds how long a SIGTERM waits for the requests in
// flight.
const ShutdownTimeout = 20 * time.Second

// Main runs the log server with the command line args (without the
// program name) until SIGTERM or SIGINT, and returns the exit status:
// runner.ExitOK, ExitFailure, ExitUsage, ExitConfig.
func Main(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("rabbitmq-consumer-log-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config-file-path", envOr("CONFIG_FILE_PATH", config.DefaultPath), "configuration `file`")
	fs.Usage = manual.Usage(fs, Manual)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return runner.ExitOK
		}
		return runner.ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "rabbitmq-consumer-log-server: unexpected argument %q (the secrets come from files named in the configuration)\n", fs.Arg(0))
		return runner.ExitUsage
	}
	log := zerolog.New(stderr).With().Timestamp().Logger()
	cfg, err := config.Load(*cfgPath)
	if err == nil {
		err = checkDatabase(cfg)
	}
	if err != nil {
		log.Error().Msg("configuration error: " + err.Error())
		return runner.ExitConfig
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return serve(ctx, cfg, log)
}

// serve runs the server of a checked configuration until ctx ends.
func serve(ctx context.Context, cfg *config.Config, log zerolog.Logger) int {
	notify := func(state string) { _, _ = daemon.SdNotify(false, state) }
	openCtx, cancel := context.WithTimeout(ctx, time.Minute)
	st, err := OpenStore(openCtx, cfg)
	cancel()
	if err != nil {
		log.Error().Msg("cannot open the database: " + err.Error())
		return runner.ExitFailure
	}
	defer st.Close()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		log.Error().Msg("cannot listen: " + err.Error())
		return runner.ExitFailure
	}
	opts := api.Options{Token: cfg.APIToken, GUIPassword: cfg.GUIPassword, Logger: log}
	srv := newServer(st, cfg, opts, log)
	retCtx, stopRetention := context.WithCancel(ctx)
	retained := make(chan struct{})
	go func() {
		defer close(retained)
		(&Retention{Store: st, KeepDays: cfg.KeepDays, Logger: log}).Run(retCtx)
	}()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info().Str("listen", ln.Addr().String()).Str("database", databaseName(cfg)).Int("keep_days", cfg.KeepDays).Msg("serving")
	notify(daemon.SdNotifyReady)
	notify("STATUS=serving on " + ln.Addr().String())
	code := runner.ExitOK
	select {
	case <-ctx.Done():
		notify(daemon.SdNotifyStopping)
		log.Info().Msg("stopping")
		shutCtx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
		if err := srv.Shutdown(shutCtx); err != nil {
			log.Warn().Err(err).Msg("requests still in flight at shutdown")
		}
		cancel()
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Msg("serving failed")
			code = runner.ExitFailure
		}
	}
	stopRetention()
	<-retained
	log.Info().Msg("stopped")
	return code
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
