// Command rabbitmq-consumer-log-server is the central log of RPC requests
// and responses: the log server API under /api/v1/, which the shippers
// post to, and the GUI at /.
//
//	rabbitmq-consumer-log-server --config-file-path /etc/rabbitmq-consumer/log-server.yml
//
// Exit status 0 on SIGTERM/SIGINT, 1 on a runtime failure, 64 for a bad
// command line, 78 for a configuration error.
package main

import (
	"os"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver"
)

func main() { os.Exit(logserver.Main(os.Args[1:], os.Stderr)) }
