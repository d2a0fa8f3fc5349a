package logserver

import (
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/manual"
)

// Manual is rabbitmq-consumer-log-server(1); its flags are Main's.
var Manual = manual.Page{
	Name:     "rabbitmq-consumer-log-server",
	Section:  1,
	Summary:  "the central log of RPC requests and responses: API, storage and GUI",
	Synopsis: []string{"[--config-file-path F]"},
	Description: `rabbitmq-consumer-log-server takes the request and response records that rabbitmq-consumer-logship posts from every consumer host (POST /api/v1/rpc-requests and /api/v1/rpc-responses, the reference log server's API, with the token in X-API-Token), stores them in SQLite or PostgreSQL, purges them after keep_days, and shows them: the GUI at /, the JSON API GET /api/v1/rpc-requests, both behind the GUI password (HTTP basic auth).

The configuration file holds listen, database (an SQLite file path, or a postgres:// URL), keep_days, api_token_file and gui_password_file; the systemd credentials api_token and gui_password win over the two files. Secrets are never taken from the command line. The database's migrations are applied at start. systemd runs it as rabbitmq-consumer-log-server.service:

	systemctl enable --now rabbitmq-consumer-log-server

The operator's guide: /usr/share/doc/rabbitmq-consumer-log-server/logging.md.gz`,
	Sections: []manual.Section{
		{Title: "EXIT STATUS", Body: `0	stopped by SIGTERM or SIGINT
1	runtime failure: the database cannot be opened, the address is taken
64	bad command line
78	configuration error`},
		{Title: "ENVIRONMENT", Body: `CONFIG_FILE_PATH	the default of --config-file-path
CREDENTIALS_DIRECTORY	systemd's credentials directory: api_token and gui_password`},
		{Title: "FILES", Body: `/etc/rabbitmq-consumer/log-server.yml	the configuration
/etc/rabbitmq-consumer/credentials/log-server.api_token	the API token (the unit's credential api_token)
/etc/rabbitmq-consumer/credentials/log-server.gui_password	the GUI password (the unit's credential gui_password)
/var/lib/rabbitmq-consumer-log-server/log.db	the SQLite database`},
	},
	SeeAlso: []string{"rabbitmq-consumer-logship(1)"},
}
