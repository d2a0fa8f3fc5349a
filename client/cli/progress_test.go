package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/handler"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// progressHandler reports 3 steps of progress, then answers.
func progressHandler() handler.Handler {
	type req struct{}
	return handler.Typed("reports 3 steps", func(ctx context.Context, _ *handler.Call, _ req) (wire.Reply[map[string]int], error) {
		for i := 1; i <= 3; i++ {
			handler.Progress(ctx, wire.Progress{State: "Building", Message: fmt.Sprint("step ", i), Percent: wire.Percentage(float64(100 * i / 3))})
			time.Sleep(250 * time.Millisecond) // the work, longer than the consumer's 200 ms between updates
		}
		return wire.Reply[map[string]int]{Success: true, Message: "built", Data: map[string]int{"steps": 3}}, nil
	})
}

// TestProgressShown: through a real consumer, rabbitmq-rpc shows the
// handler's progress on stderr: under a pseudo-terminal a status line with
// a bar, redrawn in place and cleared before the reply; into a pipe one
// line per update; with --quiet nothing. The reply alone goes to stdout.
func TestProgressShown(t *testing.T) {
	cfg, vhost := serve(t)
	args := func(extra ...string) []string {
		return append([]string{"--config-file-path", cfg, "--virtual-host-name", vhost, "--exchange", "dx_progress"}, append(extra, `{}`)...)
	}
	const reply = `{"success":true,"message":"built","data":{"steps":3}}` + "\n"
	const clear = "\r\x1b[K"
	tests := []struct {
		name   string
		args   []string
		tty    bool
		stderr string
	}{
		{"terminal", args(), true, clear + "[######--------------]  33% Building: step 1" +
			clear + "[#############-------]  66% Building: step 2" +
			clear + "[####################] 100% Building: step 3" + clear},
		{"pipe", args(), false, "progress: 33% Building: step 1\nprogress: 66% Building: step 2\nprogress: 100% Building: step 3\n"},
		{"quiet on a terminal", args("--quiet"), true, ""},
		{"quiet into a pipe", args("--quiet"), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout bytes.Buffer
			var stderr string
			var status int
			if tt.tty {
				status, stderr = runOnTerminal(t, tt.args, &stdout)
			} else {
				var buf bytes.Buffer
				status = Main(tt.args, strings.NewReader(""), &stdout, &buf)
				stderr = buf.String()
			}
			if status != ExitSuccess || stdout.String() != reply {
				t.Errorf("status %d, stdout %q; want 0 and %q", status, stdout.String(), reply)
			}
			if stderr != tt.stderr {
				t.Errorf("stderr:\n%q\nwant\n%q", stderr, tt.stderr)
			}
		})
	}
}

// runOnTerminal runs Main with a pseudo-terminal as its stderr and
// returns its status and what reached the terminal.
func runOnTerminal(t *testing.T, args []string, stdout io.Writer) (int, string) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	defer func() { _ = ptmx.Close() }()
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(ptmx) // ends with EIO once the terminal side is closed
		got <- b
	}()
	status := Main(args, strings.NewReader(""), stdout, tty)
	_ = tty.Close()
	return status, string(<-got)
}
