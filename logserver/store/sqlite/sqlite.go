// Package sqlite opens the log server's store in an SQLite database file
// (modernc.org/sqlite, pure Go): WAL, a busy timeout, one writer
// connection beside a pool of readers.
package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store/sqlstore"
)

// Options tune the store; the zero value is ready to use.
type Options = sqlstore.Options

// busyTimeoutMS is how long a statement waits for a lock held by another
// connection (a reader during a checkpoint, another process).
const busyTimeoutMS = 10000

// dsn is the connection string of the database file at path.
func dsn(path string, readOnly bool) string {
	v := url.Values{}
	v.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
	v.Add("_pragma", "journal_mode(WAL)")
	// In WAL mode, NORMAL loses at most the last transactions on a power
	// cut, never the database; a crash of the process loses nothing.
	v.Add("_pragma", "synchronous(NORMAL)")
	// Checkpoints (copying the WAL into the database, with an fsync) every
	// 8,192 pages rather than SQLite's 1,000: the hot pages of the indexes
	// are copied once for many commits. The WAL file is cut back to 64 MiB
	// after a checkpoint.
	v.Add("_pragma", "wal_autocheckpoint(8192)")
	v.Add("_pragma", "journal_size_limit(67108864)")
	if readOnly {
		v.Add("_pragma", "query_only(1)")
	} else {
		v.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + v.Encode()
}

// Open opens (creating it if needed) the database file at path, and applies
// the migrations.
func Open(ctx context.Context, path string, opts Options) (*sqlstore.Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("sqlite database %s: %w", path, err)
		}
	}
	write, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite database %s: %w", path, err)
	}
	// One writer: SQLite takes one write transaction at a time anyway, and a
	// queue in Go is cheaper than a busy wait in SQLite.
	write.SetMaxOpenConns(1)
	if err := write.PingContext(ctx); err != nil {
		_ = write.Close()
		return nil, fmt.Errorf("sqlite database %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		_ = write.Close()
		return nil, fmt.Errorf("sqlite database %s: %w", path, err)
	}
	read.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	read.SetMaxIdleConns(max(4, runtime.GOMAXPROCS(0)))
	s, err := sqlstore.New(ctx, sqlstore.SQLite, read, write, opts)
	if err != nil {
		_ = read.Close()
		_ = write.Close()
		return nil, fmt.Errorf("sqlite database %s: %w", path, err)
	}
	return s, nil
}
