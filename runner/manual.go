package runner

import (
	"flag"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/manual"
)

// Manual is the consumer's manual page, rabbitmq-consumer(1); its flags
// are the flag set of Main.
var Manual = manual.Page{
	Name:     "rabbitmq-consumer",
	Section:  1,
	Summary:  "answer the RPC requests of one RabbitMQ virtual host with the installed handlers",
	Synopsis: []string{"--virtual-host-name V [--config-file-path F] [--check] [options]"},
	Description: `rabbitmq-consumer serves one RabbitMQ virtual host: it declares the virtual host's queue and exchanges, receives each JSON request published to an exchange, validates it against the contract of the exchange's handler, runs the handler and publishes the response to the caller. One process serves one virtual host; systemd runs one per virtual host as rabbitmq-consume@VHOST.service.

Handlers live in the handlers directory of the configuration, one directory per exchange holding an executable named handler and its contract.json (/usr/share/doc/rabbitmq-consumer/handlers.md.gz). Everything is checked at start: a missing or broken handler or contract stops the process with one line naming the file.

On SIGTERM or SIGINT the process stops taking requests, lets the running ones finish (up to --drain-timeout), publishes and acknowledges their responses, and exits; a second signal stops it at once. SIGHUP replaces the processes of persistent handlers without losing a request.

--log-level sets the level of every component, and of some: info,handler=debug (components: amqp, consumer, handler, logship, metrics). SIGUSR1 makes every component one level more verbose, SIGUSR2 restores the levels of the command line. With metrics_listen in the virtual host's configuration, GET /metrics serves Prometheus metrics and PUT /log-level (from this host only) sets the levels without a restart.

Run --check after changing the configuration or the handlers, before restarting the consumers:

	rabbitmq-consumer --check --virtual-host-name trees`,
	Sections: []manual.Section{
		{Title: "EXIT STATUS", Body: `0	stopped cleanly, every running request answered
1	runtime failure, or a stop that gave up on running requests (restarted by systemd)
2	a crash (restarted by systemd)
64	bad command line
65	handler error: an exchange without a handler, a handler that is not executable, a contract that is not valid JSON or JSON Schema, an example that breaks its own schemas
77	the broker refused the connection in a way retrying cannot fix: credentials, a virtual host missing on the broker, a TLS certificate that does not verify
78	configuration error: file missing, YAML, unknown key, virtual host not in the file, bad Fernet key

The unit's RestartPreventExitStatus=64 65 77 78 keeps a broken setup from restart-looping.`},
		{Title: "ENVIRONMENT", Body: `CONFIG_FILE_PATH	the default of --config-file-path
RABBITMQ_CONSUMER_HANDLER_ENV	names of the consumer's environment variables passed on to handlers (separated by spaces or commas); handlers get a clean environment otherwise

Settings of the configuration file may be overridden by environment variables; see rabbitmq-consumer.yml(5).`},
		{Title: "FILES", Body: `/etc/rabbitmq-consumer/rabbitmq.yml	the configuration
/usr/lib/rabbitmq-consumer/handlers/	the handlers, one directory per exchange
/var/lib/rabbitmq-consumer/	the log spool and the recent outcomes`},
	},
	SeeAlso: []string{"rabbitmq-consumer.yml(5)", "rabbitmq-rpc(1)", "rabbitmq-consumer-status(1)", "rabbitmq-consumer-logship(1)", "rabbitmq-consumer-docs(1)", "systemctl(1)"},
}

// setUsage makes fs's --help show Manual (and write the man page, see
// manual.FormatEnv).
func setUsage(fs *flag.FlagSet) { fs.Usage = manual.Usage(fs, Manual) }
