// Package store keeps the log server's RPC records: a request, and the
// response sent for it once there is one (a pair). SQLite and PostgreSQL
// implement Store; so does an in-memory fake for the HTTP handlers' tests.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// ErrUnknownRequest is returned by AddResponse when no request has the
// response's correlation id.
var ErrUnknownRequest = errors.New("no request with this correlation id")

// ErrConflict is returned by AddRequest and AddResponse when a record with
// that correlation id exists and differs from the one given. Posting an
// identical record again is not an error (the API is idempotent).
var ErrConflict = errors.New("a different record with this correlation id exists")

// Outcome classifies a pair.
type Outcome string

// The outcomes, as the GUI and the JSON API name them.
const (
	// OutcomeAwaiting: no response stored yet.
	OutcomeAwaiting Outcome = "awaiting"
	// OutcomeSuccess: the response's "success" is true.
	OutcomeSuccess Outcome = "success"
	// OutcomeFailure: "success" is not true and there is no traceback (the
	// handler answered with a failure, or validation failed).
	OutcomeFailure Outcome = "failure"
	// OutcomeError: the response has a traceback (an unexpected error).
	OutcomeError Outcome = "error"
)

// Outcomes lists every outcome in display order.
var Outcomes = []Outcome{OutcomeAwaiting, OutcomeSuccess, OutcomeFailure, OutcomeError}

// OutcomeOf classifies a response payload and traceback (a nil payload: no
// response yet).
func OutcomeOf(payload json.RawMessage, traceback *string) Outcome {
	if payload == nil {
		return OutcomeAwaiting
	}
	if traceback != nil && *traceback != "" {
		return OutcomeError
	}
	var env struct {
		Success bool `json:"success"`
	}
	if json.Unmarshal(payload, &env) == nil && env.Success {
		return OutcomeSuccess
	}
	return OutcomeFailure
}

// Request is a stored request: the API body and when it was stored.
type Request struct {
	wire.LogRequest
	// ID orders requests by arrival (larger is newer); it is the keyset
	// paging cursor.
	ID        int64     `json:"id"`
	CreatedAt time.Time `json:"created_at"`
}

// Response is a stored response: the API body and when it was stored.
type Response struct {
	wire.LogResponse
	CreatedAt time.Time `json:"created_at"`
}

// Progress is a stored progress update: the API body and when it was
// stored.
type Progress struct {
	wire.LogProgress
	CreatedAt time.Time `json:"created_at"`
}

// Pair is a request with its response, if any.
type Pair struct {
	Request  Request   `json:"request"`
	Response *Response `json:"response"`
	Outcome  Outcome   `json:"outcome"`
	// Duration from the request's to the response's CreatedAt; zero while
	// awaiting.
	Duration time.Duration `json:"duration_ns"`
	// Progress holds the request's progress updates, in order, when they
	// were asked for (a query for one correlation id); nil otherwise.
	Progress []Progress `json:"progress,omitzero"`
}

// Filter selects pairs. Zero fields select everything; set fields combine
// with AND.
type Filter struct {
	// CorrelationID matches exactly, or as a prefix when CorrelationPrefix.
	CorrelationID     string
	CorrelationPrefix bool
	VirtualHost       string
	Exchange          string
	Hostname          string
	// Outcomes: any of these (none: all).
	Outcomes []Outcome
	// Since and Until bound the request's CreatedAt: Since <= t < Until.
	Since, Until time.Time
	// After selects requests with ID > After (0: no bound): what arrived
	// since a page was drawn, for the live view.
	After int64
}

// Page is one page of a listing, newest first.
type Page struct {
	Pairs []Pair `json:"pairs"`
	// Next is the cursor of the following (older) page; 0 when this is the
	// last one.
	Next int64 `json:"next"`
}

// Store keeps and queries pairs. Implementations are safe for concurrent
// use.
type Store interface {
	// AddRequest stores a request. An identical repeat is a no-op. Its
	// CreatedAt is the store's clock, or the newest stored CreatedAt if
	// that is later (a clock stepped back): CreatedAt never decreases as
	// ID grows.
	AddRequest(ctx context.Context, r wire.LogRequest) error
	// AddResponse stores the response of a stored request.
	AddResponse(ctx context.Context, r wire.LogResponse) error
	// AddProgress stores a progress update of a stored request
	// (ErrUnknownRequest without one). A request's updates are told apart
	// by their Time, to the microsecond: an identical repeat is a no-op, a
	// different update at the same Time ErrConflict.
	AddProgress(ctx context.Context, p wire.LogProgress) error
	// Progress returns the progress updates of one correlation id in
	// order of their Time (then of arrival); none: an empty slice.
	Progress(ctx context.Context, correlationID string) ([]Progress, error)
	// List returns up to limit pairs matching f, newest first, with
	// Request.ID < before (before 0: from the newest).
	List(ctx context.Context, f Filter, before int64, limit int) (Page, error)
	// Get returns the pair of one correlation id, or ok false.
	Get(ctx context.Context, correlationID string) (p Pair, ok bool, err error)
	// Counts returns the number of pairs matching f per outcome (f.Outcomes
	// ignored).
	Counts(ctx context.Context, f Filter) (map[Outcome]int64, error)
	// Purge deletes pairs whose request is older than cutoff and says how
	// many; progress updates stored before cutoff go too (a request's
	// updates are stored after it, so they go with it or at the next
	// purge).
	Purge(ctx context.Context, cutoff time.Time) (int64, error)
	// Close releases the store.
	Close() error
}
