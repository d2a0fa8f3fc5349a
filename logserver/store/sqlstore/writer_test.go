package sqlstore

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
	_ "modernc.org/sqlite"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestWriterBatchWithAFailure: a batch is committed together; a write
// that fails in the database fails alone, the others are committed.
func TestWriterBatchWithAFailure(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "w.db")+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE t (x INTEGER NOT NULL CHECK (x > 0))`); err != nil {
		t.Fatal(err)
	}
	insert := func(x int) op {
		return op{ctx: context.Background(), done: make(chan error, 1), run: func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO t VALUES (?)", x)
			return err
		}}
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name  string
		xs    []int
		rows  int
		fails []bool
	}{
		{"all good", []int{1, 2, 3}, 3, []bool{false, false, false}},
		{"one bad", []int{4, -1, 5, 6}, 3, []bool{false, true, false, false}},
		{"alone and bad", []int{-2}, 0, []bool{true}},
	}
	w := &writer{db: db} // its loop not started: commit is called directly
	total := 0
	for _, tt := range tests {
		var batch []op
		for _, x := range tt.xs {
			batch = append(batch, insert(x))
		}
		w.commit(batch)
		for i, o := range batch {
			if err := <-o.done; (err != nil) != tt.fails[i] {
				t.Errorf("%s: write %d: %v", tt.name, i, err)
			}
		}
		total += tt.rows
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != total {
			t.Errorf("%s: %d rows, %v; want %d", tt.name, n, err, total)
		}
	}
	// A write whose context ended is not run; the others are.
	gone := insert(7)
	gone.ctx = cancelled
	batch := []op{insert(8), gone}
	w.commit(batch)
	if err := <-batch[0].done; err != nil {
		t.Error(err)
	}
	if err := <-batch[1].done; err == nil {
		t.Error("a write whose context ended was run")
	}
}

// TestWriterClose: after close, writes fail at once.
func TestWriterClose(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w := newWriter(db)
	if err := w.do(context.Background(), func(context.Context, *sql.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	w.close()
	if err := w.do(context.Background(), func(context.Context, *sql.Tx) error { return nil }); err != errClosed {
		t.Errorf("write after close: %v", err)
	}
}
