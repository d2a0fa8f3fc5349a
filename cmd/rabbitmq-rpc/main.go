// Command rabbitmq-rpc makes one RPC call and prints the response:
//
//	rabbitmq-rpc --config-file-path F --virtual-host-name V --exchange X [--timeout 30s] '{"json": "body"}'
//
// Exit status 0 for a success response, 1 for a failure response, and
// 2 usage, 3 configuration, 4 timeout, 5 unroutable, 6 connection failure.
package main

import (
	"os"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/client/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
