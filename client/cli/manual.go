package cli

import "github.com/rabbitmq-consumer/rabbitmq-consumer/internal/manual"

// Manual is rabbitmq-rpc's manual page, rabbitmq-rpc(1); its flags are the
// flag set of Main.
var Manual = manual.Page{
	Name:    "rabbitmq-rpc",
	Section: 1,
	Summary: "make one RPC call to a rabbitmq-consumer action and print the response",
	Synopsis: []string{
		`--virtual-host-name V --exchange X [--config-file-path F] [--timeout 30s] [--encrypt FIELD]... [--direct-reply-to] [--quiet] '{"json": "body"}'`,
		`--virtual-host-name V --exchange X [options] - < request.json`,
	},
	Description: `rabbitmq-rpc publishes one JSON request to the exchange X (the action) of the virtual host V, with the virtual host's queue as routing key, waits for the response and prints it on one line. The broker, the credentials, the queue and the Fernet key come from the configuration file the consumers use. The request is the argument, or stdin when the argument is - or absent.

	rabbitmq-rpc --virtual-host-name trees --exchange dx_example '{"favourite_food": "onion"}'
	{"success":true,"message":"Determined toleration","data":{"tolerable":false}}

--encrypt FIELD encrypts a top-level string field of the request with the virtual host's Fernet key before it is sent.

While the action runs, its progress updates (when its handler reports any) are shown on stderr: on a terminal, one status line with a bar, redrawn in place and cleared before the response is printed; otherwise one line per update, e.g. "progress: 40% Building: Compiling". --quiet asks for none and shows none. The response alone goes to stdout.`,
	Sections: []manual.Section{
		{Title: "EXIT STATUS", Body: `0	the response says success
1	the response says failure (it is printed)
2	bad command line or request body
3	configuration file missing or invalid
4	no response before --timeout
5	unroutable: the exchange does not exist or no queue takes the request
6	cannot connect to the broker, or the connection was lost`},
		{Title: "ENVIRONMENT", Body: `CONFIG_FILE_PATH	the default of --config-file-path`},
	},
	SeeAlso: []string{"rabbitmq-consumer(1)", "rabbitmq-consumer.yml(5)", "rabbitmq-consumer-docs(1)"},
}
