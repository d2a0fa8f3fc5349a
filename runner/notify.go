package runner

import (
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

// watchdogInterval is half of WATCHDOG_USEC, or 0 when systemd set no
// watchdog for this process.
func watchdogInterval() time.Duration {
	d, err := daemon.SdWatchdogEnabled(false)
	if err != nil || d <= 0 {
		return 0
	}
	return d / 2
}
