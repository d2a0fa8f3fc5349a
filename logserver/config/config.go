// Package config reads the log server's configuration file
// (/etc/rabbitmq-consumer/log-server.yml) and its two secrets, the API
// token and the GUI password, from files or systemd credentials; never
// from the command line.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	pconfig "github.com/rabbitmq-consumer/rabbitmq-consumer/config"
)

// DefaultPath is the configuration file the packaged unit uses.
const DefaultPath = "/etc/rabbitmq-consumer/log-server.yml"

// Defaults of the optional keys.
const (
	DefaultListen   = "127.0.0.1:8080"
	DefaultDatabase = "/var/lib/rabbitmq-consumer-log-server/log.db"
	DefaultKeepDays = 45
)

// Credential names: with systemd's LoadCredential=, the secret is read from
// $CREDENTIALS_DIRECTORY/<name>, and wins over the *_file key.
const (
	CredentialAPIToken    = "api_token"
	CredentialGUIPassword = "gui_password"
)

// Config is the log server's configuration.
type Config struct {
	// Path is the file it was read from.
	Path string
	// Listen is the TCP address to serve on, host:port.
	Listen string
	// Database is an SQLite file path, or a postgres:// URL.
	Database string
	// KeepDays: records older than this many days are purged; 0 keeps
	// them for ever.
	KeepDays int
	// APIToken is the token the posts carry; GUIPassword guards the GUI
	// and the queries.
	APIToken, GUIPassword string
}

// Postgres tells whether Database is a PostgreSQL URL.
func (c *Config) Postgres() bool { return IsPostgresURL(c.Database) }

// IsPostgresURL tells whether a database setting names PostgreSQL.
func IsPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// keys are the file's keys.
var keys = []string{"listen", "database", "keep_days", "api_token_file", "gui_password_file"}

// Load reads the configuration at path and its secrets, taking systemd
// credentials from $CREDENTIALS_DIRECTORY. Every problem is a
// *config.Error naming the file, the key and the line.
func Load(path string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, &pconfig.Error{Path: path, Msg: fileProblem(err)}
	}
	return Parse(path, raw, os.Getenv(pconfig.CredentialsDirectoryEnv))
}

// fileProblem says briefly why a file cannot be read.
func fileProblem(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "file does not exist"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Parse checks and completes a configuration read from path; credDir is the
// credentials directory ("" for none).
func Parse(path string, raw []byte, credDir string) (*Config, error) {
	fail := func(key string, line int, format string, a ...any) error {
		return &pconfig.Error{Path: path, Key: key, Line: line, Msg: fmt.Sprintf(format, a...)}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		return nil, fail("", 0, "not valid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(root.Content) == 0 {
		return nil, fail("", 0, "file is empty")
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return nil, fail("", doc.Line, "must be a mapping of keys (%s)", strings.Join(keys, ", "))
	}
	values := map[string]*yaml.Node{}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := doc.Content[i], doc.Content[i+1]
		if !known(k.Value) {
			return nil, fail(k.Value, k.Line, "unknown key (known: %s)", strings.Join(keys, ", "))
		}
		if _, dup := values[k.Value]; dup {
			return nil, fail(k.Value, k.Line, "given twice")
		}
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			return nil, fail(k.Value, v.Line, "must be a single value")
		}
		values[k.Value] = v
	}
	cfg := &Config{Path: path, Listen: DefaultListen, Database: DefaultDatabase, KeepDays: DefaultKeepDays}
	if v := values["listen"]; v != nil {
		cfg.Listen = v.Value
		if _, port, err := net.SplitHostPort(v.Value); err != nil || port == "" {
			return nil, fail("listen", v.Line, "%q is not host:port (e.g. 127.0.0.1:8080, or :8080 for every address)", v.Value)
		}
	}
	if v := values["database"]; v != nil {
		cfg.Database = v.Value
		if !IsPostgresURL(v.Value) && !filepath.IsAbs(v.Value) {
			return nil, fail("database", v.Line, "%q is neither an absolute SQLite file path nor a postgres:// URL", v.Value)
		}
	}
	if v := values["keep_days"]; v != nil {
		n, err := strconv.Atoi(v.Value)
		if err != nil || n < 0 {
			return nil, fail("keep_days", v.Line, "%q is not a number of days (0 keeps records for ever)", v.Value)
		}
		cfg.KeepDays = n
	}
	var err error
	if cfg.APIToken, err = secret(path, values["api_token_file"], "api_token_file", credDir, CredentialAPIToken); err != nil {
		return nil, err
	}
	if cfg.GUIPassword, err = secret(path, values["gui_password_file"], "gui_password_file", credDir, CredentialGUIPassword); err != nil {
		return nil, err
	}
	return cfg, nil
}

func known(k string) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

// secret reads a secret: the credential cred when credDir has it, else the
// file the key names.
func secret(path string, node *yaml.Node, key, credDir, cred string) (string, error) {
	if credDir != "" {
		p := filepath.Join(credDir, cred)
		b, err := os.ReadFile(p)
		switch {
		case err == nil:
			if s := strings.TrimSpace(string(b)); s != "" {
				return s, nil
			}
			return "", &pconfig.Error{Path: path, Key: key, Msg: fmt.Sprintf("credential %s (%s) is empty", cred, p)}
		case !errors.Is(err, fs.ErrNotExist):
			return "", &pconfig.Error{Path: path, Key: key, Msg: fmt.Sprintf("credential %s (%s): %s", cred, p, fileProblem(err))}
		}
	}
	if node == nil {
		return "", &pconfig.Error{Path: path, Key: key, Msg: fmt.Sprintf("missing: name the file holding the secret (or provide the systemd credential %s)", cred)}
	}
	if !filepath.IsAbs(node.Value) {
		return "", &pconfig.Error{Path: path, Key: key, Line: node.Line, Msg: fmt.Sprintf("%q is not an absolute path", node.Value)}
	}
	b, err := os.ReadFile(node.Value)
	if err != nil {
		return "", &pconfig.Error{Path: path, Key: key, Line: node.Line, Msg: node.Value + ": " + fileProblem(err)}
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", &pconfig.Error{Path: path, Key: key, Line: node.Line, Msg: node.Value + ": empty"}
	}
	if strings.ContainsAny(s, "\n\r") {
		return "", &pconfig.Error{Path: path, Key: key, Line: node.Line, Msg: node.Value + ": holds more than one line"}
	}
	return s, nil
}
