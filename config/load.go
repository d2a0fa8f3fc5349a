package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"reflect"
	"sort"
	"strings"

	"github.com/fernet/fernet-go"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// EnvPrefix prefixes the environment variables that override settings of
// the file, e.g. RABBITMQ_CONSUMER_SERVER_PASSWORD.
const EnvPrefix = "RABBITMQ_CONSUMER"

// envKeys are the settings an environment variable may override: the broker
// connection and the log server token, so secrets can live outside the file.
var envKeys = []string{
	"server.host", "server.port", "server.username", "server.password", "server.ssl",
	"log_server.base_url", "log_server.api_token",
}

// Load reads, checks and completes the configuration file at path.
// Every problem is an *Error naming the file, the key and, where known, the line.
func Load(path string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		msg := err.Error()
		if errors.Is(err, fs.ErrNotExist) {
			msg = "file does not exist"
		} else if errors.Is(err, fs.ErrPermission) {
			msg = "permission denied"
		}
		return nil, &Error{Path: path, Msg: msg}
	}
	cfg, err := Parse(path, raw)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(path); err == nil {
		if w := exposureWarning(path, st.Mode(), cfg.fileSecrets); w != "" {
			cfg.Warnings = append(cfg.Warnings, w)
		}
	}
	return cfg, nil
}

// Parse checks and completes a configuration read from path.
func Parse(path string, raw []byte) (*Config, error) {
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(raw)); err != nil {
		return nil, &Error{Path: path, Msg: "not valid YAML: " + yamlMessage(err)}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		return nil, &Error{Path: path, Msg: "not valid YAML: " + yamlMessage(err)}
	}
	if len(root.Content) == 0 {
		return nil, &Error{Path: path, Msg: "file is empty"}
	}
	doc := root.Content[0]
	if err := checkKeys(path, doc, reflect.TypeOf(Config{}), ""); err != nil {
		return nil, err
	}
	cfg := &Config{}
	if err := doc.Decode(cfg); err != nil {
		return nil, &Error{Path: path, Msg: yamlMessage(err)}
	}
	cfg.Path = path
	cfg.fileSecrets = secretsIn(cfg)
	if err := applyEnv(v, cfg); err != nil {
		return nil, &Error{Path: path, Msg: err.Error()}
	}
	if err := applyCredentials(os.Getenv(CredentialsDirectoryEnv), cfg); err != nil {
		return nil, &Error{Path: path, Msg: err.Error()}
	}
	if err := cfg.complete(doc); err != nil {
		return nil, err
	}
	return cfg, nil
}

func yamlMessage(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	s = strings.TrimPrefix(s, "While parsing config: ")
	s = strings.TrimPrefix(s, "yaml: ")
	return strings.ReplaceAll(strings.TrimPrefix(s, "unmarshal errors:\n  "), "\n  ", "; ")
}

// checkKeys rejects any mapping key that the target type does not know,
// reporting its full dotted path and line.
func checkKeys(path string, n *yaml.Node, t reflect.Type, prefix string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return nil // type mismatches are reported by the decoder
	}
	switch t.Kind() {
	case reflect.Map:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if err := checkKeys(path, n.Content[i+1], t.Elem(), join(prefix, k)); err != nil {
				return err
			}
		}
	case reflect.Struct:
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
			if tag != "" && tag != "-" {
				fields[tag] = t.Field(i).Type
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			ft, ok := fields[k.Value]
			if !ok {
				return &Error{Path: path, Key: join(prefix, k.Value), Line: k.Line, Msg: "unknown key" + suggest(k.Value, fields)}
			}
			if err := checkKeys(path, n.Content[i+1], ft, join(prefix, k.Value)); err != nil {
				return err
			}
		}
	}
	return nil
}

func suggest(key string, fields map[string]reflect.Type) string {
	known := make([]string, 0, len(fields))
	for f := range fields {
		known = append(known, f)
	}
	sort.Strings(known)
	return " (known keys: " + strings.Join(known, ", ") + ")"
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// applyEnv lets RABBITMQ_CONSUMER_<KEY> environment variables override the
// file's broker and log server settings.
func applyEnv(v *viper.Viper, cfg *Config) error {
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	for _, k := range envKeys {
		if err := v.BindEnv(k); err != nil {
			return fmt.Errorf("bind %s: %w", k, err)
		}
	}
	env := func(k string) (string, bool) {
		name := EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(k, ".", "_"))
		_, ok := os.LookupEnv(name)
		return name, ok
	}
	for _, k := range envKeys {
		name, ok := env(k)
		if !ok {
			continue
		}
		switch k {
		case "server.host":
			cfg.Server.Host = v.GetString(k)
		case "server.port":
			p := v.GetInt(k)
			if p <= 0 {
				return fmt.Errorf("environment variable %s: %q is not a port number", name, os.Getenv(name))
			}
			cfg.Server.Port = p
		case "server.username":
			cfg.Server.Username = v.GetString(k)
		case "server.password":
			cfg.Server.Password = v.GetString(k)
		case "server.ssl":
			cfg.Server.SSL = v.GetBool(k)
		case "log_server.base_url", "log_server.api_token":
			if cfg.LogServer == nil {
				cfg.LogServer = &LogServer{}
			}
			if k == "log_server.base_url" {
				cfg.LogServer.BaseURL = v.GetString(k)
			} else {
				cfg.LogServer.APIToken = v.GetString(k)
			}
		}
	}
	return nil
}

// complete fills defaults and checks values.
func (c *Config) complete(doc *yaml.Node) error {
	fail := func(key, msg string) error {
		return &Error{Path: c.Path, Key: key, Line: lineOf(doc, key), Msg: msg}
	}
	if c.HandlersDirectory == "" {
		c.HandlersDirectory = DefaultHandlersDirectory
	}
	if c.SpoolDirectory == "" {
		c.SpoolDirectory = DefaultSpoolDirectory
	}
	if c.StateDirectory == "" {
		c.StateDirectory = DefaultStateDirectory
	}
	hostSet := c.Server.Host != ""
	if c.Server.Host == "" {
		c.Server.Host = "localhost"
	}
	if c.Server.Port == 0 {
		c.Server.Port = 5672
		if c.Server.SSL {
			c.Server.Port = 5671
		}
	}
	if c.Server.Port < 0 || c.Server.Port > 65535 {
		return fail("server.port", fmt.Sprintf("%d is not a port number", c.Server.Port))
	}
	if err := c.Server.completeHosts(hostSet, fail); err != nil {
		return err
	}
	if c.Server.Username == "" {
		c.Server.Username = "guest"
	}
	if c.Server.Password == "" {
		c.Server.Password = "guest"
	}
	if ls := c.LogServer; ls != nil {
		u, err := url.Parse(ls.BaseURL)
		if ls.BaseURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fail("log_server.base_url", fmt.Sprintf("%q is not an http(s) URL", ls.BaseURL))
		}
		if !strings.HasSuffix(ls.BaseURL, "/") {
			ls.BaseURL += "/"
		}
		if ls.APIToken == "" {
			return fail("log_server.api_token", "must be set when log_server is")
		}
	}
	listeners := map[string]string{} // address -> key
	useListen := func(key, addr string) error {
		if addr == "" {
			return nil
		}
		if err := checkListen(addr); err != nil {
			return fail(key, err.Error())
		}
		if other, dup := listeners[addr]; dup {
			return fail(key, fmt.Sprintf("%s is %s's address too: each program needs its own", addr, other))
		}
		listeners[addr] = key
		return nil
	}
	if c.LogServer != nil {
		if err := useListen("log_server.metrics_listen", c.LogServer.MetricsListen); err != nil {
			return err
		}
	}
	for _, name := range c.vhostNames() {
		if err := useListen("virtual_hosts."+name+".metrics_listen", c.VirtualHosts[name].MetricsListen); err != nil {
			return err
		}
	}
	if len(c.VirtualHosts) == 0 {
		return fail("virtual_hosts", "no virtual host is configured")
	}
	for name, vh := range c.VirtualHosts {
		key := "virtual_hosts." + name
		vh.Name = name
		if vh.Queue == "" {
			return fail(key+".queue", "must be set (the queue to consume)")
		}
		if vh.MaxSimultaneousRequests == 0 {
			vh.MaxSimultaneousRequests = DefaultMaxSimultaneous
		}
		if vh.MaxSimultaneousRequests < 1 || vh.MaxSimultaneousRequests > 65535 {
			return fail(key+".max_simultaneous_requests", fmt.Sprintf("%d is out of range 1..65535", vh.MaxSimultaneousRequests))
		}
		for i, k := range vh.FernetKeys {
			if _, err := fernet.DecodeKey(k); err != nil {
				what := "not a valid Fernet key (32 bytes, URL-safe base64)"
				if len(vh.FernetKeys) > 1 {
					what = fmt.Sprintf("key %d of %d is %s", i+1, len(vh.FernetKeys), what)
				}
				return fail(key+".fernet_key", what)
			}
		}
		if len(vh.FernetKeys) > 0 {
			vh.FernetKey = vh.FernetKeys[0]
		}
		if err := completeQueueType(&vh, key, fail); err != nil {
			return err
		}
		if vh.RetryLimit == 0 {
			vh.RetryLimit = DefaultRetryLimit
		}
		if vh.RetryLimit < 1 {
			return fail(key+".retry_limit", fmt.Sprintf("%d is not a number of retries (1 or more)", vh.RetryLimit))
		}
		if len(vh.Exchanges) == 0 {
			return fail(key+".exchanges", "no exchange is configured")
		}
		for ex, e := range vh.Exchanges {
			switch e.Type {
			case "":
				e.Type = "direct"
			case "direct", "topic", "fanout", "headers":
			default:
				return fail(key+".exchanges."+ex+".type", fmt.Sprintf("%q is not an exchange type (direct, topic, fanout, headers)", e.Type))
			}
			vh.Exchanges[ex] = e
		}
		c.VirtualHosts[name] = vh
	}
	return nil
}

// lineOf finds the line of a dotted key in the document, or 0.
func lineOf(doc *yaml.Node, key string) int {
	n := doc
	line := 0
	for _, part := range strings.Split(key, ".") {
		if n == nil || n.Kind != yaml.MappingNode {
			return line
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == part {
				line = n.Content[i].Line
				next = n.Content[i+1]
				break
			}
		}
		if next == nil {
			return line
		}
		n = next
	}
	return line
}
