package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// CredentialsDirectoryEnv names the environment variable in which systemd
// passes a unit's credentials directory (LoadCredential=,
// LoadCredentialEncrypted=, SetCredential=).
const CredentialsDirectoryEnv = "CREDENTIALS_DIRECTORY"

// Credential names: a secret is read from the file of the credentials
// directory named after its configuration key, e.g.
// $CREDENTIALS_DIRECTORY/server.password or
// $CREDENTIALS_DIRECTORY/virtual_hosts.trees.fernet_key.
const (
	CredentialServerPassword = "server.password"
	CredentialLogServerToken = "log_server.api_token"
)

// CredentialFernetKey is the credential name of a virtual host's Fernet
// keys: one key per line, newest (the one clients encrypt with) first.
func CredentialFernetKey(vhost string) string {
	return "virtual_hosts." + vhost + ".fernet_key"
}

// applyCredentials overrides the configuration's secrets with the
// credentials found in dir (none when dir is empty). A credential wins over
// the environment and the file.
func applyCredentials(dir string, cfg *Config) error {
	if dir == "" {
		return nil
	}
	read := func(name string) (string, bool, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return "", false, nil
		case err != nil:
			return "", false, fmt.Errorf("credential %s: %w", name, err)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", false, fmt.Errorf("credential %s (%s): empty", name, filepath.Join(dir, name))
		}
		return v, true, nil
	}
	if v, ok, err := read(CredentialServerPassword); err != nil {
		return err
	} else if ok {
		cfg.Server.Password = v
	}
	if v, ok, err := read(CredentialLogServerToken); err != nil {
		return err
	} else if ok && cfg.LogServer != nil {
		// The token alone does not turn shipping on: log_server.base_url does.
		cfg.LogServer.APIToken = v
	}
	names := make([]string, 0, len(cfg.VirtualHosts))
	for n := range cfg.VirtualHosts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v, ok, err := read(CredentialFernetKey(n))
		if err != nil {
			return err
		}
		if ok {
			vh := cfg.VirtualHosts[n]
			vh.FernetKeys = strings.Fields(v)
			cfg.VirtualHosts[n] = vh
		}
	}
	return nil
}
