package handlerproto

import (
	"bufio"
	"context"
	"encoding/json"
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
// a process: Serve then returns nil).
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
	for sc.Scan() {
		var req Request
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			return fmt.Errorf("read a request: %w", err)
		}
		if req.CorrelationID == "" {
			return errors.New("read a request: a line without a correlation_id")
		}
		if _, err := w.Write(answer(ctx, h, req, errOut)); err != nil {
			return fmt.Errorf("write a response: %w", err)
		}
		if err := w.Flush(); err != nil {
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

// answer is the response line to one request: the handler's, or the
// unexpected error's when the handler fails, panics or answers with data
// that is not JSON.
func answer(ctx context.Context, h Handler, req Request, errOut io.Writer) []byte {
	if d, ok := req.DeadlineTime(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d)
		defer cancel()
	}
	r, err := call(ctx, h, req)
	var b []byte
	if err == nil {
		b, err = encodeResponse(req.CorrelationID, r)
	}
	if err != nil {
		fmt.Fprintf(errOut, "handler failed on request %s: %v\n", req.CorrelationID, err)
		b, _ = encodeResponse(req.CorrelationID, unexpected())
	}
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
