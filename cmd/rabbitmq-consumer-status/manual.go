package main

import "github.com/rabbitmq-consumer/rabbitmq-consumer/internal/manual"

// page is rabbitmq-consumer-status(1); its flags are the command line's.
var page = manual.Page{
	Name:     "rabbitmq-consumer-status",
	Section:  1,
	Summary:  "Nagios-style check over every rabbitmq-consume@ unit and the log-shipping backlog",
	Synopsis: []string{"[--json] [--timeout 10s] [--restart-window 1h] [--backlog-warning 100M] [--backlog-critical 0] [--logship-metrics auto|none|ADDR]"},
	Description: `rabbitmq-consumer-status finds every loaded rabbitmq-consume@*.service unit through systemd's D-Bus API, reads the log-shipping backlog from the shipper's metrics (log_server.metrics_listen), prints one line saying how they are, with performance data, and exits as a Nagios plugin does:

	RABBITMQ-CONSUMER OK - 2 consumers active: rabbitmq-consume@sites.service, rabbitmq-consume@trees.service | total=2;;;0 active=2;;;0 failed=0;;;0 activating=0;;;0 restarting=0;;;0 restarts=0c;;;0 backlog=0B;104857600;;0

Performance data: units loaded (total), active, failed, activating, waiting to be restarted (restarting), automatic restarts (systemd's NRestarts, summed), and the backlog in bytes with its thresholds.

--json prints the same facts for machines: the verdict, the counts, the thresholds, every unit (name, active state, sub-state, unit file state, status text, restarts, when its process started) and the backlog.`,
	Sections: []manual.Section{
		{Title: "EXIT STATUS", Body: `0	OK: every unit is active
1	WARNING: a unit is starting, restarting or stopping, an enabled unit is not running, a unit restarted within --restart-window, the backlog reached --backlog-warning or cannot be read, or there is no unit at all
2	CRITICAL: a unit failed (every failed unit is named), or the backlog reached --backlog-critical
3	UNKNOWN: systemd cannot be reached, or a flag is wrong (the reason is on the line)`},
	},
	SeeAlso: []string{"rabbitmq-consumer(1)", "systemctl(1)"},
}
