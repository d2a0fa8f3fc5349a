// Package runner is the rabbitmq-consumer process around package consumer:
// flags, configuration, logging, signals, systemd notification and exit
// statuses. cmd/rabbitmq-consumer is runner.Main with no Go handlers; a
// custom binary passes its own.
package runner

// Exit statuses of the consumer process, from sysexits(3). The unit's
// RestartPreventExitStatus lists those that a restart cannot fix. (Not 2:
// the Go runtime exits with 2 on a crash, which must be restarted.)
const (
	ExitOK      = 0  // stopped cleanly
	ExitFailure = 1  // runtime failure, or a stop that had to abandon requests
	ExitUsage   = 64 // EX_USAGE: bad command line
	ExitHandler = 65 // EX_DATAERR: an exchange's handler or contract is missing or invalid
	ExitRefused = 77 // EX_NOPERM: the broker refused us: credentials, virtual host, TLS certificate, a queue of another type than configured
	ExitConfig  = 78 // EX_CONFIG: configuration file missing or invalid
)
