package bench

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"sort"
	"testing"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testpg"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store/sqlite"
)

// storedPairs is the size of the database the queries run on.
const storedPairs = 1_000_000

// bulkLoad fills the SQLite database at path with n pairs, one a second up
// to now: SQL-generated rows in large transactions, far faster than
// posting them. The schema's indexes and triggers are set aside during the
// load and made again after it (from their own SQL, as the migrations
// created them), and the counts computed once. Attributes are spread at
// random: 4 virtual hosts, 20 exchanges, 8 hosts; 90% success, 6% failure,
// 2% error, 2% awaiting.
func bulkLoad(b *testing.B, path string, n int) {
	b.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path, sqlite.Options{}) // the schema
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)&_pragma=cache_size(-262144)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	exec := func(q string, args ...any) {
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			b.Fatalf("bulk load: %s: %v", q, err)
		}
	}
	type object struct{ kind, name, sql string }
	var objects []object
	rows, err := db.QueryContext(ctx, `SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND tbl_name = 'rpc_pairs' AND sql IS NOT NULL`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var o object
		if err := rows.Scan(&o.kind, &o.name, &o.sql); err != nil {
			b.Fatal(err)
		}
		objects = append(objects, o)
	}
	_ = rows.Close()
	for _, o := range objects {
		exec("DROP " + o.kind + " " + o.name)
	}
	start := time.Now().Add(-time.Duration(n) * time.Second).UnixMicro()
	const chunk = 250_000
	for from := 0; from < n; from += chunk {
		exec(`WITH RECURSIVE c(n, r) AS (SELECT ?, abs(random()) UNION ALL SELECT n + 1, abs(random()) FROM c WHERE n < ?)
			INSERT INTO rpc_pairs (correlation_id, request_payload, virtual_host_name, queue_name, rabbitmq_username, hostname,
				exchange_name, created_at, response_payload, traceback, response_created_at, outcome)
			SELECT lower(hex(randomblob(16))), '{"tree":"oak","n":' || n || ',"password":"*****"}', 'vh' || (r % 4), 'q', 'guest',
				'host' || (r / 4 % 8), 'dx_' || (r / 32 % 20), ? + n * 1000000,
				CASE WHEN r / 640 % 100 < 98 THEN '{"success":' || (CASE WHEN r / 640 % 100 < 90 THEN 'true' ELSE 'false' END) || ',"message":"m","data":null}' END,
				CASE WHEN r / 640 % 100 BETWEEN 96 AND 97 THEN 'Traceback: exit status 3' END,
				CASE WHEN r / 640 % 100 < 98 THEN ? + n * 1000000 + 25000 END,
				CASE WHEN r / 640 % 100 < 90 THEN 'success' WHEN r / 640 % 100 < 96 THEN 'failure' WHEN r / 640 % 100 < 98 THEN 'error' ELSE 'awaiting' END
			FROM c`, from, min(from+chunk, n)-1, start, start)
	}
	exec(`INSERT INTO rpc_counts SELECT virtual_host_name, exchange_name, hostname, outcome, COUNT(*) FROM rpc_pairs
		GROUP BY virtual_host_name, exchange_name, hostname, outcome`)
	for _, o := range objects {
		exec(o.sql)
	}
	exec("ANALYZE")
}

// sampleIDs are correlation ids of stored pairs, spread over the table.
func sampleIDs(b *testing.B, db *sql.DB, mark string, n int) []string {
	b.Helper()
	rows, err := db.Query(`SELECT correlation_id FROM rpc_pairs WHERE id % `+mark+` = 0`, storedPairs/n)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		_ = rows.Scan(&id)
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		b.Fatal("no correlation ids sampled")
	}
	return ids
}

// BenchmarkQueries times the GUI's queries (the JSON API, over HTTP) on
// 1,000,000 stored pairs in SQLite: p50 and p99 of each, and the server's
// peak RSS.
func BenchmarkQueries(b *testing.B) {
	bin := build(b, b.TempDir(), "rabbitmq-consumer-log-server")
	for i := 0; i < b.N; i++ {
		srv := newServer(b, bin, b.TempDir(), "")
		loaded := time.Now()
		bulkLoad(b, srv.db, storedPairs)
		fmt.Printf("logserver: setup: %d pairs bulk-loaded into SQLite in %.1fs\n", storedPairs, time.Since(loaded).Seconds())
		db, err := sql.Open("sqlite", "file:"+srv.db+"?mode=ro")
		if err != nil {
			b.Fatal(err)
		}
		ids := sampleIDs(b, db, "?", 200)
		_ = db.Close()
		runQueries(b, srv, "SQLite", ids)
	}
}

// BenchmarkQueriesPostgres is BenchmarkQueries on PostgreSQL.
func BenchmarkQueriesPostgres(b *testing.B) {
	bin := build(b, b.TempDir(), "rabbitmq-consumer-log-server")
	for i := 0; i < b.N; i++ {
		srv := newServer(b, bin, b.TempDir(), testpg.New(b, "logserver_bench"))
		loaded := time.Now()
		db := pgBulkLoad(b, srv.db, storedPairs)
		fmt.Printf("logserver: setup: %d pairs bulk-loaded into PostgreSQL in %.1fs\n", storedPairs, time.Since(loaded).Seconds())
		ids := sampleIDs(b, db, "$1", 200)
		_ = db.Close()
		runQueries(b, srv, "PostgreSQL", ids)
	}
}

// runQueries starts srv and times each query.
func runQueries(b *testing.B, srv *server, dbName string, ids []string) {
	b.Helper()
	srv.start(b)
	now := time.Now().UTC()
	ts := func(d time.Duration) string { return now.Add(-d).Format(time.RFC3339) }
	queries := []struct {
		name  string
		query func(i int) string
	}{
		{"newest page", func(int) string { return "" }},
		{"a page deep in the list", func(i int) string { return fmt.Sprintf("before=%d", 100000+i*3000) }},
		{"exchange", func(i int) string { return fmt.Sprintf("exchange_name=dx_%d", i%20) }},
		{"exchange + outcome error", func(i int) string { return fmt.Sprintf("exchange_name=dx_%d&outcome=error", i%20) }},
		{"vhost + host + outcome failure", func(i int) string {
			return fmt.Sprintf("virtual_host_name=vh%d&hostname=host%d&outcome=failure", i%4, i%8)
		}},
		{"exchange + host + vhost + outcome error", func(i int) string {
			return fmt.Sprintf("exchange_name=dx_%d&hostname=host%d&virtual_host_name=vh%d&outcome=error", i%20, i%8, i%4)
		}},
		{"outcome awaiting", func(int) string { return "outcome=awaiting" }},
		{"outcome failure or error", func(int) string { return "outcome=failure,error" }},
		{"last hour", func(int) string { return "since=" + url.QueryEscape(ts(time.Hour)) }},
		{"one day, a week ago", func(int) string {
			return "since=" + url.QueryEscape(ts(8*24*time.Hour)) + "&until=" + url.QueryEscape(ts(7*24*time.Hour))
		}},
		{"exchange + one day, a week ago", func(i int) string {
			return fmt.Sprintf("exchange_name=dx_%d&since=%s&until=%s", i%20, url.QueryEscape(ts(8*24*time.Hour)), url.QueryEscape(ts(7*24*time.Hour)))
		}},
		{"correlation id", func(i int) string { return "correlation_id=" + ids[i%len(ids)] }},
		{"correlation id prefix (4 characters)", func(i int) string { return "prefix=1&correlation_id=" + ids[i%len(ids)][:4] }},
		{"counts, no filter", func(int) string { return "limit=1&counts=1" }},
		{"counts, exchange + vhost", func(i int) string {
			return fmt.Sprintf("limit=1&counts=1&exchange_name=dx_%d&virtual_host_name=vh%d", i%20, i%4)
		}},
	}
	ctx := context.Background()
	const runs = 200
	for _, q := range queries {
		var took []time.Duration
		pairs := 0
		for r := 0; r < 5; r++ { // warm-up, not measured
			if _, err := srv.get(ctx, q.query(r)); err != nil {
				b.Fatalf("%s: %v", q.name, err)
			}
		}
		for r := 0; r < runs; r++ {
			t0 := time.Now()
			page, err := srv.get(ctx, q.query(r))
			took = append(took, time.Since(t0))
			if err != nil {
				b.Fatalf("%s: %v", q.name, err)
			}
			pairs += len(page.Pairs)
		}
		sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
		p50, p99 := took[runs/2], took[runs*99/100-1]
		fmt.Printf("logserver: %s query %-40s p50 %6.1f ms  p99 %6.1f ms  (%.1f pairs a page)\n", dbName, q.name+":",
			float64(p50.Microseconds())/1000, float64(p99.Microseconds())/1000, float64(pairs)/runs)
	}
	fmt.Printf("logserver: queries over %d pairs (%s): server peak RSS %.1f MB\n", storedPairs, dbName, srv.proc.peakRSS())
	srv.proc.stop(b)
}
