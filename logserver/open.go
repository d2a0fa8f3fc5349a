package logserver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store/postgres"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store/sqlite"
)

// checkDatabase reports a database setting that cannot work, before any
// connection: an SQLite file whose directory does not exist.
func checkDatabase(cfg *config.Config) error {
	if cfg.Postgres() {
		return nil
	}
	dir := filepath.Dir(cfg.Database)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("%s: database: directory %s does not exist", cfg.Path, dir)
	}
	return nil
}

// OpenStore opens the store the configuration names and applies its
// migrations.
func OpenStore(ctx context.Context, cfg *config.Config) (store.Store, error) {
	if cfg.Postgres() {
		return postgres.Open(ctx, cfg.Database, postgres.Options{})
	}
	return sqlite.Open(ctx, cfg.Database, sqlite.Options{})
}

// databaseName is the database for messages: a path, or the URL without
// its password.
func databaseName(cfg *config.Config) string {
	if cfg.Postgres() {
		return postgres.Redact(cfg.Database)
	}
	return cfg.Database
}
