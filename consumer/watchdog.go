package consumer

import (
	"context"
	"time"
)

// Watchdog calls ping every interval for as long as the dispatcher answers
// health probes (see Healthy), until ctx ends. Under systemd, ping sends
// WATCHDOG=1 and interval is half of WATCHDOG_USEC: a wedged dispatcher
// stops the pings and systemd's watchdog fires.
func (c *Consumer) Watchdog(ctx context.Context, interval time.Duration, ping func()) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			hctx, cancel := context.WithTimeout(ctx, interval/2)
			err := c.Healthy(hctx)
			cancel()
			if err != nil {
				if ctx.Err() == nil {
					c.log.Error().Err(err).Msg("unhealthy: not pinging the watchdog")
				}
				continue
			}
			ping()
		}
	}
}
