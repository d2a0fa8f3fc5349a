package client

import (
	"context"
	"testing"
)

// TestDurableAndNonDurableExchanges: the client only checks that an
// exchange exists (a passive declaration), so it calls exchanges declared
// either way: non-durable as the reference declares them, or durable by
// opt-in.
func TestDurableAndNonDurableExchanges(t *testing.T) {
	r := newRig(t)
	for _, direct := range []bool{false, true} {
		cfg := r.cfg
		cfg.DirectReplyTo = direct
		c := dial(t, cfg)
		for _, exchange := range []string{"dx_echo", "dx_durable"} {
			got, err := CallTyped[echoRequest, echoRequest](context.Background(), c, exchange, echoRequest{N: 7})
			if err != nil || !got.Success || got.Data.N != 7 {
				t.Errorf("direct reply-to %v, exchange %s: %+v, %v", direct, exchange, got, err)
			}
		}
	}
}
