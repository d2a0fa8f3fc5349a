package main

import (
	"flag"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/manual"
)

// page is rabbitmq-consumer-logship(1); its flags are the command line's.
var page = manual.Page{
	Name:     "rabbitmq-consumer-logship",
	Section:  1,
	Summary:  "ship the consumers' request and response records to the central log server",
	Synopsis: []string{"[--config-file-path F] [--poll 250ms] [--log-level info[,COMPONENT=LEVEL...]]"},
	Description: `The consumers append one JSON record per RPC request and per response to a spool under the configuration's spool_directory, one directory per virtual host. rabbitmq-consumer-logship follows every virtual host's spool (new ones are picked up as they appear), posts each record to the log server named by log_server.base_url with the token log_server.api_token, and records how far it got after each record the server confirmed: a restart, even after SIGKILL, resumes there. A response is posted only after its request.

A server that is down is retried with exponential backoff, without limit; a record the server refuses for good is set aside in the spool, and the rest go on. systemd runs it as rabbitmq-consumer-logship.service:

	systemctl enable --now rabbitmq-consumer-logship

With log_server.metrics_listen it serves Prometheus metrics at /metrics (the backlog by virtual host, records shipped and set aside, failed posts), which rabbitmq-consumer-status reads, and its log levels at /log-level. --log-level takes component=level items (logship, metrics); SIGUSR1 makes every component more verbose, SIGUSR2 restores the levels of the command line.`,
	Sections: []manual.Section{
		{Title: "EXIT STATUS", Body: `0	stopped by SIGTERM or SIGINT
1	runtime failure
64	bad command line
77	the log server rejects the API token
78	configuration error, or no log_server in the configuration`},
		{Title: "ENVIRONMENT", Body: `CONFIG_FILE_PATH	the default of --config-file-path`},
	},
	SeeAlso: []string{"rabbitmq-consumer(1)", "rabbitmq-consumer.yml(5)"},
}

// setUsage makes fs's --help show page (and write the man page, see
// manual.FormatEnv).
func setUsage(fs *flag.FlagSet) { fs.Usage = manual.Usage(fs, page) }
