// Package config loads and checks the rabbitmq-consumer YAML configuration
// file, the one format shared by the consumer, the log shipper and the RPC
// client.
package config

import (
	"fmt"
	"sort"

	"go.yaml.in/yaml/v3"
)

// Default locations.
const (
	DefaultPath              = "/etc/rabbitmq-consumer/rabbitmq.yml"
	DefaultHandlersDirectory = "/usr/lib/rabbitmq-consumer/handlers"
	DefaultSpoolDirectory    = "/var/lib/rabbitmq-consumer/spool"
	DefaultStateDirectory    = "/var/lib/rabbitmq-consumer/state"
	DefaultMaxSimultaneous   = 5
)

// Config is the whole configuration file.
type Config struct {
	// Path is the file the configuration was read from.
	Path string `yaml:"-"`

	// Mock makes the consumer answer with generated responses and never run handlers.
	Mock bool `yaml:"mock"`
	// HandlersDirectory holds one directory per exchange (handler + contract.json).
	HandlersDirectory string `yaml:"handlers_directory"`
	// SpoolDirectory holds the log-shipping spool files, one set per virtual host.
	SpoolDirectory string `yaml:"spool_directory"`
	// StateDirectory keeps each virtual host's recent outcomes, so that a
	// request redelivered after a crash is answered without running again.
	StateDirectory string `yaml:"state_directory"`
	// Server is the RabbitMQ broker to connect to.
	Server Server `yaml:"server"`
	// LogServer, when set, enables shipping RPC records to a central log server.
	LogServer *LogServer `yaml:"log_server"`
	// VirtualHosts maps a RabbitMQ virtual host name to its settings.
	VirtualHosts map[string]VirtualHost `yaml:"virtual_hosts"`

	// Warnings are problems that do not stop a program, e.g. a file holding
	// secrets that every local user can read. Programs log each once.
	Warnings []string `yaml:"-"`

	// fileSecrets are the keys of the secrets written in the file itself.
	fileSecrets []string
}

// Server is the broker connection.
type Server struct {
	Host string `yaml:"host"`
	// Hosts are the nodes of a RabbitMQ cluster, "host" or "host:port"
	// (port: Port); the consumer connects to the first live one, in
	// order, and moves on to the next when it goes. Empty: Host alone.
	Hosts    []string `yaml:"hosts"`
	Port     int      `yaml:"port"`
	Username string   `yaml:"username"`
	Password string   `yaml:"password"`
	// SSL connects with TLS (amqps), verifying the broker's certificate
	// against the system's CAs (or the file named by SSL_CERT_FILE).
	SSL bool `yaml:"ssl"`

	// nodesPort is the port of the Hosts entries that name none (Port
	// may be the first entry's own); 0: Port.
	nodesPort int
}

// LogServer is the central log server that rabbitmq-consumer-logship posts to.
type LogServer struct {
	BaseURL  string `yaml:"base_url"`
	APIToken string `yaml:"api_token"`
	// MetricsListen, when set (host:port, e.g. 127.0.0.1:9419), makes the
	// shipper serve Prometheus metrics at /metrics on that address.
	MetricsListen string `yaml:"metrics_listen"`
}

// VirtualHost is the configuration of one virtual host (one consumer process).
type VirtualHost struct {
	// Name is the RabbitMQ virtual host name (the key in virtual_hosts).
	Name string `yaml:"-"`
	// Queue is the queue consumed; callers use it as routing key.
	Queue string `yaml:"queue"`
	// MaxSimultaneousRequests is the prefetch count and concurrency bound.
	MaxSimultaneousRequests int `yaml:"max_simultaneous_requests"`
	// FernetKey is the Fernet key clients encrypt with: the first of
	// FernetKeys. Empty when the virtual host has none.
	FernetKey string `yaml:"-"`
	// FernetKeys are the keys a top-level request string may be encrypted
	// with, newest first: `fernet_key` holds one key or a list (several
	// during a key rotation). Strings that are Fernet tokens for any of them
	// are decrypted.
	FernetKeys KeyList `yaml:"fernet_key"`
	// Exchanges maps an exchange name (an action) to its settings.
	Exchanges map[string]Exchange `yaml:"exchanges"`
	// MetricsListen, when set (host:port, e.g. 127.0.0.1:9420), makes the
	// virtual host's consumer serve Prometheus metrics at /metrics, and its
	// log levels at /log-level, on that address.
	MetricsListen string `yaml:"metrics_listen"`
	// QueueType is the type the queue is declared with: QueueClassic
	// (the default) or QueueQuorum.
	QueueType string `yaml:"queue_type"`
	// DeliveryLimit (quorum queues only) is how many times a request is
	// delivered before it is dead-lettered; 0 means DefaultDeliveryLimit.
	DeliveryLimit int `yaml:"delivery_limit"`
	// DeadLetterQueue (quorum queues only) receives the requests over the
	// delivery limit; empty means Queue + ".dead".
	DeadLetterQueue string `yaml:"dead_letter_queue"`
	// LocksAcrossHosts makes lock values and recent outcomes hold across
	// every consumer instance of the virtual host, on any host (see
	// docs/scaling.md); false keeps them inside the process.
	LocksAcrossHosts bool `yaml:"locks_across_hosts"`
	// RetryLimit is how many times a request is published again when its
	// handler keeps asking to retry later; 0 means DefaultRetryLimit.
	RetryLimit int `yaml:"retry_limit"`
}

// Exchange is the configuration of one exchange.
type Exchange struct {
	// Type is the AMQP exchange type; only "direct" is meaningful for RPC.
	Type string `yaml:"type"`
	// Durable declares the exchange durable. The default, false, is how
	// the reference consumer declares it and how the reference RPC client
	// re-declares it before every call: a durable exchange makes every
	// call of that client fail with 406 PRECONDITION_FAILED.
	Durable bool `yaml:"durable"`
}

// KeyList is a YAML value that is one string or a list of strings.
type KeyList []string

// UnmarshalYAML accepts a scalar (one key) or a sequence of scalars.
func (l *KeyList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = nil
		if n.Value != "" {
			*l = KeyList{n.Value}
		}
		return nil
	}
	var keys []string
	if err := n.Decode(&keys); err != nil {
		return fmt.Errorf("line %d: a key or a list of keys: %w", n.Line, err)
	}
	*l = keys
	return nil
}

// DecryptionKeys returns the keys requests may be encrypted with: FernetKeys,
// or FernetKey alone when only it is set.
func (v VirtualHost) DecryptionKeys() []string {
	if len(v.FernetKeys) > 0 {
		return v.FernetKeys
	}
	if v.FernetKey != "" {
		return []string{v.FernetKey}
	}
	return nil
}

// VirtualHost returns the named virtual host's settings.
func (c *Config) VirtualHost(name string) (VirtualHost, error) {
	vh, ok := c.VirtualHosts[name]
	if !ok {
		return VirtualHost{}, &Error{Path: c.Path, Key: "virtual_hosts." + name, Msg: "virtual host is not configured"}
	}
	return vh, nil
}

// ExchangeNames returns the virtual host's exchange names, sorted.
func (v VirtualHost) ExchangeNames() []string {
	names := make([]string, 0, len(v.Exchanges))
	for n := range v.Exchanges {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
