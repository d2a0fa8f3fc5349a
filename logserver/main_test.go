package logserver

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/runner"
)

// TestMainExitStatuses: a bad command line or configuration ends at once
// with its exit status and a one-line message.
func TestMainExitStatuses(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("s"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := func(body string) string {
		p := filepath.Join(dir, "cfg-"+strings.NewReplacer("/", "", " ", "", ":", "").Replace(body)[:min(20, len(body))]+".yml")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	secrets := "api_token_file: " + secret + "\ngui_password_file: " + secret + "\n"
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"help", []string{"--help"}, runner.ExitOK, "usage: rabbitmq-consumer-log-server [--config-file-path F]"},
		{"unknown flag", []string{"--api-token", "x"}, runner.ExitUsage, "flag provided but not defined"},
		{"argument", []string{"--config-file-path", cfg(secrets), "secret"}, runner.ExitUsage, "unexpected argument"},
		{"missing file", []string{"--config-file-path", filepath.Join(dir, "none.yml")}, runner.ExitConfig, "none.yml: file does not exist"},
		{"unknown key", []string{"--config-file-path", cfg("token: x\n" + secrets)}, runner.ExitConfig, "token: unknown key"},
		{"database directory missing", []string{"--config-file-path", cfg("database: /nonexistent/dir/log.db\n" + secrets)}, runner.ExitConfig, "database: directory /nonexistent/dir does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if code := Main(tt.args, &stderr); code != tt.code {
				t.Errorf("exit %d, want %d; stderr %s", code, tt.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.msg) {
				t.Errorf("stderr %q, want %q", stderr.String(), tt.msg)
			}
		})
	}
}
