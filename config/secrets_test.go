package config

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	keyA = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
	keyB = "LHZ1dGGixCVuqmPYQdqq2jHx1oyXbXO0q-wxD0-uw0w="
)

func TestExposureWarning(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mode    fs.FileMode
		secrets []string
		warns   bool
	}{
		{"world-readable with a password", 0o644, []string{"server.password"}, true},
		{"world-readable and writable with a key", 0o666, []string{"virtual_hosts.v.fernet_key"}, true},
		{"the package's mode", 0o640, []string{"server.password"}, false},
		{"owner only", 0o600, []string{"server.password", "log_server.api_token"}, false},
		{"world-readable without secrets", 0o644, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := exposureWarning("/etc/x.yml", tc.mode, tc.secrets)
			if (w != "") != tc.warns {
				t.Fatalf("warning = %q, want one: %v", w, tc.warns)
			}
			if tc.warns {
				for _, want := range append([]string{"/etc/x.yml", "chmod o-rwx /etc/x.yml", "docs/operations.md"}, tc.secrets...) {
					if !strings.Contains(w, want) {
						t.Errorf("warning %q does not name %q", w, want)
					}
				}
			}
		})
	}
}

func TestLoadWarnsOfAFileEveryoneCanRead(t *testing.T) {
	for _, tc := range []struct {
		name  string
		body  string
		mode  os.FileMode
		warns bool
	}{
		{"password, 0644", "server: {password: p}\nvirtual_hosts: {v: {queue: q, exchanges: {e: {}}}}\n", 0o644, true},
		{"fernet key, 0604", "virtual_hosts: {v: {queue: q, fernet_key: '" + keyA + "', exchanges: {e: {}}}}\n", 0o604, true},
		{"log server token, 0644", "log_server: {base_url: 'http://l/', api_token: t}\nvirtual_hosts: {v: {queue: q, exchanges: {e: {}}}}\n", 0o644, true},
		{"password, 0640", "server: {password: p}\nvirtual_hosts: {v: {queue: q, exchanges: {e: {}}}}\n", 0o640, false},
		{"no secret, 0644", "virtual_hosts: {v: {queue: q, exchanges: {e: {}}}}\n", 0o644, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := write(t, tc.body)
			if err := os.Chmod(p, tc.mode); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(cfg.Warnings) == 1 && strings.Contains(cfg.Warnings[0], p); got != tc.warns {
				t.Errorf("warnings = %q, want a warning naming the file: %v", cfg.Warnings, tc.warns)
			}
		})
	}
}

func TestFernetKeyList(t *testing.T) {
	cfg, err := Parse("f.yml", []byte("virtual_hosts: {v: {queue: q, fernet_key: ['"+keyA+"', '"+keyB+"'], exchanges: {e: {}}}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	vh := cfg.VirtualHosts["v"]
	if vh.FernetKey != keyA || strings.Join(vh.DecryptionKeys(), ",") != keyA+","+keyB {
		t.Errorf("encrypt with %q, decrypt with %q", vh.FernetKey, vh.DecryptionKeys())
	}
	_, err = Parse("f.yml", []byte("virtual_hosts:\n  v:\n    queue: q\n    fernet_key: ['"+keyA+"', 'nope']\n    exchanges: {e: {}}\n"))
	if err == nil || err.Error() != "f.yml:4: virtual_hosts.v.fernet_key: key 2 of 2 is not a valid Fernet key (32 bytes, URL-safe base64)" {
		t.Errorf("a bad second key: %v", err)
	}
}

func TestCredentialsOverrideTheFile(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"server.password":              "from-credential\n",
		"log_server.api_token":         "token-from-credential",
		"virtual_hosts.v.fernet_key":   keyB + "\n" + keyA + "\n",
		"virtual_hosts.other.whatever": "ignored",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o400); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv(CredentialsDirectoryEnv, dir)
	t.Setenv("RABBITMQ_CONSUMER_SERVER_PASSWORD", "from-environment")
	cfg, err := Parse("f.yml", []byte("server: {username: u, password: in-file}\nlog_server: {base_url: 'http://l/'}\nvirtual_hosts: {v: {queue: q, fernet_key: '"+keyA+"', exchanges: {e: {}}}, w: {queue: q, exchanges: {e: {}}}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Password != "from-credential" || cfg.LogServer.APIToken != "token-from-credential" {
		t.Errorf("password %q, token %q", cfg.Server.Password, cfg.LogServer.APIToken)
	}
	if v := cfg.VirtualHosts["v"]; v.FernetKey != keyB || len(v.DecryptionKeys()) != 2 {
		t.Errorf("fernet keys of v: %q", v.DecryptionKeys())
	}
	if w := cfg.VirtualHosts["w"]; len(w.DecryptionKeys()) != 0 {
		t.Errorf("fernet keys of w: %q", w.DecryptionKeys())
	}
	if strings.Join(cfg.fileSecrets, ",") != "server.password,virtual_hosts.v.fernet_key" {
		t.Errorf("secrets in the file: %q", cfg.fileSecrets)
	}

	if err := os.WriteFile(filepath.Join(dir, "virtual_hosts.w.fernet_key"), []byte("not-a-key\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := Parse("f.yml", []byte("virtual_hosts: {w: {queue: q, exchanges: {e: {}}}}\n")); err == nil || !strings.Contains(err.Error(), "virtual_hosts.w.fernet_key: not a valid Fernet key") {
		t.Errorf("a bad key in a credential: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "server.password"), nil, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := Parse("f.yml", []byte("virtual_hosts: {w: {queue: q, exchanges: {e: {}}}}\n")); err == nil || !strings.Contains(err.Error(), "credential server.password") || !strings.Contains(err.Error(), "empty") {
		t.Errorf("an empty credential: %v", err)
	}
}
