package config

import (
	"fmt"
	"strings"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/manual"
)

// keyDocs says what each of Keys means: "default<TAB>meaning". A key
// without an entry here fails the package's tests.
var keyDocs = map[string]string{
	"mock":                        "false\tanswer every valid request from the contract's examples, or with a response generated from the response schema; handlers never run (only their contract.json need be installed)",
	"handlers_directory":          DefaultHandlersDirectory + "\tone directory per exchange: <exchange>/handler and <exchange>/contract.json",
	"spool_directory":             DefaultSpoolDirectory + "\trequest and response records waiting to be shipped to the log server (only with log_server)",
	"state_directory":             DefaultStateDirectory + "\teach virtual host's recent outcomes (<vhost>.outcomes), so that a request redelivered after a crash is answered without running again",
	"server.host":                 "localhost\tthe broker's host name or address",
	"server.port":                 "5672 (5671 with ssl)\tthe broker's AMQP port",
	"server.username":             "guest\tthe broker user",
	"server.password":             "guest\tthe broker user's password",
	"server.hosts":                "none\tthe nodes of a RabbitMQ cluster, each host or host:port (port: server.port), instead of server.host: the consumer connects to the first live one in this order and, when that node goes, moves on to the next; rabbitmq-rpc and the Go client connect the same way",
	"server.ssl":                  "false\tconnect with TLS (amqps), verifying the broker's certificate against the system's CAs or the PEM file named by SSL_CERT_FILE",
	"log_server.base_url":         "none\tthe log server's API, e.g. https://logs.example.com/api/v1/; when set, every request and response is spooled and shipped by rabbitmq-consumer-logship",
	"log_server.api_token":        "none\tthe log server's API token (header X-API-Token)",
	"log_server.metrics_listen":   "none\thost:port (e.g. 127.0.0.1:9419) where rabbitmq-consumer-logship serves Prometheus metrics at /metrics (the backlog rabbitmq-consumer-status reads) and its log levels at /log-level",
	"virtual_hosts.<vhost>":       "\tone entry per RabbitMQ virtual host: its name (case-sensitive) is the unit's instance name, rabbitmq-consume@<vhost>",
	"virtual_hosts.<vhost>.queue": "required\tthe durable queue consumed; callers use it as routing key",
	"virtual_hosts.<vhost>.max_simultaneous_requests":    fmt.Sprint(DefaultMaxSimultaneous) + "\tthe prefetch count: how many requests the process holds and runs at once",
	"virtual_hosts.<vhost>.metrics_listen":               "none\thost:port (e.g. 127.0.0.1:9420, one per virtual host) where the consumer serves Prometheus metrics at /metrics and its log levels at /log-level",
	"virtual_hosts.<vhost>.fernet_key":                   "none\tone Fernet key, or a list of keys during a rotation (clients encrypt with the first): top-level request strings that are Fernet tokens for one of them are decrypted before validation and masked as ***** in logs and records",
	"virtual_hosts.<vhost>.queue_type":                   "classic\tclassic (one broker node, as the reference declares it) or quorum (replicated over a cluster's nodes, with a delivery limit and a dead-letter queue); an existing queue's type cannot change: see the operations guide",
	"virtual_hosts.<vhost>.delivery_limit":               fmt.Sprint(DefaultDeliveryLimit) + "\tquorum only: a request delivered this many times without being settled (its handler crashed the consumer each time) is delivered once more, not run, answered with the unexpected error and dead-lettered",
	"virtual_hosts.<vhost>.dead_letter_queue":            "<queue>" + DeadLetterSuffix + "\tquorum only: the durable quorum queue, declared by the consumer, that keeps the requests over the delivery limit for the operator",
	"virtual_hosts.<vhost>.locks_across_hosts":           "false\tmake lock values and recent outcomes hold across every consumer instance of the virtual host, on any host, through the broker (see the scaling guide); off, they hold inside one process",
	"virtual_hosts.<vhost>.retry_limit":                  fmt.Sprint(DefaultRetryLimit) + "\thow many times a request is published again, through the delay queue <queue>.retry-later, when its handler keeps asking to retry later; the next \"not now\" gets the caller the unexpected error",
	"virtual_hosts.<vhost>.exchanges.<exchange>":         "\tone entry per exchange (action) the virtual host serves; its handler is <handlers_directory>/<exchange>",
	"virtual_hosts.<vhost>.exchanges.<exchange>.type":    "direct\tthe exchange type; the exchange is declared and bound to the queue with the queue's name as routing key",
	"virtual_hosts.<vhost>.exchanges.<exchange>.durable": "false\tdeclare the exchange durable; leave it off for callers of the reference Python RPC client, which declares it non-durable before every call (a durable one makes those calls fail with 406 PRECONDITION_FAILED)",
}

// Manual is the configuration file's manual page, rabbitmq-consumer.yml(5).
func Manual() manual.Page {
	var keys strings.Builder
	for _, k := range Keys() {
		def, meaning, _ := strings.Cut(keyDocs[k], "\t")
		switch def {
		case "", "none":
		case "required":
			meaning += " (required)"
		default:
			meaning += " (default: " + def + ")"
		}
		fmt.Fprintf(&keys, "%s\t%s\n", k, meaning)
	}
	return manual.Page{
		Name:    "rabbitmq-consumer.yml",
		Section: 5,
		Summary: "configuration of the rabbitmq-consumer programs",
		Description: `The consumers (rabbitmq-consumer), the log shipper (rabbitmq-consumer-logship) and the command-line client (rabbitmq-rpc) read one YAML file, by default ` + DefaultPath + `; the unit rabbitmq-consume@.service passes --config-file-path $CONFIG_FILE_PATH, which a drop-in may point elsewhere in /etc/rabbitmq-consumer/. Files of the reference Python consumer work unchanged.

	mock: false
	handlers_directory: ` + DefaultHandlersDirectory + `
	spool_directory: ` + DefaultSpoolDirectory + `
	state_directory: ` + DefaultStateDirectory + `
	server: {host: localhost, port: 5672, username: guest, password: guest, ssl: false}
	log_server: {base_url: https://logs.example.com/api/v1/, api_token: secret}
	virtual_hosts:
	  trees:
	    queue: trees
	    max_simultaneous_requests: 5
	    fernet_key: '...'
	    exchanges:
	      dx_create_tree: {type: direct}

Every problem in the file (YAML, an unknown key, a missing virtual host, a bad Fernet key) stops the program at once with one line naming the file, the line, the key and what is wrong.`,
		Sections: []manual.Section{
			{Title: "KEYS", Body: keys.String()},
			{Title: "ENVIRONMENT", Body: `Environment variables override the broker and log server settings of the file:

` + EnvPrefix + `_SERVER_HOST	server.host
` + EnvPrefix + `_SERVER_PORT	server.port
` + EnvPrefix + `_SERVER_USERNAME	server.username
` + EnvPrefix + `_SERVER_PASSWORD	server.password
` + EnvPrefix + `_SERVER_SSL	server.ssl
` + EnvPrefix + `_LOG_SERVER_BASE_URL	log_server.base_url
` + EnvPrefix + `_LOG_SERVER_API_TOKEN	log_server.api_token

The secrets (broker password, Fernet keys, log server token) are best kept in systemd credentials, which override both the file and the environment. The file is installed 0640 root:rabbitmq-consumer, and the programs warn when a file holding secrets is readable by every user.`},
			{Title: "FILES", Body: DefaultPath + "\tthe default configuration\n/etc/rabbitmq-consumer/\tother configurations, named by a drop-in's CONFIG_FILE_PATH"},
		},
		SeeAlso: []string{"rabbitmq-consumer(1)", "rabbitmq-rpc(1)", "rabbitmq-consumer-logship(1)", "rabbitmq-consumer-status(1)"},
	}
}
