// Command rabbitmq-consumer-status is a Nagios-style check over all
// rabbitmq-consume@*.service units and the log-shipping backlog. It prints
// one line with performance data (or, with --json, a JSON document) and
// exits 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/manual"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/statuscheck"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	fs := flag.NewFlagSet("rabbitmq-consumer-status", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the verdict, the counts and every unit as JSON")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for systemd and the shipper")
	window := fs.Duration("restart-window", time.Hour, "WARNING for a unit restarted automatically this recently (0: never)")
	backlogWarn := fs.String("backlog-warning", "100M", "WARNING from this log-shipping backlog (bytes; K, M, G suffixes; 0: never)")
	backlogCrit := fs.String("backlog-critical", "0", "CRITICAL from this log-shipping backlog (0: never)")
	logship := fs.String("logship-metrics", "auto", "the shipper's metrics (host:port or URL); auto: log_server.metrics_listen of --config-file-path when set; none: do not check the backlog")
	cfgPath := fs.String("config-file-path", config.DefaultPath, "configuration file, for --logship-metrics auto")
	fs.Usage = manual.Usage(fs, page)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return int(statuscheck.Unknown)
	}
	th := statuscheck.Thresholds{RestartWindow: *window}
	var err error
	if th.BacklogWarning, err = statuscheck.ParseSize(*backlogWarn); err == nil {
		th.BacklogCritical, err = statuscheck.ParseSize(*backlogCrit)
	}
	if err != nil {
		fmt.Println("RABBITMQ-CONSUMER UNKNOWN - bad threshold:", err)
		return int(statuscheck.Unknown)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	v := statuscheck.Check(ctx, th, shipperAddress(*logship, *cfgPath))
	if *asJSON {
		b, _ := json.MarshalIndent(v, "", "  ")
		fmt.Println(string(b))
	} else {
		fmt.Println(v.Line())
	}
	return v.Code
}

// shipperAddress resolves --logship-metrics: "" when the backlog is not
// checked. With auto, a configuration that cannot be read (the check may
// run as a user who may not read its secrets) checks no backlog.
func shipperAddress(flagValue, cfgPath string) string {
	switch flagValue {
	case "none", "":
		return ""
	case "auto":
		cfg, err := config.Load(cfgPath)
		if err != nil || cfg.LogServer == nil {
			return ""
		}
		return cfg.LogServer.MetricsListen
	}
	return flagValue
}
