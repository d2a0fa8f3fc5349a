package handlerproto

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// TestProgressLines: Progress writes progress lines of the request being
// served, in order, before its response line; outside a request, or after
// the handler returned, it writes nothing.
func TestProgressLines(t *testing.T) {
	var late context.Context
	h := func(ctx context.Context, r Request) (wire.Response, error) {
		Progress(ctx, wire.Progress{State: "Building", Message: "one", Percent: wire.Percentage(40), Data: []byte(`{"k":1}`)})
		Progress(ctx, wire.Progress{State: "Done", Message: "two"})
		late = ctx
		return Reply(true, "ok", nil)
	}
	Progress(context.Background(), wire.Progress{State: "nowhere"})
	var out bytes.Buffer
	if err := ServeIO(context.Background(), strings.NewReader(line("a", "{}")), &out, io.Discard, h); err != nil {
		t.Fatal(err)
	}
	Progress(late, wire.Progress{State: "after the response"})
	want := handshake +
		`{"correlation_id":"a","progress":{"state":"Building","message":"one","percent":40,"data":{"k":1}}}` + "\n" +
		`{"correlation_id":"a","progress":{"state":"Done","message":"two"}}` + "\n" +
		`{"correlation_id":"a","response":{"success":true,"message":"ok","data":null}}` + "\n"
	if out.String() != want {
		t.Errorf("ServeIO wrote\n%s\nwant\n%s", out.String(), want)
	}
}

// TestRetryLaterLine: a handler's RetryLater error is answered with a
// retry line.
func TestRetryLaterLine(t *testing.T) {
	h := func(ctx context.Context, r Request) (wire.Response, error) {
		return wire.Response{}, RetryLater(2500 * time.Millisecond)
	}
	var out bytes.Buffer
	if err := ServeIO(context.Background(), strings.NewReader(line("a", "{}")), &out, io.Discard, h); err != nil {
		t.Fatal(err)
	}
	want := handshake + `{"correlation_id":"a","retry_after_seconds":2.5}` + "\n"
	if out.String() != want {
		t.Errorf("ServeIO wrote\n%s\nwant\n%s", out.String(), want)
	}
}
