package postgres_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"testing"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testpg"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store/postgres"
)

// planNode is one node of EXPLAIN (ANALYZE, FORMAT JSON)'s plan.
type planNode struct {
	NodeType           string     `json:"Node Type"`
	IndexName          string     `json:"Index Name"`
	ActualRows         float64    `json:"Actual Rows"`
	ActualLoops        float64    `json:"Actual Loops"`
	RowsRemovedFilter  float64    `json:"Rows Removed by Filter"`
	RowsRemovedRecheck float64    `json:"Rows Removed by Index Recheck"`
	Plans              []planNode `json:"Plans"`
}

// walk calls f on n and every node below it.
func (n planNode) walk(f func(planNode)) {
	f(n)
	for _, c := range n.Plans {
		c.walk(f)
	}
}

// filterPlanPairs is the table the plan test queries: n pairs whose
// attributes cycle through 4 virtual hosts, 8 hosts and 20 exchanges every
// 640 pairs, with the outcome of each run of 640 pairs: 90% success, 6%
// failure, 2% error, 2% awaiting. So one virtual host, host, exchange and
// outcome error match 6 pairs in 200,000.
const filterPlanPairs = `INSERT INTO rpc_pairs (correlation_id, request_payload, virtual_host_name, queue_name,
		rabbitmq_username, hostname, exchange_name, created_at, outcome)
	SELECT 'c' || n, '{}', 'vh' || (n % 4), 'q', 'guest', 'host' || (n / 4 % 8), 'dx_' || (n / 32 % 20), n,
		CASE WHEN n / 640 % 100 < 90 THEN 'success' WHEN n / 640 % 100 < 96 THEN 'failure'
			WHEN n / 640 % 100 < 98 THEN 'error' ELSE 'awaiting' END
	FROM generate_series(0, $1 - 1) AS n`

// TestRareFilterCombinationPlan: a page of the pairs matching a virtual
// host, an exchange, a host and an outcome that few pairs have reads those
// pairs only, from one index range, rather than intersecting the
// exchange's whole index range with another or checking each of the
// exchange's errors in the table.
func TestRareFilterCombinationPlan(t *testing.T) {
	ctx := context.Background()
	url := testpg.New(t, "logserver_test")
	s, err := postgres.Open(ctx, url, postgres.Options{}) // the schema
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const pairs, want = 200_000, 6
	for _, step := range []struct {
		sql  string
		args []any
	}{
		{"ALTER TABLE rpc_pairs DISABLE TRIGGER USER", nil}, // the counts are not queried here
		{filterPlanPairs, []any{pairs}},
		{"ANALYZE rpc_pairs", nil},
	} {
		if _, err := db.ExecContext(ctx, step.sql, step.args...); err != nil {
			t.Fatalf("load pairs: %s: %v", step.sql, err)
		}
	}
	// The statement the store's List makes for these filters.
	const list = `SELECT id FROM rpc_pairs WHERE virtual_host_name = $1 AND exchange_name = $2 AND hostname = $3
		AND outcome IN ($4) ORDER BY id DESC LIMIT $5`
	var out string
	if err := db.QueryRowContext(ctx, "EXPLAIN (ANALYZE, FORMAT JSON) "+list, "vh1", "dx_5", "host3", "error", 51).Scan(&out); err != nil {
		t.Fatalf("explain: %v", err)
	}
	var plans []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(out), &plans); err != nil || len(plans) != 1 {
		t.Fatalf("explain: unreadable plan (%v): %s", err, out)
	}
	plan := plans[0].Plan
	if plan.ActualRows != want {
		t.Fatalf("the query returned %v pairs, want %d", plan.ActualRows, want)
	}
	plan.walk(func(n planNode) {
		read := n.ActualRows*n.ActualLoops + n.RowsRemovedFilter + n.RowsRemovedRecheck
		if read > want {
			t.Errorf("%s %s handled %v rows for %d matching pairs", n.NodeType, n.IndexName, read, want)
		}
	})
	if t.Failed() {
		t.Logf("the plan: %s", out)
	}
}
