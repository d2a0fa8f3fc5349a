package config

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// secretsIn lists the keys of the secrets set in the file itself (before
// the environment and credentials override them); a secret's key is also
// its credential's name.
func secretsIn(cfg *Config) []string {
	var keys []string
	if cfg.Server.Password != "" {
		keys = append(keys, CredentialServerPassword)
	}
	if cfg.LogServer != nil && cfg.LogServer.APIToken != "" {
		keys = append(keys, CredentialLogServerToken)
	}
	for name, vh := range cfg.VirtualHosts {
		if len(vh.FernetKeys) > 0 {
			keys = append(keys, CredentialFernetKey(name))
		}
	}
	sort.Strings(keys)
	return keys
}

// exposureWarning says what is wrong when a file holding secrets can be
// read by every local user, and how to fix it; "" when nothing is.
func exposureWarning(path string, mode fs.FileMode, secrets []string) string {
	if len(secrets) == 0 || mode.Perm()&0o004 == 0 {
		return ""
	}
	return fmt.Sprintf("%s holds secrets (%s) and every local user can read it (mode %04o): "+
		"run `chmod o-rwx %s` (the package installs it 0640, group rabbitmq-consumer), "+
		"or move the secrets to systemd credentials (see \"Secrets\" in docs/operations.md)",
		path, strings.Join(secrets, ", "), mode.Perm(), path)
}
