package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tok := write("token", "t0ken\n")
	pw := write("password", "pa55")
	empty := write("empty", "\n")
	two := write("two", "a\nb\n")
	creds := filepath.Join(dir, "creds")
	if err := os.MkdirAll(creds, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(creds, CredentialAPIToken), []byte("from-credential\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secrets := "api_token_file: " + tok + "\ngui_password_file: " + pw + "\n"
	tests := []struct {
		name, yaml, credDir string
		want                Config
		wantErr             string
	}{
		{"defaults", secrets, "", Config{Listen: DefaultListen, Database: DefaultDatabase, KeepDays: DefaultKeepDays, APIToken: "t0ken", GUIPassword: "pa55"}, ""},
		{"everything", "listen: ':9000'\ndatabase: postgres://logs@db/logs\nkeep_days: 0\n" + secrets, "",
			Config{Listen: ":9000", Database: "postgres://logs@db/logs", KeepDays: 0, APIToken: "t0ken", GUIPassword: "pa55"}, ""},
		{"credential wins", secrets, creds, Config{Listen: DefaultListen, Database: DefaultDatabase, KeepDays: DefaultKeepDays, APIToken: "from-credential", GUIPassword: "pa55"}, ""},
		{"credential alone", "gui_password_file: " + pw + "\n", creds, Config{Listen: DefaultListen, Database: DefaultDatabase, KeepDays: DefaultKeepDays, APIToken: "from-credential", GUIPassword: "pa55"}, ""},
		{"unknown key", secrets + "keepdays: 3\n", "", Config{}, "cfg.yml:3: keepdays: unknown key"},
		{"bad listen", "listen: 8080\n" + secrets, "", Config{}, `cfg.yml:1: listen: "8080" is not host:port`},
		{"relative database", "database: log.db\n" + secrets, "", Config{}, `cfg.yml:1: database: "log.db" is neither`},
		{"bad keep_days", "keep_days: -1\n" + secrets, "", Config{}, `cfg.yml:1: keep_days: "-1" is not a number of days`},
		{"keep_days word", "keep_days: many\n" + secrets, "", Config{}, `keep_days: "many" is not a number of days`},
		{"no token", "gui_password_file: " + pw + "\n", "", Config{}, "cfg.yml: api_token_file: missing"},
		{"missing token file", "api_token_file: /nonexistent/token\ngui_password_file: " + pw + "\n", "", Config{}, "cfg.yml:1: api_token_file: /nonexistent/token: file does not exist"},
		{"relative token file", "api_token_file: token\ngui_password_file: " + pw + "\n", "", Config{}, `api_token_file: "token" is not an absolute path`},
		{"empty password file", "api_token_file: " + tok + "\ngui_password_file: " + empty + "\n", "", Config{}, "gui_password_file: " + empty + ": empty"},
		{"two-line password", "api_token_file: " + tok + "\ngui_password_file: " + two + "\n", "", Config{}, "holds more than one line"},
		{"not YAML", "listen: [\n", "", Config{}, "cfg.yml: not valid YAML"},
		{"empty file", "", "", Config{}, "cfg.yml: file is empty"},
		{"a list", "- a\n", "", Config{}, "must be a mapping"},
		{"nested value", "listen: {a: b}\n" + secrets, "", Config{}, "listen: must be a single value"},
		{"twice", secrets + "listen: ':1'\nlisten: ':2'\n", "", Config{}, "cfg.yml:4: listen: given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("cfg.yml", []byte(tt.yaml), tt.credDir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error on more than one line: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Path = "cfg.yml"
			if *got != tt.want {
				t.Errorf("got %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yml"))
	if err == nil || !strings.HasSuffix(err.Error(), "nope.yml: file does not exist") {
		t.Errorf("Load of a missing file: %v", err)
	}
}
