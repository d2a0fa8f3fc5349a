// Package cli is the rabbitmq-rpc command: one RPC call from the command
// line, with the consumers' configuration file for the broker and the
// virtual host.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/client"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/manual"
)

// Exit statuses of rabbitmq-rpc.
const (
	ExitSuccess     = 0 // the reply says success
	ExitFailure     = 1 // the reply says failure
	ExitUsage       = 2 // bad command line or request body
	ExitConfig      = 3 // configuration file missing or invalid
	ExitTimeout     = 4 // no reply before --timeout
	ExitUnroutable  = 5 // the exchange does not exist or no queue takes the request
	ExitConnection  = 6 // cannot connect to the broker, or the connection was lost
	maxStdinRequest = 64 << 20
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// Main runs rabbitmq-rpc with args (without the program name) and returns
// its exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rabbitmq-rpc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = manual.Usage(fs, Manual)
	cfgPath := fs.String("config-file-path", envOr("CONFIG_FILE_PATH", config.DefaultPath), "configuration file (broker, virtual host, queue, Fernet key)")
	vhost := fs.String("virtual-host-name", "", "virtual host to call (required)")
	exchange := fs.String("exchange", "", "exchange (action) to call (required)")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for the reply; also the request's expiration")
	direct := fs.Bool("direct-reply-to", false, "receive the reply through direct reply-to instead of a reply queue bound to the exchange")
	quiet := fs.Bool("quiet", false, "do not ask for progress updates nor show them")
	var encrypt listFlag
	fs.Var(&encrypt, "encrypt", "Fernet-encrypt this top-level string field with the virtual host's key (repeatable)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitSuccess
		}
		return ExitUsage
	}
	fail := func(status int, format string, a ...any) int {
		fmt.Fprintf(stderr, "rabbitmq-rpc: "+format+"\n", a...)
		return status
	}
	switch {
	case *vhost == "":
		return fail(ExitUsage, "--virtual-host-name is required")
	case *exchange == "":
		return fail(ExitUsage, "--exchange is required")
	case *timeout <= 0:
		return fail(ExitUsage, "--timeout must be positive")
	case fs.NArg() > 1:
		return fail(ExitUsage, "one request body at most, got %d arguments", fs.NArg())
	}
	var body []byte
	if fs.NArg() == 1 && fs.Arg(0) != "-" {
		body = []byte(fs.Arg(0))
	} else {
		b, err := io.ReadAll(io.LimitReader(stdin, maxStdinRequest+1))
		if err != nil {
			return fail(ExitUsage, "read the request from stdin: %v", err)
		}
		if len(b) > maxStdinRequest {
			return fail(ExitUsage, "the request on stdin is larger than %d bytes", maxStdinRequest)
		}
		body = b
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return fail(ExitUsage, "the request body must be a JSON object: %s", strings.TrimSpace(truncate(string(body), 80)))
	}

	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return fail(ExitConfig, "%v", err)
	}
	ccfg, err := client.FromFile(cfg, *vhost)
	if err != nil {
		return fail(ExitConfig, "%v", err)
	}
	ccfg.DirectReplyTo = *direct
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	c, err := client.Dial(ctx, ccfg)
	if err != nil {
		return fail(ExitConnection, "%v", err)
	}
	defer c.Close()
	opts := []client.CallOption{client.Encrypt(encrypt...)}
	view := newProgressView(stderr)
	if !*quiet {
		opts = append(opts, client.WithProgress(view.show))
	}
	resp, err := c.Call(ctx, *exchange, body, opts...)
	view.end() // the status line goes before anything else is printed
	var unroutable *client.UnroutableError
	switch {
	case errors.As(err, &unroutable):
		return fail(ExitUnroutable, "%v", err)
	case errors.Is(err, client.ErrTimeout):
		return fail(ExitTimeout, "no reply from %s within %v", *exchange, *timeout)
	case errors.Is(err, client.ErrConnectionLost):
		return fail(ExitConnection, "%v", err)
	case errors.Is(err, client.ErrInvalidRequest):
		return fail(ExitUsage, "%v", err)
	case err != nil:
		return fail(ExitConnection, "%v", err)
	}
	out, _ := json.Marshal(resp)
	fmt.Fprintln(stdout, string(out))
	if !resp.Success {
		return ExitFailure
	}
	return ExitSuccess
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
