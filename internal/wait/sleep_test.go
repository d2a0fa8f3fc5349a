package wait

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestSleep(t *testing.T) {
	defer goleak.VerifyNone(t)
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tt := range []struct {
		name string
		ctx  context.Context
		d    time.Duration
		want bool
	}{
		{"the wait passes", context.Background(), time.Millisecond, true},
		{"the context ends first", ended, time.Hour, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sleep(tt.ctx, tt.d); got != tt.want {
				t.Errorf("Sleep = %v, want %v", got, tt.want)
			}
		})
	}
}
