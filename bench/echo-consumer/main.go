// Command echo-consumer is rabbitmq-consumer with one Go handler,
// dx_bench_echo, that answers with its request: the consumer side of the
// benchmark. With RPCBENCH_CPUPROFILE set it writes a CPU profile there.
package main

import (
	"context"
	"os"
	"runtime/pprof"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/handler"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/runner"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// EchoRequest is the benchmark's request: a sequence number (the lock
// attribute, so that requests run in parallel) and a payload.
type EchoRequest struct {
	N       int    `json:"n"`
	Payload string `json:"payload,omitempty"`
}

func echo(_ context.Context, _ *handler.Call, req EchoRequest) (wire.Reply[EchoRequest], error) {
	return wire.Reply[EchoRequest]{Success: true, Message: "echo", Data: req}, nil
}

func main() {
	if path := os.Getenv("RPCBENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer func() { pprof.StopCPUProfile(); _ = f.Close() }()
		}
	}
	code := runner.Main(os.Args[1:], map[string]handler.Handler{
		"dx_bench_echo": handler.Typed("echo the request", echo, handler.WithLockAttribute("n")),
	})
	pprof.StopCPUProfile()
	os.Exit(code)
}
