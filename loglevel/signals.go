package loglevel

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/rs/zerolog"
)

// FollowSignals changes the levels of s on signals, from its return until
// the function it returns is called: SIGUSR1 makes every component one level
// more verbose, SIGUSR2 restores the initial levels. Each change is logged
// on log.
func FollowSignals(s *Switch, log zerolog.Logger) (stop func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2)
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			case sig := <-sigs:
				var l Levels
				if sig == syscall.SIGUSR1 {
					l = s.MoreVerbose()
				} else {
					l = s.Reset()
				}
				log.WithLevel(zerolog.WarnLevel).Str("signal", sig.String()).Str("log_level", l.String()).Msg("log level changed")
			}
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(quit)
		<-done
	}
}
