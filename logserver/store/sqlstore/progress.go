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

// insertProgressSQL stores a progress update of a stored request, unless
// the request has one at that time. The casts give PostgreSQL the
// parameters' types, which a SELECT list does not.
const insertProgressSQL = `INSERT INTO rpc_progress (correlation_id, time, state, message, percent, data, created_at)
	SELECT CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS DOUBLE PRECISION), CAST(? AS TEXT), CAST(? AS BIGINT) WHERE EXISTS (SELECT 1 FROM rpc_pairs WHERE correlation_id = ?)
	ON CONFLICT (correlation_id, time) DO NOTHING`

// progressColumns are the columns scanProgress reads, in its order.
const progressColumns = `correlation_id, time, state, message, percent, data, created_at`

// AddProgress stores a progress update of a stored request; an identical
// repeat is a no-op, a different update at the same time store.ErrConflict,
// one without its request store.ErrUnknownRequest.
func (s *Store) AddProgress(ctx context.Context, p wire.LogProgress) error {
	return s.writer.do(ctx, func(ctx context.Context, tx *sql.Tx) error { return s.addProgress(ctx, tx, p) })
}

func (s *Store) addProgress(ctx context.Context, tx *sql.Tx, p wire.LogProgress) error {
	at := p.Time.UnixMicro()
	var pct sql.NullFloat64
	if p.Percent != nil {
		pct = sql.NullFloat64{Float64: *p.Percent, Valid: true}
	}
	var data sql.NullString
	if d := bytes.TrimSpace(p.Data); len(d) > 0 && string(d) != "null" {
		data = sql.NullString{String: compact(d), Valid: true}
	}
	res, err := tx.ExecContext(ctx, s.d.rebind(insertProgressSQL), p.CorrelationID, at, p.State, p.Message, pct, data, s.now().UnixMicro(), p.CorrelationID)
	if err != nil {
		return fmt.Errorf("store progress %q: %w", p.CorrelationID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	row := tx.QueryRowContext(ctx, s.d.rebind(`SELECT `+progressColumns+` FROM rpc_progress WHERE correlation_id = ? AND time = ?`), p.CorrelationID, at)
	old, err := scanProgress(row)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrUnknownRequest
	case err != nil:
		return fmt.Errorf("store progress %q: %w", p.CorrelationID, err)
	}
	samePercent := (old.Percent == nil) == !pct.Valid && (old.Percent == nil || *old.Percent == pct.Float64)
	if old.State != p.State || old.Message != p.Message || !samePercent || (old.Data == nil) == data.Valid ||
		(data.Valid && compact(old.Data) != data.String) {
		return store.ErrConflict
	}
	return nil
}

// scanProgress reads one row of progressColumns.
func scanProgress(sc interface{ Scan(...any) error }) (store.Progress, error) {
	var (
		p           store.Progress
		at, created int64
		pct         sql.NullFloat64
		data        sql.NullString
	)
	if err := sc.Scan(&p.CorrelationID, &at, &p.State, &p.Message, &pct, &data, &created); err != nil {
		return store.Progress{}, err
	}
	p.Time = time.UnixMicro(at).UTC()
	p.CreatedAt = time.UnixMicro(created).UTC()
	if pct.Valid {
		v := pct.Float64
		p.Percent = &v
	}
	if data.Valid {
		p.Data = json.RawMessage(data.String)
	}
	return p, nil
}

// Progress returns the progress updates of one correlation id, by time
// then arrival.
func (s *Store) Progress(ctx context.Context, correlationID string) ([]store.Progress, error) {
	rows, err := s.read.QueryContext(ctx, s.d.rebind(`SELECT `+progressColumns+` FROM rpc_progress WHERE correlation_id = ? ORDER BY time, id`), correlationID)
	if err != nil {
		return nil, fmt.Errorf("progress %q: %w", correlationID, err)
	}
	defer rows.Close()
	out := []store.Progress{}
	for rows.Next() {
		p, err := scanProgress(rows)
		if err != nil {
			return nil, fmt.Errorf("progress %q: %w", correlationID, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("progress %q: %w", correlationID, err)
	}
	return out, nil
}
