// Command rabbitmq-consumer serves one RabbitMQ virtual host: it answers RPC
// requests with the executable handlers of the handlers directory.
//
//	rabbitmq-consumer --virtual-host-name V --config-file-path F
package main

import (
	"os"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/runner"
)

var version = "dev"

func main() {
	runner.Version = version
	os.Exit(runner.Main(os.Args[1:], nil))
}
