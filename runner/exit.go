// Package runner is the rabbitmq-consumer process around package consumer:
// flags, configuration, logging, signals, systemd notification and exit
// statuses. cmd/rabbitmq-consumer is runner.Main with no Go handlers; a
// custom binary passes its own.
package runner

// Exit statuses of the consumer process. The unit's
// RestartPreventExitStatus lists those that a restart cannot fix.
const (
	ExitOK      = 0 // stopped cleanly
	ExitFailure = 1 // runtime failure, or a stop that had to abandon requests
	ExitUsage   = 2 // bad command line
	ExitConfig  = 3 // configuration file missing or invalid
	ExitHandler = 4 // an exchange's handler or contract is missing or invalid
	ExitRefused = 5 // the broker refused us: credentials, virtual host, TLS certificate
)
