package runner

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testbroker"
)

var exampleHandlers, _ = filepath.Abs("../examples/handlers")

func writeFile(t *testing.T, path, body string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
}

// TestStartupErrors checks that every configuration and handler problem
// stops the process at once with one line naming the file, key or path,
// and the documented exit status.
func TestStartupErrors(t *testing.T) {
	tests := []struct {
		name     string
		config   string // {handlers}: handlers directory
		handlers map[string]string
		args     []string
		status   int
		want     []string // what the one line must name
	}{
		{name: "missing file", args: []string{"--config-file-path", "/nonexistent/rabbitmq.yml"}, status: ExitConfig, want: []string{"/nonexistent/rabbitmq.yml", "file does not exist"}},
		{name: "YAML error", config: "virtual_hosts: [\n", status: ExitConfig, want: []string{"rabbitmq.yml", "not valid YAML"}},
		{name: "unknown key", config: "virtual_hosts:\n  v:\n    queue: q\n    max_simultanious_requests: 3\n    exchanges: {dx_example: {}}\n", status: ExitConfig, want: []string{"rabbitmq.yml:4", "virtual_hosts.v.max_simultanious_requests", "unknown key"}},
		{name: "virtual host not in the file", config: "virtual_hosts: {other: {queue: q, exchanges: {dx_example: {}}}}\n", status: ExitConfig, want: []string{"rabbitmq.yml", "virtual_hosts.v", "not configured"}},
		{name: "bad Fernet key", config: "virtual_hosts: {v: {queue: q, fernet_key: short, exchanges: {dx_example: {}}}}\n", status: ExitConfig, want: []string{"virtual_hosts.v.fernet_key", "not a valid Fernet key"}},
		{name: "exchange without a handler", config: "handlers_directory: {handlers}\nvirtual_hosts: {v: {queue: q, exchanges: {dx_missing: {}}}}\n", status: ExitHandler, want: []string{"exchange dx_missing", "dx_missing/contract.json", "no such file"}},
		{name: "handler not executable", config: "handlers_directory: {handlers}\nvirtual_hosts: {v: {queue: q, exchanges: {dx_x: {}}}}\n",
			handlers: map[string]string{"dx_x/handler": "#!/bin/sh\n", "dx_x/contract.json": `{"description":"d","request":{},"response":{}}`},
			status:   ExitHandler, want: []string{"exchange dx_x", "dx_x/handler", "not executable"}},
		{name: "contract not valid JSON Schema", config: "handlers_directory: {handlers}\nvirtual_hosts: {v: {queue: q, exchanges: {dx_x: {}}}}\n",
			handlers: map[string]string{"dx_x/handler": "#!/bin/sh\n", "dx_x/contract.json": `{"description":"d","request":{"type":12},"response":{}}`},
			status:   ExitHandler, want: []string{"exchange dx_x", "dx_x/contract.json", "request schema", "not a valid JSON Schema"}},
		{name: "default breaks its schema", config: "handlers_directory: {handlers}\nvirtual_hosts: {v: {queue: q, exchanges: {dx_x: {}}}}\n",
			handlers: map[string]string{"dx_x/handler": "#!/bin/sh\n", "dx_x/contract.json": `{"description":"d","request":{"type":"object","properties":{"size":{"$ref":"#/$defs/Size"}},"$defs":{"Size":{"type":"object","properties":{"width":{"type":"integer","minimum":1,"default":0}}}}},"response":{}}`},
			status:   ExitHandler, want: []string{"exchange dx_x", "dx_x/contract.json", "request schema", "the default at /$defs/Size/properties/width"}},
		{name: "contract not JSON", config: "handlers_directory: {handlers}\nvirtual_hosts: {v: {queue: q, exchanges: {dx_x: {}}}}\n",
			handlers: map[string]string{"dx_x/handler": "#!/bin/sh\n", "dx_x/contract.json": `{"description":`},
			status:   ExitHandler, want: []string{"dx_x/contract.json", "not a valid contract"}},
		{name: "persistent handler without the handshake", config: "handlers_directory: {handlers}\nvirtual_hosts: {v: {queue: q, exchanges: {dx_x: {}}}}\n",
			handlers: map[string]string{"dx_x/handler": "#!/bin/sh\necho hello\n", "dx_x/contract.json": `{"description":"d","mode":"persistent","request":{},"response":{}}`},
			status:   ExitHandler, want: []string{"exchange dx_x", "dx_x/handler", "does not speak rabbitmq-consumer/1", "hello"}},
		{name: "persistent handler without the handshake, --check", config: "handlers_directory: {handlers}\nvirtual_hosts: {v: {queue: q, exchanges: {dx_x: {}}}}\n",
			handlers: map[string]string{"dx_x/handler": "#!/bin/sh\nexit 0\n", "dx_x/contract.json": `{"description":"d","mode":"persistent","request":{},"response":{}}`},
			args:     []string{"--check"}, status: ExitHandler, want: []string{"exchange dx_x", "dx_x/handler", "does not speak rabbitmq-consumer/1", "no handshake line"}},
		{name: "unknown handler mode", config: "handlers_directory: {handlers}\nvirtual_hosts: {v: {queue: q, exchanges: {dx_x: {}}}}\n",
			handlers: map[string]string{"dx_x/handler": "#!/bin/sh\n", "dx_x/contract.json": `{"description":"d","mode":"forever","request":{},"response":{}}`},
			status:   ExitHandler, want: []string{"exchange dx_x", "dx_x/contract.json", `mode \"forever\"`}},
		{name: "no virtual host flag", args: []string{"--virtual-host-name", ""}, status: ExitUsage, want: []string{"--virtual-host-name is required"}},
		{name: "bad flag", args: []string{"--frobnicate"}, status: ExitUsage, want: []string{"flag provided but not defined"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			handlers := filepath.Join(dir, "handlers")
			for p, body := range tt.handlers {
				mode := os.FileMode(0o644)
				if strings.HasSuffix(p, "/handler") && tt.name != "handler not executable" {
					mode = 0o755
				}
				writeFile(t, filepath.Join(handlers, p), body, mode)
			}
			cfg := filepath.Join(dir, "rabbitmq.yml")
			if tt.config != "" {
				writeFile(t, cfg, strings.ReplaceAll(tt.config, "{handlers}", handlers), 0o644)
			}
			args := append([]string{"--virtual-host-name", "v", "--config-file-path", cfg, "--log-format", "json"}, tt.args...)
			var stderr bytes.Buffer
			status := run(args, nil, &stderr)
			out := strings.TrimSpace(stderr.String())
			if status != tt.status {
				t.Errorf("exit status = %d, want %d; output:\n%s", status, tt.status, out)
			}
			if tt.status != ExitUsage && strings.Count(out, "\n") != 0 {
				t.Errorf("want exactly one line, got:\n%s", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestBrokerRefusesCredentials(t *testing.T) {
	vh := testbroker.New(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "rabbitmq.yml")
	writeFile(t, cfg, fmt.Sprintf("handlers_directory: %s\nstate_directory: %s\nserver: {host: 127.0.0.1, username: guest, password: wrong}\nvirtual_hosts: {%s: {queue: q, exchanges: {dx_example: {}}}}\n", exampleHandlers, dir, vh.Name), 0o644)
	var stderr bytes.Buffer
	status := run([]string{"--virtual-host-name", vh.Name, "--config-file-path", cfg, "--log-format", "json"}, nil, &stderr)
	if status != ExitRefused || !strings.Contains(stderr.String(), "refused the credentials") {
		t.Errorf("status %d, output %s", status, stderr.String())
	}
}

func TestBrokerRefusesVirtualHost(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "rabbitmq.yml")
	writeFile(t, cfg, fmt.Sprintf("handlers_directory: %s\nstate_directory: %s\nserver: {host: 127.0.0.1}\nvirtual_hosts: {no-such-vhost-here: {queue: q, exchanges: {dx_example: {}}}}\n", exampleHandlers, dir), 0o644)
	var stderr bytes.Buffer
	status := run([]string{"--virtual-host-name", "no-such-vhost-here", "--config-file-path", cfg, "--log-format", "json"}, nil, &stderr)
	if status != ExitRefused || !strings.Contains(stderr.String(), `refused virtual host \"no-such-vhost-here\"`) {
		t.Errorf("status %d, output %s", status, stderr.String())
	}
}

func TestCheckFlag(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "rabbitmq.yml")
	writeFile(t, cfg, fmt.Sprintf("handlers_directory: %s\nstate_directory: %s\nvirtual_hosts: {v: {queue: q, exchanges: {dx_example: {}}}}\n", exampleHandlers, dir), 0o644)
	var stderr bytes.Buffer
	if status := run([]string{"--check", "--virtual-host-name", "v", "--config-file-path", cfg}, nil, &stderr); status != ExitOK || !strings.Contains(stderr.String(), "configuration and 1 handlers are fine") {
		t.Errorf("status %d, output %s", status, stderr.String())
	}
	stderr.Reset()
	if status := run([]string{"--check", "--virtual-host-name", "w", "--config-file-path", cfg, "--log-format", "json"}, nil, &stderr); status != ExitConfig {
		t.Errorf("status %d, output %s", status, stderr.String())
	}
}

// TestCheckPersistentHandler: --check starts one process of a persistent
// handler to check its handshake, and ends it before exiting.
func TestCheckPersistentHandler(t *testing.T) {
	dir := t.TempDir()
	handlers := filepath.Join(dir, "handlers")
	pids := filepath.Join(dir, "pids")
	writeFile(t, filepath.Join(handlers, "dx_p", "handler"), "#!/bin/sh\necho $$ >> "+pids+"\necho '{\"protocol\": \"rabbitmq-consumer/1\"}'\ncat >/dev/null\n", 0o755)
	writeFile(t, filepath.Join(handlers, "dx_p", "contract.json"), `{"description":"d","mode":"persistent","request":{},"response":{}}`, 0o644)
	cfg := filepath.Join(dir, "rabbitmq.yml")
	writeFile(t, cfg, fmt.Sprintf("handlers_directory: %s\nstate_directory: %s\nvirtual_hosts: {v: {queue: q, exchanges: {dx_p: {}}}}\n", handlers, dir), 0o644)
	var stderr bytes.Buffer
	if status := run([]string{"--check", "--virtual-host-name", "v", "--config-file-path", cfg, "--log-format", "json"}, nil, &stderr); status != ExitOK {
		t.Fatalf("status %d, output %s", status, stderr.String())
	}
	b, err := os.ReadFile(pids)
	if err != nil {
		t.Fatal(err)
	}
	started := strings.Fields(string(b))
	if len(started) != 1 {
		t.Fatalf("started %v, want one process", started)
	}
	pid, _ := strconv.Atoi(started[0])
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("the checked handler process %d still runs after --check (kill 0: %v)", pid, err)
	}
}

func TestCheckWarnsOfSecretsEveryoneCanRead(t *testing.T) {
	for _, tc := range []struct {
		mode  os.FileMode
		warns bool
	}{{0o644, true}, {0o640, false}} {
		t.Run(fmt.Sprintf("%04o", tc.mode), func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "rabbitmq.yml")
			writeFile(t, cfg, fmt.Sprintf("handlers_directory: %s\nstate_directory: %s\nserver: {password: secret}\nvirtual_hosts: {v: {queue: q, exchanges: {dx_example: {}}}}\n", exampleHandlers, dir), tc.mode)
			if err := os.Chmod(cfg, tc.mode); err != nil { // whatever the umask
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			status := run([]string{"--check", "--virtual-host-name", "v", "--config-file-path", cfg, "--log-format", "json"}, nil, &stderr)
			warned := strings.Count(stderr.String(), "every local user can read it")
			if status != ExitOK || warned != map[bool]int{true: 1, false: 0}[tc.warns] {
				t.Errorf("status %d, %d warnings, want %v:\n%s", status, warned, tc.warns, stderr.String())
			}
		})
	}
}
