// Package postgres opens the log server's store in a PostgreSQL database
// (github.com/jackc/pgx/v5), for a fleet whose log outgrows one file.
package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store/sqlstore"
)

// Options tune the store; the zero value is ready to use.
type Options = sqlstore.Options

// maxConns bounds the connections the log server opens.
const maxConns = 16

// Open connects to the database at a postgres:// URL and applies the
// migrations.
func Open(ctx context.Context, dbURL string, opts Options) (*sqlstore.Store, error) {
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return nil, fmt.Errorf("postgresql database %s: %w", Redact(dbURL), err)
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("postgresql database %s: %w", Redact(dbURL), err)
	}
	s, err := sqlstore.New(ctx, sqlstore.Postgres, db, db, opts)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("postgresql database %s: %w", Redact(dbURL), err)
	}
	return s, nil
}

// Redact is the URL with its password masked, for messages and logs.
func Redact(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
