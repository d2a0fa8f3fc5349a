package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"runtime"
	"sync"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
)

// errClosed is returned by writes after Close.
var errClosed = errors.New("the store is closed")

// maxBatch bounds the writes committed together.
const maxBatch = 256

// op is one write: run does it in tx, done gets its result.
type op struct {
	ctx  context.Context
	run  func(ctx context.Context, tx *sql.Tx) error
	done chan error
}

// writer is the store's one writer: a goroutine that commits the writes
// waiting at that moment in one transaction (group commit). Under
// concurrent posts, one commit, the costly part, serves many records; a
// lone write is committed at once.
type writer struct {
	db   *sql.DB
	ops  chan op
	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

func newWriter(db *sql.DB) *writer {
	w := &writer{db: db, ops: make(chan op), stop: make(chan struct{})}
	w.wg.Add(1)
	go w.loop()
	return w
}

// do runs fn in a write transaction, with the writes waiting beside it.
func (w *writer) do(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	o := op{ctx: ctx, run: fn, done: make(chan error, 1)}
	select {
	case w.ops <- o:
	case <-w.stop:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-o.done
}

// close stops the writer once the batch in progress is committed.
func (w *writer) close() {
	w.once.Do(func() { close(w.stop) })
	w.wg.Wait()
}

func (w *writer) loop() {
	defer w.wg.Done()
	for {
		select {
		case <-w.stop:
			return
		case o := <-w.ops:
			batch := []op{o}
			// Let the writes being prepared at this moment join.
			runtime.Gosched()
		more:
			for len(batch) < maxBatch {
				select {
				case o := <-w.ops:
					batch = append(batch, o)
				default:
					break more
				}
			}
			w.commit(batch)
		}
	}
}

// expected tells whether err is an answer of the store (the batch goes
// on) rather than a database failure.
func expected(err error) bool {
	return err == nil || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrUnknownRequest)
}

// commit runs a batch in one transaction. A database failure in one write
// rolls the batch back, and each write is then run in a transaction of its
// own, so that it fails alone.
func (w *writer) commit(batch []op) {
	if len(batch) > 1 {
		if errs, ok := w.together(batch); ok {
			for i, o := range batch {
				o.done <- errs[i]
			}
			return
		}
	}
	for _, o := range batch {
		errs, _ := w.together([]op{o})
		o.done <- errs[0]
	}
}

// together runs ops in one transaction; ok is false when it was rolled
// back for a database failure (errs then say what each got).
func (w *writer) together(ops []op) (errs []error, ok bool) {
	errs = make([]error, len(ops))
	fail := func(err error) ([]error, bool) {
		for i := range errs {
			errs[i] = err
		}
		return errs, false
	}
	tx, err := w.db.BeginTx(context.Background(), nil)
	if err != nil {
		return fail(err)
	}
	for i, o := range ops {
		if err := o.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if errs[i] = o.run(o.ctx, tx); !expected(errs[i]) {
			_ = tx.Rollback()
			return fail(errs[i])
		}
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return errs, true
}
