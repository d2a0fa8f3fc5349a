package main

import "github.com/rabbitmq-consumer/rabbitmq-consumer/internal/manual"

// page is rabbitmq-consumer-status(1); its flags are the command line's.
var page = manual.Page{
	Name:     "rabbitmq-consumer-status",
	Section:  1,
	Summary:  "Nagios-style check over every rabbitmq-consume@ unit",
	Synopsis: []string{"[--json] [--timeout 10s]"},
	Description: `rabbitmq-consumer-status finds every loaded rabbitmq-consume@*.service unit through systemd's D-Bus API, prints one line saying how they are, with performance data, and exits as a Nagios plugin does:

	RABBITMQ-CONSUMER OK - 2 consumers active: rabbitmq-consume@sites.service, rabbitmq-consume@trees.service | active=2 failed=0 activating=0 total=2

--json prints the verdict and every unit (name, active state, sub-state, unit file state, status text) for machines.`,
	Sections: []manual.Section{
		{Title: "EXIT STATUS", Body: `0	OK: every unit is active
1	WARNING: a unit is starting, restarting or stopping, an enabled unit is not running, or there is no unit at all
2	CRITICAL: a unit failed; every failed unit is named
3	UNKNOWN: systemd cannot be reached (the reason is on the line)`},
	},
	SeeAlso: []string{"rabbitmq-consumer(1)", "systemctl(1)"},
}
