package logserver

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
)

// DefaultPurgeInterval is how often Retention purges when Interval is 0.
const DefaultPurgeInterval = time.Hour

// Retention purges the records older than KeepDays.
type Retention struct {
	Store store.Store
	// KeepDays: records whose request is older are purged; 0 keeps them
	// for ever (Run returns at once).
	KeepDays int
	// Interval between purges; 0 means DefaultPurgeInterval.
	Interval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Tick, when set, triggers the purges instead of a timer (for tests).
	Tick <-chan time.Time
	// Logger reports each purge that removed records, and failures.
	Logger zerolog.Logger
	// purged, when set, is called after each purge (for tests).
	purged func(n int64, err error)
}

// Cutoff is the age limit at now: records stored before it are purged.
func (r *Retention) Cutoff(now time.Time) time.Time {
	return now.Add(-time.Duration(r.KeepDays) * 24 * time.Hour)
}

// PurgeOnce purges the records older than KeepDays now.
func (r *Retention) PurgeOnce(ctx context.Context) (int64, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	return r.Store.Purge(ctx, r.Cutoff(now()))
}

// Run purges at once, then at every interval, until ctx ends.
func (r *Retention) Run(ctx context.Context) {
	if r.KeepDays <= 0 {
		return
	}
	tick := r.Tick
	if tick == nil {
		interval := r.Interval
		if interval <= 0 {
			interval = DefaultPurgeInterval
		}
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		n, err := r.PurgeOnce(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			r.Logger.Error().Err(err).Msg("cannot purge old records")
		case n > 0:
			r.Logger.Info().Int64("purged", n).Int("keep_days", r.KeepDays).Msg("purged old records")
		}
		if r.purged != nil {
			r.purged(n, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
	}
}
