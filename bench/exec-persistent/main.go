// Command exec-persistent is the benchmark's persistent compiled echo: an
// executable handler speaking the persistent handler protocol, version 1
// (docs/handlers.md), through the handlerproto package. It writes the
// handshake line, then answers each request line with its request as the
// response's data, one line each, until its stdin closes.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/handlerproto"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

func main() {
	if err := handlerproto.Serve(context.Background(), echo); err != nil {
		fmt.Fprintln(os.Stderr, "exec-persistent:", err)
		os.Exit(1)
	}
}

// serve runs the protocol over in and out until in ends, as main does
// over stdin and stdout.
func serve(in io.Reader, out io.Writer) error {
	return handlerproto.ServeIO(context.Background(), in, out, os.Stderr, echo)
}

// echo answers with the request as the response's data.
func echo(_ context.Context, r handlerproto.Request) (wire.Response, error) {
	return wire.Response{Success: true, Message: "echo", Data: r.Request}, nil
}
