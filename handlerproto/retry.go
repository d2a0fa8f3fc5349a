package handlerproto

import (
	"fmt"
	"strconv"
	"time"
)

// retryLaterError is a handler's "not now" (see RetryLater).
type retryLaterError struct{ after time.Duration }

func (e *retryLaterError) Error() string { return fmt.Sprintf("retry later, after %v", e.after) }

// RetryLater is the error a Handler returns to say "not now": the
// consumer runs the request again after d (a retry line,
// {"correlation_id": ..., "retry_after_seconds": N}), a bounded number of
// times; then the caller gets the unexpected error.
func RetryLater(d time.Duration) error { return &retryLaterError{after: max(d, 0)} }

// appendRetryLater appends the retry line of a request, ended by "\n".
func appendRetryLater(b []byte, correlationID string, after time.Duration) []byte {
	b = append(b, `{"correlation_id":`...)
	b = appendString(b, correlationID)
	b = append(b, `,"retry_after_seconds":`...)
	b = strconv.AppendFloat(b, after.Seconds(), 'f', -1, 64)
	return append(b, "}\n"...)
}
