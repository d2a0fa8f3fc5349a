package client

import (
	"context"
	"regexp"
	"testing"
)

// uuid4 is the canonical form of a UUID version 4 (RFC 9562 variant), the
// only correlation ids the reference log server accepts.
var uuid4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestCorrelationIDsAreUUID4: every call's correlation id, as the consumer
// receives it, is a UUID4, as the reference client's are; the log server
// rejects the records of any other.
func TestCorrelationIDsAreUUID4(t *testing.T) {
	r := newRig(t)
	for _, direct := range []bool{false, true} {
		cfg := r.cfg
		cfg.DirectReplyTo = direct
		c := dial(t, cfg)
		for i := range 20 {
			if _, err := c.Call(context.Background(), "dx_echo", echoRequest{N: i}); err != nil {
				t.Fatal(err)
			}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	for _, id := range r.ids {
		if !uuid4.MatchString(id) {
			t.Errorf("correlation id %q is not a UUID4", id)
		}
		seen[id] = true
	}
	if len(r.ids) < 40 || len(seen) != len(r.ids) {
		t.Errorf("%d calls seen, %d distinct ids", len(r.ids), len(seen))
	}
}
