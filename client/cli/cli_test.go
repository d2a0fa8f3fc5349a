package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fernet/fernet-go"
	"github.com/rs/zerolog"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/consumer"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/handler"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testbroker"
)

func write(t *testing.T, path, body string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
}

// serve runs a real consumer with the example handler, an echo handler and
// a slow one, and returns its configuration file.
func serve(t *testing.T) (cfgPath, vhost string) {
	t.Helper()
	vh := testbroker.New(t)
	dir := t.TempDir()
	examples, _ := filepath.Abs("../../examples/handlers")
	handlers := filepath.Join(dir, "handlers")
	// The one-shot form: a copy outside the repository cannot import the Python helper.
	write(t, filepath.Join(handlers, "dx_example", "handler"), mustRead(t, filepath.Join(examples, "dx_example_oneshot", "handler")), 0o755)
	write(t, filepath.Join(handlers, "dx_example", "contract.json"), mustRead(t, filepath.Join(examples, "dx_example_oneshot", "contract.json")), 0o644)
	open := `{"description":"d","lock_attribute":null,"request":{"type":"object"},"response":{}}`
	write(t, filepath.Join(handlers, "dx_echo", "handler"), "#!/bin/sh\nprintf '{\"success\":true,\"message\":\"echo\",\"data\":%s}' \"$(cat)\"\n", 0o755)
	write(t, filepath.Join(handlers, "dx_echo", "contract.json"), open, 0o644)
	write(t, filepath.Join(handlers, "dx_slow", "handler"), "#!/bin/sh\nsleep 3\necho '{\"success\":true,\"message\":\"late\",\"data\":{}}'\n", 0o755)
	write(t, filepath.Join(handlers, "dx_slow", "contract.json"), open, 0o644)
	write(t, filepath.Join(handlers, "dx_id", "handler"), "#!/bin/sh\ncat >/dev/null\nprintf '{\"success\":true,\"message\":\"%s\",\"data\":{}}' \"$RPC_CORRELATION_ID\"\n", 0o755)
	write(t, filepath.Join(handlers, "dx_id", "contract.json"), open, 0o644)
	var k fernet.Key
	_ = k.Generate()
	cfgPath = filepath.Join(dir, "rabbitmq.yml")
	write(t, cfgPath, fmt.Sprintf(`handlers_directory: %s
state_directory: %s
server: {host: 127.0.0.1, port: 5672, username: guest, password: guest}
virtual_hosts:
  %s:
    queue: q
    fernet_key: %s
    exchanges: {dx_example: {}, dx_echo: {}, dx_slow: {}, dx_id: {}, dx_progress: {}}
`, handlers, dir, vh.Name, k.Encode()), 0o644)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	notified := make(chan string, 10)
	c, err := consumer.New(consumer.Options{Config: cfg, VirtualHost: vh.Name, Logger: zerolog.Nop(), Handlers: map[string]handler.Handler{"dx_progress": progressHandler()}, Notify: func(s string) {
		select {
		case notified <- s:
		default:
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	for s := range notified {
		if s == "READY=1" {
			break
		}
	}
	return cfgPath, vh.Name
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestExitStatuses(t *testing.T) {
	cfg, vhost := serve(t)
	badPort := filepath.Join(t.TempDir(), "bad.yml")
	write(t, badPort, strings.Replace(mustRead(t, cfg), "port: 5672", "port: 1", 1), 0o644)
	base := func(extra ...string) []string {
		return append([]string{"--config-file-path", cfg, "--virtual-host-name", vhost}, extra...)
	}
	tests := []struct {
		name   string
		args   []string
		stdin  string
		status int
		stdout string
		stderr string
	}{
		{"success", base("--exchange", "dx_example", `{"favourite_food":"onion","chance_percentage":100}`), "", ExitSuccess, `{"success":true,"message":"Determined toleration","data":{"tolerable":false}}`, ""},
		{"direct reply-to", base("--exchange", "dx_example", "--direct-reply-to", `{"favourite_food":"onion","chance_percentage":100}`), "", ExitSuccess, `"tolerable":false`, ""},
		{"body on stdin", base("--exchange", "dx_example", "-"), `{"favourite_food":"banana","chance_percentage":100}`, ExitSuccess, `"tolerable":false`, ""},
		{"body on stdin without argument", base("--exchange", "dx_example"), `{"favourite_food":"banana","chance_percentage":100}`, ExitSuccess, `"tolerable":false`, ""},
		{"failure response", base("--exchange", "dx_example", `{"favourite_food":"kale"}`), "", ExitFailure, `"message":"Request validation failed"`, ""},
		{"encrypted field reaches the handler decrypted", base("--exchange", "dx_echo", "--encrypt", "password", `{"password":"hunter2","user":"u"}`), "", ExitSuccess, `"data":{"password":"hunter2","user":"u"}`, ""},
		{"encrypt a missing field", base("--exchange", "dx_echo", "--encrypt", "nope", `{"password":"x"}`), "", ExitUsage, "", "no such field"},
		{"timeout", base("--exchange", "dx_slow", "--timeout", "300ms", `{}`), "", ExitTimeout, "", "no reply from dx_slow within 300ms"},
		{"unroutable", base("--exchange", "dx_nowhere", `{}`), "", ExitUnroutable, "", "does not exist"},
		{"connection failure", []string{"--config-file-path", badPort, "--virtual-host-name", vhost, "--exchange", "dx_echo", `{}`}, "", ExitConnection, "", "127.0.0.1:1"},
		{"missing configuration", []string{"--config-file-path", "/nonexistent.yml", "--virtual-host-name", vhost, "--exchange", "dx_echo", `{}`}, "", ExitConfig, "", "/nonexistent.yml: file does not exist"},
		{"unknown virtual host", []string{"--config-file-path", cfg, "--virtual-host-name", "other", "--exchange", "dx_echo", `{}`}, "", ExitConfig, "", "virtual_hosts.other"},
		{"no exchange", base(`{}`), "", ExitUsage, "", "--exchange is required"},
		{"body not an object", base("--exchange", "dx_echo", `[1]`), "", ExitUsage, "", "must be a JSON object"},
		{"two bodies", base("--exchange", "dx_echo", `{}`, `{}`), "", ExitUsage, "", "one request body at most"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			start := time.Now()
			status := Main(tt.args, strings.NewReader(tt.stdin), &stdout, &stderr)
			if status != tt.status || !strings.Contains(stdout.String(), tt.stdout) || !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("status %d (want %d)\nstdout: %s\nstderr: %s", status, tt.status, stdout.String(), stderr.String())
			}
			if tt.status == ExitTimeout && time.Since(start) > 3*time.Second {
				t.Errorf("timed out after %v, want about 300ms", time.Since(start))
			}
		})
	}
}
