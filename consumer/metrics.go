package consumer

import (
	"bytes"
	"encoding/json"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/metrics"
)

// connected records a session consuming; again is true when an earlier
// session served (a reconnection).
func (c *Consumer) connected(again bool) {
	c.metrics.Connected(true)
	if again {
		c.metrics.Reconnected()
	}
}

// outcomeOf is the outcome of an answered request: its validation failed,
// its handling failed unexpectedly (a traceback), or the reply says
// whether it succeeded.
func outcomeOf(invalid, unexpected bool, reply []byte) metrics.Outcome {
	switch {
	case invalid:
		return metrics.ValidationFailure
	case unexpected:
		return metrics.UnexpectedError
	case replySucceeded(reply):
		return metrics.Success
	}
	return metrics.Failure
}

// replySucceeded reads the "success" member of a reply, a JSON object:
// from its first bytes when it starts with it, as compact replies of most
// handlers do.
func replySucceeded(reply []byte) bool {
	switch {
	case bytes.HasPrefix(reply, []byte(`{"success":true`)):
		return true
	case bytes.HasPrefix(reply, []byte(`{"success":false`)):
		return false
	}
	var r struct {
		Success bool `json:"success"`
	}
	_ = json.Unmarshal(reply, &r)
	return r.Success
}
