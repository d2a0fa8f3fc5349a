package handler

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// ExitRetryLater is the exit status by which a one-shot handler says "not
// now, retry later" (EX_TEMPFAIL of sysexits.h), with
// {"retry_after_seconds": N} on stdout.
const ExitRetryLater = 75

// MaxRetryAfter bounds the delay a handler may ask for.
const MaxRetryAfter = 24 * time.Hour

// RetryLaterError is a handler's "not now": the consumer publishes the
// request again after After, up to its retry limit.
type RetryLaterError struct {
	// After is how long to wait before the request runs again.
	After time.Duration
}

func (e *RetryLaterError) Error() string {
	return fmt.Sprintf("handler asked to retry later, after %v", e.After)
}

// RetryLater is the error a Go handler returns to have its request run
// again after d (at most MaxRetryAfter).
func RetryLater(d time.Duration) error {
	return &RetryLaterError{After: min(max(d, 0), MaxRetryAfter)}
}

// parseRetryAfter reads {"retry_after_seconds": N} (N a number, 0 to
// MaxRetryAfter in seconds), a one-shot handler's stdout when it exits
// with ExitRetryLater.
func parseRetryAfter(stdout []byte) (*RetryLaterError, error) {
	var v struct {
		RetryAfterSeconds *float64 `json:"retry_after_seconds"`
	}
	if err := json.Unmarshal(stdout, &v); err != nil || v.RetryAfterSeconds == nil {
		return nil, fmt.Errorf(`exited with status %d (retry later) without {"retry_after_seconds": N} on stdout: %s`, ExitRetryLater, truncate(string(stdout), 200))
	}
	s := *v.RetryAfterSeconds
	if math.IsNaN(s) || s < 0 || s > MaxRetryAfter.Seconds() {
		return nil, fmt.Errorf("retry_after_seconds %v is not between 0 and %v", s, MaxRetryAfter.Seconds())
	}
	return &RetryLaterError{After: time.Duration(s * float64(time.Second))}, nil
}
