package handlerproto

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// MaxLine bounds a request line (the consumer's requests are far smaller).
const MaxLine = 16 << 20

// Handler answers one request. An error, or a panic, answers the request
// with the unexpected-error reply ("An unexpected error occurred"), is
// written to stderr (the consumer's log), and serving goes on. ctx carries
// the caller's deadline when the request has one.
type Handler func(ctx context.Context, r Request) (wire.Response, error)

// Serve speaks the protocol over os.Stdin and os.Stdout, with errors of
// the handler on os.Stderr, until stdin ends (the consumer's way of ending
// a process: Serve then returns nil). It waits for requests in a blocking
// read of stdin: a busy process is woken straight by the kernel, and its
// runtime neither polls nor spins an idle thread between requests, which
// costs less CPU per request than the runtime's poller
// (docs/benchmarks.md); an idle process costs nothing measurable.
func Serve(ctx context.Context, h Handler) error {
	return ServeIO(ctx, os.Stdin, os.Stdout, os.Stderr, h)
}

// ServeIO is Serve over the given streams: it writes the handshake to out,
// then answers each request line of in with one response line on out,
// flushed, on the calling goroutine. It returns nil at the end of in,
// ctx.Err() when ctx is done after a response (a read in progress is not
// interrupted: the consumer ends a process by closing its stdin), and an
// error for a line of in that is not a request or a failed write.
func ServeIO(ctx context.Context, in io.Reader, out, errOut io.Writer, h Handler) error {
	w := bufio.NewWriter(out)
	if _, err := w.WriteString(`{"protocol":"` + Protocol + `"}` + "\n"); err != nil {
		return fmt.Errorf("write the handshake: %w", err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write the handshake: %w", err)
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), MaxLine)
	var line []byte // the response line, reused
	for sc.Scan() {
		req, err := parseRequest(sc.Bytes())
		if err != nil {
			return fmt.Errorf("read a request: %w", err)
		}
		if req.CorrelationID == "" {
			return errors.New("read a request: a line without a correlation_id")
		}
		pl := &progressLines{w: w, correlationID: req.CorrelationID}
		line = answer(context.WithValue(ctx, progressKey{}, pl), h, req, errOut, line[:0])
		if err := pl.finish(line); err != nil {
			return fmt.Errorf("write a response: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read a request: %w", err)
	}
	return nil
}

// answer appends to b the response line to one request: the handler's,
// or the unexpected error's when the handler fails, panics or answers with
// data that is not JSON.
func answer(ctx context.Context, h Handler, req Request, errOut io.Writer, b []byte) []byte {
	if d, ok := req.DeadlineTime(); ok {
		dc := withDeadline(ctx, d)
		defer dc.stop()
		ctx = dc
	}
	r, err := call(ctx, h, req)
	var later *retryLaterError
	if errors.As(err, &later) {
		return appendRetryLater(b, req.CorrelationID, later.after)
	}
	if err == nil {
		var out []byte
		if out, err = appendResponse(b, req.CorrelationID, r); err == nil {
			return out
		}
	}
	fmt.Fprintf(errOut, "handler failed on request %s: %v\n", req.CorrelationID, err)
	b, _ = appendResponse(b, req.CorrelationID, unexpected())
	return b
}

// call runs the handler, turning a panic into an error with its stack.
func call(ctx context.Context, h Handler, req Request) (r wire.Response, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return h(ctx, req)
}
