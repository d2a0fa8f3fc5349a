// Command rabbitmq-consumer-docs documents the handlers' contracts: a docs
// server and static site with the JSON Schemas, client types, and a lint:
//
//	rabbitmq-consumer-docs serve --handlers-directory D --listen ADDR
//	rabbitmq-consumer-docs build --handlers-directory D --output DIR
//	rabbitmq-consumer-docs generate go|python ...
//	rabbitmq-consumer-docs lint D
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/docscli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	status := docscli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr, nil)
	stop()
	os.Exit(status)
}
