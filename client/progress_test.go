package client

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// TestProgress: through a real consumer, a call with WithProgress gets the
// handler's 5 progress updates, in order, before Call returns the reply,
// over a reply queue and over direct reply-to; a call without it gets the
// reply alone.
func TestProgress(t *testing.T) {
	r := newRig(t)
	for _, direct := range []bool{false, true} {
		t.Run(fmt.Sprint("direct_reply_to=", direct), func(t *testing.T) {
			cfg := r.cfg
			cfg.DirectReplyTo = direct
			c := dial(t, cfg)
			var got []string
			resp, err := CallTyped[echoRequest, echoRequest](context.Background(), c, "dx_progress", echoRequest{N: 5},
				WithProgress(func(p wire.Progress) { got = append(got, fmt.Sprintf("%s %s %v", p.State, p.Message, *p.Percent)) }))
			if err != nil || !resp.Success || resp.Message != "built" {
				t.Fatalf("reply = %+v, %v", resp, err)
			}
			want := "Building step 1 20,Building step 2 40,Building step 3 60,Building step 4 80,Building step 5 100"
			if strings.Join(got, ",") != want {
				t.Errorf("updates before the reply:\n%s\nwant\n%s", strings.Join(got, ","), want)
			}
			resp, err = CallTyped[echoRequest, echoRequest](context.Background(), c, "dx_progress", echoRequest{N: 2})
			if err != nil || !resp.Success || resp.Message != "built" {
				t.Errorf("without progress: reply = %+v, %v", resp, err)
			}
		})
	}
}
