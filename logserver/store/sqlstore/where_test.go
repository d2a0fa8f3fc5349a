package sqlstore

import (
	"fmt"
	"testing"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
)

func TestRebind(t *testing.T) {
	q := "a = ? AND b IN (?, ?)"
	if got := SQLite.rebind(q); got != q {
		t.Errorf("SQLite: %s", got)
	}
	if got := Postgres.rebind(q); got != "a = $1 AND b IN ($2, $3)" {
		t.Errorf("Postgres: %s", got)
	}
}

func TestFilterWhere(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		f        store.Filter
		outcomes bool
		sql      string
		args     string
	}{
		{store.Filter{}, true, "", "[]"},
		{store.Filter{CorrelationID: "ab"}, true, " WHERE correlation_id = ?", "[ab]"},
		{store.Filter{CorrelationID: "ab", CorrelationPrefix: true}, true, " WHERE correlation_id >= ? AND correlation_id < ?", "[ab ab\U0010FFFF]"},
		{store.Filter{CorrelationPrefix: true}, true, "", "[]"},
		{store.Filter{Exchange: "dx", Outcomes: []store.Outcome{store.OutcomeError, store.OutcomeFailure}}, true,
			" WHERE exchange_name = ? AND outcome IN (?, ?)", "[dx error failure]"},
		{store.Filter{Exchange: "dx", Outcomes: []store.Outcome{store.OutcomeError}}, false, " WHERE exchange_name = ?", "[dx]"},
		{store.Filter{Since: t0, After: 7}, true,
			" WHERE id >= (SELECT id FROM rpc_pairs WHERE created_at >= ? ORDER BY created_at, id LIMIT 1) AND id > ?",
			fmt.Sprintf("[%d 7]", t0.UnixMicro())},
	}
	for _, tt := range tests {
		w := filterWhere(tt.f, tt.outcomes)
		if w.String() != tt.sql || fmt.Sprint(w.args) != tt.args {
			t.Errorf("%+v:\n got %q %v\nwant %q %s", tt.f, w.String(), w.args, tt.sql, tt.args)
		}
	}
}

func TestCountable(t *testing.T) {
	for f, want := range map[*store.Filter]bool{
		{}: true,
		{VirtualHost: "v", Exchange: "x", Hostname: "h", Outcomes: []store.Outcome{store.OutcomeError}}: true,
		{CorrelationID: "c"}: false,
		{Since: time.Now()}:  false,
		{Until: time.Now()}:  false,
		{After: 3}:           false,
	} {
		if got := countable(*f); got != want {
			t.Errorf("countable(%+v) = %v", *f, got)
		}
	}
}
