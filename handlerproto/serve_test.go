package handlerproto

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

const handshake = `{"protocol":"rabbitmq-consumer/1"}` + "\n"

// line is a request line for a request with the given correlation id.
func line(cid, request string) string {
	return `{"correlation_id":"` + cid + `","exchange":"dx_x","virtual_host":"v","redelivered":true,"deadline":null,"request":` + request + "}\n"
}

const unexpectedLine = `,"response":{"success":false,"message":"An unexpected error occurred","data":null}}` + "\n"

// steered answers by the request's "do".
func steered(ctx context.Context, r Request) (wire.Response, error) {
	var req struct{ Do string }
	if err := json.Unmarshal(r.Request, &req); err != nil {
		return wire.Response{}, err
	}
	switch req.Do {
	case "fail":
		return wire.Response{}, errors.New("it failed")
	case "panic":
		panic("it panicked")
	case "badjson":
		return wire.Response{Success: true, Data: json.RawMessage("{nope")}, nil
	case "nodata":
		return wire.Response{Success: true, Message: "none"}, nil
	case "meta":
		_, hasDeadline := ctx.Deadline()
		return Reply(true, "meta", map[string]any{"exchange": r.Exchange, "vhost": r.VirtualHost, "redelivered": r.Redelivered, "ctx_deadline": hasDeadline})
	}
	return Reply(true, "echo", r.Request)
}

// pipe runs ServeIO over OS pipes with in as the consumer's side, and
// returns what it wrote to stdout and stderr and its error.
func pipe(t *testing.T, in string) (out, errOut string, err error) {
	t.Helper()
	inR, inW, perr := os.Pipe()
	if perr != nil {
		t.Fatal(perr)
	}
	outR, outW, perr := os.Pipe()
	if perr != nil {
		t.Fatal(perr)
	}
	go func() {
		_, _ = io.WriteString(inW, in)
		_ = inW.Close()
	}()
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(outR)
		got <- b
	}()
	var stderr bytes.Buffer
	err = ServeIO(context.Background(), inR, outW, &stderr, steered)
	_ = outW.Close()
	_ = inR.Close()
	return string(<-got), stderr.String(), err
}

func TestServeIO(t *testing.T) {
	for _, tc := range []struct {
		name, in, want, stderr string
		fails                  bool
	}{
		{name: "no request", in: "", want: handshake},
		{name: "two requests", in: line("a", `{"n":1}`) + line("b", `{"n":2,"s":"é"}`),
			want: handshake + `{"correlation_id":"a","response":{"success":true,"message":"echo","data":{"n":1}}}` + "\n" +
				`{"correlation_id":"b","response":{"success":true,"message":"echo","data":{"n":2,"s":"é"}}}` + "\n"},
		{name: "metadata", in: line("m", `{"do":"meta"}`),
			want: handshake + `{"correlation_id":"m","response":{"success":true,"message":"meta","data":{"ctx_deadline":false,"exchange":"dx_x","redelivered":true,"vhost":"v"}}}` + "\n"},
		{name: "deadline in ctx", in: `{"correlation_id":"d","deadline":4102444800000,"request":{"do":"meta"}}` + "\n",
			want: handshake + `{"correlation_id":"d","response":{"success":true,"message":"meta","data":{"ctx_deadline":true,"exchange":"","redelivered":false,"vhost":""}}}` + "\n"},
		{name: "error, then serving on", in: line("a", `{"do":"fail"}`) + line("b", `{"n":2}`),
			want:   handshake + `{"correlation_id":"a"` + unexpectedLine + `{"correlation_id":"b","response":{"success":true,"message":"echo","data":{"n":2}}}` + "\n",
			stderr: "handler failed on request a: it failed"},
		{name: "panic, then serving on", in: line("a", `{"do":"panic"}`) + line("b", `{"n":2}`),
			want:   handshake + `{"correlation_id":"a"` + unexpectedLine + `{"correlation_id":"b","response":{"success":true,"message":"echo","data":{"n":2}}}` + "\n",
			stderr: "panic: it panicked"},
		{name: "data not JSON", in: line("a", `{"do":"badjson"}`), want: handshake + `{"correlation_id":"a"` + unexpectedLine, stderr: "marshal the response"},
		{name: "no data is null", in: line("a", `{"do":"nodata"}`), want: handshake + `{"correlation_id":"a","response":{"success":true,"message":"none","data":null}}` + "\n"},
		{name: "not JSON", in: "nonsense\n", want: handshake, fails: true},
		{name: "no correlation id", in: `{"request":{}}` + "\n", want: handshake, fails: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, err := pipe(t, tc.in)
			if (err != nil) != tc.fails {
				t.Fatalf("ServeIO: err = %v, want failure %v", err, tc.fails)
			}
			if out != tc.want {
				t.Errorf("ServeIO wrote\n%s\nwant\n%s", out, tc.want)
			}
			if !strings.Contains(stderr, tc.stderr) || (tc.stderr == "") != (stderr == "") {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tc.stderr)
			}
		})
	}
}

// TestServeIOEndsWithCtx: a ctx done during a request ends ServeIO after
// its response.
func TestServeIOEndsWithCtx(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	h := func(ctx context.Context, r Request) (wire.Response, error) {
		cancel()
		return Reply(true, "last", nil)
	}
	var out bytes.Buffer
	err := ServeIO(ctx, strings.NewReader(line("a", "{}")+line("b", "{}")), &out, io.Discard, h)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("ServeIO = %v, want context.Canceled", err)
	}
	if want := handshake + `{"correlation_id":"a","response":{"success":true,"message":"last","data":null}}` + "\n"; out.String() != want {
		t.Errorf("ServeIO wrote\n%s\nwant\n%s", out.String(), want)
	}
}

func TestReply(t *testing.T) {
	for _, tc := range []struct {
		name string
		data any
		want string
	}{
		{"nil", nil, "null"},
		{"map", map[string]int{"n": 1}, `{"n":1}`},
		{"raw", json.RawMessage(`{"a":[1]}`), `{"a":[1]}`},
		{"bytes", []byte(`"s"`), `"s"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Reply(true, "m", tc.data)
			if err != nil || string(r.Data) != tc.want || !r.Success || r.Message != "m" {
				t.Errorf("Reply = %+v %s, %v; want data %s", r, r.Data, err, tc.want)
			}
		})
	}
	if _, err := Reply(true, "m", make(chan int)); err == nil {
		t.Error("Reply with data that is not JSON: no error")
	}
}
