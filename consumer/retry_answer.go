package consumer

import (
	"fmt"
	"time"
)

// retryLater decides what becomes of a request whose handler asked to run
// it again after delay: published again, or, past the retry limit or the
// caller's deadline, the unexpected error.
func (c *Consumer) retryLater(log *requestLog, in incoming, delay time.Duration) answer {
	switch {
	case in.attempt > c.retryLimit:
		return failed(fmt.Sprintf("handler asked to retry later on each of %d runs: giving up", in.attempt))
	case !in.deadline.IsZero() && time.Now().Add(delay).After(in.deadline):
		return failed(fmt.Sprintf("handler asked to retry later after %v, past the caller's deadline %s: giving up", delay, in.deadline.Format(time.RFC3339Nano)))
	}
	log.Info().Dur("retry_after", delay).Int("attempt", in.attempt).Msg("handler asked to retry later: the request runs again after the delay")
	return answer{fate: retryLater, retryAfter: delay}
}
