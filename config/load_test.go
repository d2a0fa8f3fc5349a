package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const good = `
mock: false
server: {host: broker.example, port: 5672, username: u, password: p, ssl: false}
virtual_hosts:
  Trees:
    queue: trees
    max_simultaneous_requests: 3
    metrics_listen: 127.0.0.1:9420
    fernet_key: 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4='
    exchanges:
      dx_create_tree: {type: direct}
      dx_delete_tree: {}
      dx_keep_tree: {type: direct, durable: true}
`

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rabbitmq.yml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadGood(t *testing.T) {
	cfg, err := Load(write(t, good))
	if err != nil {
		t.Fatal(err)
	}
	vh, err := cfg.VirtualHost("Trees")
	if err != nil {
		t.Fatal(err)
	}
	if vh.Name != "Trees" || vh.Queue != "trees" || vh.MaxSimultaneousRequests != 3 || vh.MetricsListen != "127.0.0.1:9420" {
		t.Errorf("virtual host = %+v", vh)
	}
	if got := vh.ExchangeNames(); strings.Join(got, ",") != "dx_create_tree,dx_delete_tree,dx_keep_tree" {
		t.Errorf("exchanges = %v", got)
	}
	if vh.Exchanges["dx_delete_tree"].Type != "direct" {
		t.Errorf("default exchange type = %q", vh.Exchanges["dx_delete_tree"].Type)
	}
	// Exchanges are non-durable, as the reference declares them, unless
	// an exchange opts in.
	if vh.Exchanges["dx_create_tree"].Durable || vh.Exchanges["dx_delete_tree"].Durable || !vh.Exchanges["dx_keep_tree"].Durable {
		t.Errorf("durable = %v", vh.Exchanges)
	}
	if cfg.HandlersDirectory != DefaultHandlersDirectory || cfg.SpoolDirectory != DefaultSpoolDirectory {
		t.Errorf("directories = %q %q", cfg.HandlersDirectory, cfg.SpoolDirectory)
	}
	if _, err := cfg.VirtualHost("trees"); err == nil {
		t.Error("virtual host names must be case-sensitive")
	}
}

func TestLoadDefaults(t *testing.T) {
	cfg, err := Load(write(t, "virtual_hosts: {v: {queue: q, exchanges: {e: {}}}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Server
	if s.Host != "localhost" || s.Port != 5672 || s.Username != "guest" || s.Password != "guest" {
		t.Errorf("server defaults = %+v", s)
	}
	if cfg.VirtualHosts["v"].MaxSimultaneousRequests != DefaultMaxSimultaneous {
		t.Errorf("max_simultaneous_requests default = %d", cfg.VirtualHosts["v"].MaxSimultaneousRequests)
	}
}

func TestLoadQueueTypes(t *testing.T) {
	tests := []struct {
		name, vh  string
		queueType string
		limit     int
		dead      string
	}{
		{"classic by default", "{queue: q, exchanges: {e: {}}}", "classic", 0, ""},
		{"quorum defaults", "{queue: q, queue_type: quorum, exchanges: {e: {}}}", "quorum", DefaultDeliveryLimit, "q.dead"},
		{"quorum configured", "{queue: q, queue_type: quorum, delivery_limit: 3, dead_letter_queue: poison, exchanges: {e: {}}}", "quorum", 3, "poison"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(write(t, "virtual_hosts: {v: "+tt.vh+"}\n"))
			if err != nil {
				t.Fatal(err)
			}
			vh := cfg.VirtualHosts["v"]
			if vh.QueueType != tt.queueType || vh.DeliveryLimit != tt.limit || vh.DeadLetterQueue != tt.dead {
				t.Errorf("queue_type %q, delivery_limit %d, dead_letter_queue %q; want %q, %d, %q", vh.QueueType, vh.DeliveryLimit, vh.DeadLetterQueue, tt.queueType, tt.limit, tt.dead)
			}
		})
	}
}

func TestLoadHosts(t *testing.T) {
	tests := []struct {
		name, server string
		host         string
		port         int
		addrs        string
	}{
		{"host alone", "{host: h, port: 5673}", "h", 5673, "h:5673"},
		{"default", "{}", "localhost", 5672, "localhost:5672"},
		{"hosts", "{hosts: [a, 'b:5680', '[::1]:5681', '::1']}", "a", 5672, "a:5672,b:5680,[::1]:5681,[::1]:5672"},
		{"hosts, first with a port", "{hosts: ['a:5690', b], port: 5673}", "a", 5690, "a:5690,b:5673"},
		{"hosts, only the first with a port", "{hosts: ['a:5690', b]}", "a", 5690, "a:5690,b:5672"},
		{"hosts with ssl", "{hosts: [a, b], ssl: true}", "a", 5671, "a:5671,b:5671"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(write(t, "server: "+tt.server+"\nvirtual_hosts: {v: {queue: q, exchanges: {e: {}}}}\n"))
			if err != nil {
				t.Fatal(err)
			}
			s := cfg.Server
			if got := strings.Join(s.Addresses(), ","); s.Host != tt.host || s.Port != tt.port || got != tt.addrs {
				t.Errorf("host %q port %d addresses %s; want %q %d %s", s.Host, s.Port, got, tt.host, tt.port, tt.addrs)
			}
		})
	}
}

func TestLoadEnvOverride(t *testing.T) {
	t.Setenv("RABBITMQ_CONSUMER_SERVER_PASSWORD", "from-env")
	t.Setenv("RABBITMQ_CONSUMER_SERVER_PORT", "5999")
	cfg, err := Load(write(t, good))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Password != "from-env" || cfg.Server.Port != 5999 {
		t.Errorf("server = %+v", cfg.Server)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, body string
		key        string
		line       int
		msg        string
	}{
		{"yaml syntax", "server: [unclosed\n", "", 0, "not valid YAML"},
		{"empty", "", "", 0, "file is empty"},
		{"unknown top key", "mok: true\n", "mok", 1, "unknown key"},
		{"unknown nested key", "virtual_hosts:\n  v:\n    queue: q\n    prefetch: 3\n", "virtual_hosts.v.prefetch", 4, "unknown key"},
		{"unknown exchange key", "virtual_hosts: {v: {queue: q, exchanges: {e: {kind: direct}}}}\n", "virtual_hosts.v.exchanges.e.kind", 1, "unknown key"},
		{"wrong type", "virtual_hosts: {v: {queue: q, max_simultaneous_requests: many, exchanges: {e: {}}}}\n", "", 0, "cannot unmarshal"},
		{"no vhosts", "mock: true\n", "virtual_hosts", 0, "no virtual host"},
		{"no queue", "virtual_hosts:\n  v:\n    exchanges: {e: {}}\n", "virtual_hosts.v.queue", 2, "must be set"},
		{"no exchanges", "virtual_hosts: {v: {queue: q}}\n", "virtual_hosts.v.exchanges", 1, "no exchange"},
		{"bad fernet", "virtual_hosts:\n  v:\n    queue: q\n    fernet_key: nope\n    exchanges: {e: {}}\n", "virtual_hosts.v.fernet_key", 4, "not a valid Fernet key"},
		{"misspelt durable", "virtual_hosts: {v: {queue: q, exchanges: {e: {type: direct, durabel: true}}}}\n", "virtual_hosts.v.exchanges.e.durabel", 1, "unknown key (known keys: durable, type)"},
		{"durable not a boolean", "virtual_hosts: {v: {queue: q, exchanges: {e: {durable: maybe}}}}\n", "", 0, "cannot unmarshal"},
		{"bad exchange type", "virtual_hosts: {v: {queue: q, exchanges: {e: {type: fast}}}}\n", "virtual_hosts.v.exchanges.e.type", 1, "not an exchange type"},
		{"bad concurrency", "virtual_hosts: {v: {queue: q, max_simultaneous_requests: -1, exchanges: {e: {}}}}\n", "virtual_hosts.v.max_simultaneous_requests", 1, "out of range"},
		{"bad log server", "log_server: {base_url: 'logs', api_token: t}\nvirtual_hosts: {v: {queue: q, exchanges: {e: {}}}}\n", "log_server.base_url", 1, "not an http(s) URL"},
		{"metrics_listen without port", "virtual_hosts:\n  v:\n    queue: q\n    metrics_listen: 127.0.0.1\n    exchanges: {e: {}}\n", "virtual_hosts.v.metrics_listen", 4, "is not host:port"},
		{"metrics_listen without host", "virtual_hosts: {v: {queue: q, metrics_listen: ':9420', exchanges: {e: {}}}}\n", "virtual_hosts.v.metrics_listen", 1, "names no host"},
		{"metrics_listen bad port", "virtual_hosts: {v: {queue: q, metrics_listen: '127.0.0.1:70000', exchanges: {e: {}}}}\n", "virtual_hosts.v.metrics_listen", 1, "not a port number (1..65535)"},
		{"metrics_listen shared", "virtual_hosts:\n  a: {queue: q, metrics_listen: '127.0.0.1:9420', exchanges: {e: {}}}\n  b: {queue: q, metrics_listen: '127.0.0.1:9420', exchanges: {e: {}}}\n", "virtual_hosts.b.metrics_listen", 3, "is virtual_hosts.a.metrics_listen's address too"},
		{"shipper metrics_listen shared", "log_server: {base_url: 'http://x/', api_token: t, metrics_listen: 'localhost:9419'}\nvirtual_hosts: {v: {queue: q, metrics_listen: 'localhost:9419', exchanges: {e: {}}}}\n", "virtual_hosts.v.metrics_listen", 2, "is log_server.metrics_listen's address too"},
		{"bad queue type", "virtual_hosts: {v: {queue: q, queue_type: stream, exchanges: {e: {}}}}\n", "virtual_hosts.v.queue_type", 1, "not a queue type (classic, quorum)"},
		{"delivery limit on classic", "virtual_hosts: {v: {queue: q, delivery_limit: 3, exchanges: {e: {}}}}\n", "virtual_hosts.v.delivery_limit", 1, "needs queue_type: quorum"},
		{"dead letters on classic", "virtual_hosts: {v: {queue: q, queue_type: classic, dead_letter_queue: d, exchanges: {e: {}}}}\n", "virtual_hosts.v.dead_letter_queue", 1, "needs queue_type: quorum"},
		{"bad delivery limit", "virtual_hosts: {v: {queue: q, queue_type: quorum, delivery_limit: -2, exchanges: {e: {}}}}\n", "virtual_hosts.v.delivery_limit", 1, "1 or more"},
		{"bad retry limit", "virtual_hosts: {v: {queue: q, retry_limit: -1, exchanges: {e: {}}}}\n", "virtual_hosts.v.retry_limit", 1, "1 or more"},
		{"dead letters into the queue", "virtual_hosts: {v: {queue: q, queue_type: quorum, dead_letter_queue: q, exchanges: {e: {}}}}\n", "virtual_hosts.v.dead_letter_queue", 1, "the queue itself"},
		{"host and hosts", "server: {host: a, hosts: [a, b]}\nvirtual_hosts: {v: {queue: q, exchanges: {e: {}}}}\n", "server.hosts", 1, "not both"},
		{"bad hosts port", "server: {hosts: [a, 'b:x']}\nvirtual_hosts: {v: {queue: q, exchanges: {e: {}}}}\n", "server.hosts", 1, `entry 2, "b:x": not host or host:port`},
		{"empty host in hosts", "server: {hosts: [a, '']}\nvirtual_hosts: {v: {queue: q, exchanges: {e: {}}}}\n", "server.hosts", 1, "entry 2, \"\": empty host name"},
		{"log server without token", "log_server: {base_url: 'http://x/'}\nvirtual_hosts: {v: {queue: q, exchanges: {e: {}}}}\n", "log_server.api_token", 1, "must be set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := write(t, tt.body)
			_, err := Load(path)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error = %v, want *Error", err)
			}
			if ce.Path != path || ce.Key != tt.key || ce.Line != tt.line || !strings.Contains(ce.Msg, tt.msg) {
				t.Errorf("error = %+v (%q), want key %q line %d msg containing %q", ce, err, tt.key, tt.line, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), path) {
				t.Errorf("message %q does not start with the file path", err)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "absent.yml")
	_, err := Load(p)
	if err == nil || err.Error() != p+": file does not exist" {
		t.Fatalf("error = %v", err)
	}
}

func TestLoadRetryLimit(t *testing.T) {
	tests := []struct {
		name, vh string
		want     int
	}{
		{"default", "{queue: q, exchanges: {e: {}}}", DefaultRetryLimit},
		{"configured", "{queue: q, retry_limit: 2, exchanges: {e: {}}}", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(write(t, "virtual_hosts: {v: "+tt.vh+"}\n"))
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.VirtualHosts["v"].RetryLimit; got != tt.want {
				t.Errorf("retry_limit %d, want %d", got, tt.want)
			}
		})
	}
}
