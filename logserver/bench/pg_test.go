package bench

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store/postgres"
)

// pgBulkLoad is bulkLoad on PostgreSQL: generate_series rows with the
// schema's indexes and triggers set aside, made again from their own SQL.
// It returns a connection to the database.
func pgBulkLoad(b *testing.B, url string, n int) *sql.DB {
	b.Helper()
	ctx := context.Background()
	s, err := postgres.Open(ctx, url, postgres.Options{}) // the schema
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		b.Fatal(err)
	}
	exec := func(q string, args ...any) {
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			b.Fatalf("bulk load: %s: %v", q, err)
		}
	}
	var indexes []string
	rows, err := db.QueryContext(ctx, `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'rpc_pairs' AND indexname <> 'rpc_pairs_pkey'`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			b.Fatal(err)
		}
		exec("DROP INDEX " + name)
		indexes = append(indexes, def)
	}
	_ = rows.Close()
	exec("ALTER TABLE rpc_pairs DISABLE TRIGGER USER")
	start := time.Now().Add(-time.Duration(n) * time.Second).UnixMicro()
	exec(`INSERT INTO rpc_pairs (correlation_id, request_payload, virtual_host_name, queue_name, rabbitmq_username, hostname,
			exchange_name, created_at, response_payload, traceback, response_created_at, outcome)
		SELECT md5(n::text || random()::text), '{"tree":"oak","n":' || n || ',"password":"*****"}', 'vh' || (r % 4), 'q', 'guest',
			'host' || (r / 4 % 8), 'dx_' || (r / 32 % 20), $1 + n * 1000000,
			CASE WHEN r / 640 % 100 < 98 THEN '{"success":' || (CASE WHEN r / 640 % 100 < 90 THEN 'true' ELSE 'false' END) || ',"message":"m","data":null}' END,
			CASE WHEN r / 640 % 100 BETWEEN 96 AND 97 THEN 'Traceback: exit status 3' END,
			CASE WHEN r / 640 % 100 < 98 THEN $1 + n * 1000000 + 25000 END,
			CASE WHEN r / 640 % 100 < 90 THEN 'success' WHEN r / 640 % 100 < 96 THEN 'failure' WHEN r / 640 % 100 < 98 THEN 'error' ELSE 'awaiting' END
		FROM (SELECT n, (random() * 2147483647)::bigint AS r FROM generate_series(0::bigint, $2::bigint - 1) AS n) AS g ORDER BY n`, start, n)
	exec(`INSERT INTO rpc_counts SELECT virtual_host_name, exchange_name, hostname, outcome, COUNT(*) FROM rpc_pairs
		GROUP BY virtual_host_name, exchange_name, hostname, outcome`)
	for _, def := range indexes {
		exec(def)
	}
	exec("ALTER TABLE rpc_pairs ENABLE TRIGGER USER")
	exec("VACUUM ANALYZE rpc_pairs")
	return db
}
