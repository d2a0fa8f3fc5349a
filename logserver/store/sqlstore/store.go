// Package sqlstore is the log server's store on an SQL database: the SQL
// shared by SQLite and PostgreSQL, their schema migrations (embedded,
// applied at start), and the differences between the two (Dialect).
// Packages sqlite and postgres open it.
package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// Options tune a store. The zero value is ready to use.
type Options struct {
	// Now is the clock that stamps records; nil means time.Now.
	Now func() time.Time
}

// Store implements store.Store on an SQL database.
type Store struct {
	read   *sql.DB
	write  *sql.DB
	writer *writer
	d      Dialect
	now    func() time.Time
	// The writes' statements, prepared once.
	insertRequest, updateResponse *sql.Stmt
}

var _ store.Store = (*Store)(nil)

// New applies the migrations and returns the store. Writes go through
// write, queries through read (the same pool, or for SQLite a pool of
// readers beside its single writer). Close closes both.
func New(ctx context.Context, d Dialect, read, write *sql.DB, opts Options) (*Store, error) {
	if err := migrate(ctx, write, d); err != nil {
		return nil, err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	s := &Store{read: read, write: write, d: d, now: now}
	var err error
	if s.insertRequest, err = write.PrepareContext(ctx, d.rebind(insertRequestSQL(d))); err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	if s.updateResponse, err = write.PrepareContext(ctx, d.rebind(updateResponseSQL)); err != nil {
		_ = s.insertRequest.Close()
		return nil, fmt.Errorf("prepare: %w", err)
	}
	s.writer = newWriter(write)
	return s, nil
}

// insertRequestSQL stores a request, unless its correlation id is stored.
// Its created_at is the clock's time, or the newest stored one if later (a
// clock stepped back): arrival times never decrease as ids grow, which
// makes a time range a range of ids (filterWhere).
func insertRequestSQL(d Dialect) string {
	return `INSERT INTO rpc_pairs
		(correlation_id, request_payload, virtual_host_name, queue_name, rabbitmq_username, hostname, exchange_name, created_at, outcome)
		VALUES (?, ?, ?, ?, ?, ?, ?, ` + d.Greatest + `(?, COALESCE((SELECT MAX(created_at) FROM rpc_pairs), 0)), ?)
		ON CONFLICT (correlation_id) DO NOTHING`
}

// updateResponseSQL stores a response in its request's row, unless it has
// one.
const updateResponseSQL = `UPDATE rpc_pairs
	SET response_payload = ?, traceback = ?, response_created_at = ?, outcome = ?
	WHERE correlation_id = ? AND response_payload IS NULL`

// Close stops the writer and closes the database pools.
func (s *Store) Close() error {
	s.writer.close()
	err := errors.Join(s.insertRequest.Close(), s.updateResponse.Close(), s.write.Close())
	if s.read != s.write {
		err = errors.Join(err, s.read.Close())
	}
	return err
}

// compact is a payload in the form it is stored and compared in.
func compact(b json.RawMessage) string {
	var out bytes.Buffer
	if json.Compact(&out, b) != nil {
		return string(b)
	}
	return out.String()
}

// AddRequest stores a request; an identical repeat is a no-op, a different
// one store.ErrConflict. Its created_at never decreases as ids grow
// (insertRequestSQL).
func (s *Store) AddRequest(ctx context.Context, r wire.LogRequest) error {
	return s.writer.do(ctx, func(ctx context.Context, tx *sql.Tx) error { return s.addRequest(ctx, tx, r) })
}

func (s *Store) addRequest(ctx context.Context, tx *sql.Tx, r wire.LogRequest) error {
	payload := compact(r.RequestPayload)
	res, err := tx.StmtContext(ctx, s.insertRequest).ExecContext(ctx, r.CorrelationID, payload, r.VirtualHostName, r.QueueName, r.RabbitMQUsername, r.Hostname, r.ExchangeName,
		s.now().UnixMicro(), string(store.OutcomeAwaiting))
	if err != nil {
		return fmt.Errorf("store request %q: %w", r.CorrelationID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	old, ok, err := s.get(ctx, tx, r.CorrelationID)
	switch {
	case err != nil:
		return err
	case !ok:
		return fmt.Errorf("store request %q: neither stored nor found", r.CorrelationID)
	}
	o := old.Request.LogRequest
	if o.VirtualHostName != r.VirtualHostName || o.QueueName != r.QueueName || o.RabbitMQUsername != r.RabbitMQUsername ||
		o.Hostname != r.Hostname || o.ExchangeName != r.ExchangeName || compact(o.RequestPayload) != payload {
		return store.ErrConflict
	}
	return nil
}

// AddResponse stores the response of a stored request; an identical
// repeat is a no-op, a different one store.ErrConflict, one without its
// request store.ErrUnknownRequest.
func (s *Store) AddResponse(ctx context.Context, r wire.LogResponse) error {
	return s.writer.do(ctx, func(ctx context.Context, tx *sql.Tx) error { return s.addResponse(ctx, tx, r) })
}

func (s *Store) addResponse(ctx context.Context, tx *sql.Tx, r wire.LogResponse) error {
	payload := compact(r.ResponsePayload)
	var tb sql.NullString
	if r.Traceback != nil {
		tb = sql.NullString{String: *r.Traceback, Valid: true}
	}
	res, err := tx.StmtContext(ctx, s.updateResponse).ExecContext(ctx, payload, tb, s.now().UnixMicro(), string(store.OutcomeOf(r.ResponsePayload, r.Traceback)), r.CorrelationID)
	if err != nil {
		return fmt.Errorf("store response %q: %w", r.CorrelationID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	old, ok, err := s.get(ctx, tx, r.CorrelationID)
	switch {
	case err != nil:
		return err
	case !ok:
		return store.ErrUnknownRequest
	case old.Response == nil:
		return fmt.Errorf("store response %q: neither stored nor found", r.CorrelationID)
	}
	o := old.Response.LogResponse
	if compact(o.ResponsePayload) != payload || (o.Traceback == nil) != (r.Traceback == nil) ||
		(o.Traceback != nil && *o.Traceback != *r.Traceback) {
		return store.ErrConflict
	}
	return nil
}

// pairColumns are the columns scanPair reads, in its order.
const pairColumns = `id, correlation_id, request_payload, virtual_host_name, queue_name, rabbitmq_username, hostname,
	exchange_name, created_at, response_payload, traceback, response_created_at, outcome`

// scanPair reads one row of pairColumns.
func scanPair(sc interface{ Scan(...any) error }) (store.Pair, error) {
	var (
		p       store.Pair
		reqPay  string
		created int64
		respPay sql.NullString
		tb      sql.NullString
		respAt  sql.NullInt64
		outcome string
	)
	rq := &p.Request
	wireReq := &rq.LogRequest
	if err := sc.Scan(&rq.ID, &wireReq.CorrelationID, &reqPay, &wireReq.VirtualHostName, &wireReq.QueueName,
		&wireReq.RabbitMQUsername, &wireReq.Hostname, &wireReq.ExchangeName, &created, &respPay, &tb, &respAt, &outcome); err != nil {
		return store.Pair{}, err
	}
	wireReq.RequestPayload = json.RawMessage(reqPay)
	rq.CreatedAt = time.UnixMicro(created).UTC()
	p.Outcome = store.Outcome(outcome)
	if respPay.Valid {
		resp := &store.Response{CreatedAt: time.UnixMicro(respAt.Int64).UTC()}
		resp.CorrelationID = wireReq.CorrelationID
		resp.ResponsePayload = json.RawMessage(respPay.String)
		if tb.Valid {
			t := tb.String
			resp.Traceback = &t
		}
		p.Response = resp
		p.Duration = max(0, resp.CreatedAt.Sub(rq.CreatedAt))
	}
	return p, nil
}

// Get returns the pair of one correlation id.
func (s *Store) Get(ctx context.Context, correlationID string) (store.Pair, bool, error) {
	return s.get(ctx, s.read, correlationID)
}

// querier is a pool or a transaction.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) get(ctx context.Context, q querier, correlationID string) (store.Pair, bool, error) {
	row := q.QueryRowContext(ctx, s.d.rebind(`SELECT `+pairColumns+` FROM rpc_pairs WHERE correlation_id = ?`), correlationID)
	p, err := scanPair(row)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Pair{}, false, nil
	case err != nil:
		return store.Pair{}, false, fmt.Errorf("get %q: %w", correlationID, err)
	}
	return p, true, nil
}

// List returns up to limit pairs matching f, newest first, older than the
// cursor before (0: from the newest).
func (s *Store) List(ctx context.Context, f store.Filter, before int64, limit int) (store.Page, error) {
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	w := filterWhere(f, true)
	if before > 0 {
		w.add("id < ?", before)
	}
	q := `SELECT ` + pairColumns + ` FROM rpc_pairs` + w.String() + ` ORDER BY id DESC LIMIT ?`
	rows, err := s.read.QueryContext(ctx, s.d.rebind(q), append(w.args, limit+1)...)
	if err != nil {
		return store.Page{}, fmt.Errorf("list: %w", err)
	}
	defer rows.Close()
	page := store.Page{Pairs: []store.Pair{}}
	for rows.Next() {
		p, err := scanPair(rows)
		if err != nil {
			return store.Page{}, fmt.Errorf("list: %w", err)
		}
		page.Pairs = append(page.Pairs, p)
	}
	if err := rows.Err(); err != nil {
		return store.Page{}, fmt.Errorf("list: %w", err)
	}
	if len(page.Pairs) > limit {
		page.Pairs = page.Pairs[:limit]
		page.Next = page.Pairs[limit-1].Request.ID
	}
	return page, nil
}

// Counts returns the number of pairs matching f per outcome, f.Outcomes
// aside; every outcome is present.
func (s *Store) Counts(ctx context.Context, f store.Filter) (map[store.Outcome]int64, error) {
	var q string
	var w *where
	if countable(f) {
		w = countsWhere(f)
		q = `SELECT outcome, SUM(n) FROM rpc_counts` + w.String() + ` GROUP BY outcome`
	} else {
		w = filterWhere(f, false)
		q = `SELECT outcome, COUNT(*) FROM rpc_pairs` + w.String() + ` GROUP BY outcome`
	}
	rows, err := s.read.QueryContext(ctx, s.d.rebind(q), w.args...)
	if err != nil {
		return nil, fmt.Errorf("counts: %w", err)
	}
	defer rows.Close()
	counts := make(map[store.Outcome]int64, len(store.Outcomes))
	for _, o := range store.Outcomes {
		counts[o] = 0
	}
	for rows.Next() {
		var o string
		var n int64
		if err := rows.Scan(&o, &n); err != nil {
			return nil, fmt.Errorf("counts: %w", err)
		}
		counts[store.Outcome(o)] += n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counts: %w", err)
	}
	return counts, nil
}

// purgeBatch bounds one purge transaction, so that ingest is not held up
// long by a large purge.
const purgeBatch = 5000

// Purge deletes the pairs whose request is older than cutoff, then the
// progress updates stored before cutoff, in batches.
func (s *Store) Purge(ctx context.Context, cutoff time.Time) (int64, error) {
	total, err := s.purgeTable(ctx, "rpc_pairs", cutoff)
	if err != nil {
		return total, fmt.Errorf("purge: %w", err)
	}
	if _, err := s.purgeTable(ctx, "rpc_progress", cutoff); err != nil {
		return total, fmt.Errorf("purge progress: %w", err)
	}
	return total, nil
}

// purgeTable deletes the rows of table (rpc_pairs or rpc_progress: both
// have id and created_at) created before cutoff, in batches, and returns
// how many it deleted.
func (s *Store) purgeTable(ctx context.Context, table string, cutoff time.Time) (int64, error) {
	q := s.d.rebind(`DELETE FROM ` + table + ` WHERE id IN (SELECT id FROM ` + table + ` WHERE created_at < ? ORDER BY created_at LIMIT ?)`)
	var total int64
	for {
		var n int64
		err := s.writer.do(ctx, func(ctx context.Context, tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, q, cutoff.UnixMicro(), purgeBatch)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < purgeBatch {
			return total, nil
		}
	}
}
