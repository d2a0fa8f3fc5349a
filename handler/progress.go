package handler

import (
	"context"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// progressKey is the context key of a request's progress reporter.
type progressKey struct{}

// WithProgress returns ctx carrying report, which gets each progress
// update of the request handled under ctx. The consumer sets it; report
// must be safe for concurrent use and must not block for long.
func WithProgress(ctx context.Context, report func(wire.Progress)) context.Context {
	return context.WithValue(ctx, progressKey{}, report)
}

// Progress reports a progress update of the request handled under ctx
// (a Go handler's context): the consumer, rate-limited, journals it for
// the log server, logs it, and passes it on to a caller that asked for
// progress. It never blocks for long and never fails.
func Progress(ctx context.Context, p wire.Progress) {
	if report, ok := ctx.Value(progressKey{}).(func(wire.Progress)); ok && report != nil {
		report(p)
	}
}
