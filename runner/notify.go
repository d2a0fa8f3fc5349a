package runner

import (
	"context"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/rs/zerolog"
)

// notifier sends sd_notify states; without NOTIFY_SOCKET it does nothing.
type notifier struct {
	log zerolog.Logger
}

func (n notifier) notify(state string) {
	if _, err := daemon.SdNotify(false, state); err != nil {
		n.log.Warn().Err(err).Str("state", state).Msg("cannot notify systemd")
	}
}

// watchdog pings systemd at half of WATCHDOG_USEC for as long as healthy
// answers; a wedged process stops pinging and systemd's watchdog fires.
func (n notifier) watchdog(ctx context.Context, healthy func(context.Context) error) {
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil || interval <= 0 {
		return
	}
	tick := time.NewTicker(interval / 2)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			hctx, cancel := context.WithTimeout(ctx, interval/4)
			err := healthy(hctx)
			cancel()
			if err != nil {
				if ctx.Err() == nil {
					n.log.Error().Err(err).Msg("unhealthy: not pinging the watchdog")
				}
				continue
			}
			n.notify("WATCHDOG=1")
		}
	}
}
