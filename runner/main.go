package runner

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/consumer"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/handler"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/loglevel"
)

// Version is the program's version, set at build time.
var Version = "dev"

// Main runs the consumer process with args (without the program name) and
// the Go handlers given, and returns the exit status.
func Main(args []string, handlers map[string]handler.Handler) int {
	return run(args, handlers, os.Stderr)
}

func run(args []string, handlers map[string]handler.Handler, stderr io.Writer) int {
	fs := flag.NewFlagSet("rabbitmq-consumer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	setUsage(fs)
	vhost := fs.String("virtual-host-name", "", "RabbitMQ virtual host to serve (the unit instance name; required)")
	cfgPath := fs.String("config-file-path", envOr("CONFIG_FILE_PATH", config.DefaultPath), "configuration file")
	drain := fs.Duration("drain-timeout", consumer.DefaultDrainTimeout, "on SIGTERM, how long to wait for running requests")
	maxBytes := fs.Int("max-request-bytes", consumer.DefaultMaxRequestBytes, "largest request body accepted")
	logFormat := fs.String("log-format", "auto", "log format: auto, json or console")
	logLevel := fs.String("log-level", "info", "log level (trace, debug, info, warn or error), then component=level items, e.g. info,handler=debug (components: "+strings.Join(loglevel.Components, ", ")+"); SIGUSR1 makes every component more verbose, SIGUSR2 restores these levels")
	version := fs.Bool("version", false, "print the version and exit")
	check := fs.Bool("check", false, "check the configuration and the handlers, then exit (0: fine, 78 or 65: what is wrong)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if *version {
		fmt.Fprintln(stderr, "rabbitmq-consumer", Version)
		return ExitOK
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "rabbitmq-consumer: unexpected arguments: %v\n", fs.Args())
		return ExitUsage
	}
	if *vhost == "" {
		fmt.Fprintln(stderr, "rabbitmq-consumer: --virtual-host-name is required")
		return ExitUsage
	}
	if *drain <= 0 {
		fmt.Fprintln(stderr, "rabbitmq-consumer: --drain-timeout must be positive")
		return ExitUsage
	}
	logOut := newBatchWriter(stderr, 50*time.Millisecond)
	defer logOut.Close()
	levels, err := loglevel.Parse(*logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "rabbitmq-consumer: --log-level:", err)
		return ExitUsage
	}
	base, err := newLogger(logOut, *logFormat)
	if err != nil {
		fmt.Fprintln(stderr, "rabbitmq-consumer:", err)
		return ExitUsage
	}
	sw := loglevel.NewSwitch(levels)
	log := sw.Logger(base, loglevel.Consumer)
	defer loglevel.FollowSignals(sw, sw.Logger(base, loglevel.Metrics))()
	n := notifier{log: log}

	cfg, err := config.Load(*cfgPath)
	if err != nil {
		log.Error().Msg("configuration error: " + err.Error())
		return ExitConfig
	}
	for _, w := range cfg.Warnings {
		log.Warn().Msg(w)
	}
	journal, closeJournal, err := openJournal(cfg, *vhost)
	if err != nil {
		log.Error().Msg("configuration error: " + cfg.Path + ": spool_directory: " + err.Error())
		return ExitConfig
	}
	defer closeJournal()
	amqpLog, handlerLog := sw.Logger(base, loglevel.AMQP), sw.Logger(base, loglevel.Handler)
	obs, err := newObservability(cfg, *vhost, sw, base)
	if err != nil {
		log.Error().Err(err).Msg("cannot make the metrics")
		return ExitFailure
	}
	c, err := consumer.New(consumer.Options{
		Config:          cfg,
		VirtualHost:     *vhost,
		Handlers:        handlers,
		Logger:          log,
		Journal:         journal,
		Notify:          n.notify,
		DrainTimeout:    *drain,
		MaxRequestBytes: *maxBytes,
		Metrics:         obs.metrics,
		AMQPLogger:      &amqpLog,
		HandlerLogger:   &handlerLog,
	})
	var re *consumer.RouteError
	switch {
	case errors.As(err, &re):
		log.Error().Msg("handler error: " + err.Error())
		return ExitHandler
	case err != nil:
		log.Error().Msg("configuration error: " + err.Error())
		return ExitConfig
	}

	if *check {
		c.Close() // the persistent handlers' processes New started to check them
		// Through logOut, as the log lines of the processes just checked: the
		// two writers must not write to stderr at once.
		fmt.Fprintf(logOut, "rabbitmq-consumer: %s: virtual host %s: configuration and %d handlers are fine\n", cfg.Path, *vhost, len(c.Exchanges()))
		return ExitOK
	}

	limitThreads(c.RelaysOnly(), log)

	if err := obs.serve(); err != nil {
		c.Close()
		log.Error().Msg("cannot serve metrics: " + err.Error())
		return ExitFailure
	}
	defer obs.close()

	// A consumer of this virtual host that crashed may have left handler
	// processes running: they die before any request can run again.
	handler.KillOrphaned(*vhost, handlerLog.With().Str("vhost", *vhost).Logger())

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	finished := make(chan struct{})
	defer close(finished)
	// SIGHUP replaces the persistent handlers' processes (new code, new
	// configuration of theirs), losing no request.
	hups := make(chan os.Signal, 1)
	signal.Notify(hups, syscall.SIGHUP)
	defer signal.Stop(hups)
	go func() {
		for {
			select {
			case <-hups:
				log.Info().Msg("SIGHUP: replacing the persistent handler processes")
				c.Reload()
			case <-finished:
				return
			}
		}
	}()
	go func() {
		select {
		case s := <-sigs:
			log.Info().Str("signal", s.String()).Msg("stopping gracefully; a second signal stops at once")
			cancel()
		case <-finished:
			return
		}
		select {
		case s := <-sigs:
			log.Warn().Str("signal", s.String()).Msg("second signal: stopping at once")
			c.Abort()
		case <-finished:
		}
	}()
	wdCtx, wdCancel := context.WithCancel(context.Background())
	defer wdCancel()
	if iv := watchdogInterval(); iv > 0 {
		go c.Watchdog(wdCtx, iv, func() { n.notify("WATCHDOG=1") })
	}

	err = c.Run(ctx)
	var refused *consumer.BrokerRefusedError
	switch {
	case errors.As(err, &refused):
		log.Error().Msg(err.Error())
		return ExitRefused
	case err != nil:
		log.Error().Err(err).Msg("stopped with an error")
		return ExitFailure
	}
	return ExitOK
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
