package loglevel

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestFollowSignals(t *testing.T) {
	initial, _ := Parse("warn,handler=info")
	s := NewSwitch(initial)
	var logged testutil.SyncBuffer
	stop := FollowSignals(s, zerolog.New(&logged))
	defer stop()

	steps := []struct {
		sig  syscall.Signal
		want string
	}{
		{syscall.SIGUSR1, "info,handler=debug"},
		{syscall.SIGUSR1, "debug,handler=trace"},
		{syscall.SIGUSR2, "warn,handler=info"},
	}
	for _, st := range steps {
		if err := syscall.Kill(syscall.Getpid(), st.sig); err != nil {
			t.Fatal(err)
		}
		testutil.WaitFor(t, st.sig.String()+" to set "+st.want, 5*time.Second, func() bool { return s.Levels().String() == st.want })
	}
	testutil.WaitFor(t, "the last change logged", 5*time.Second, func() bool {
		return strings.Contains(logged.String(), `"signal":"user defined signal 2","log_level":"warn,handler=info","message":"log level changed"`)
	})
}
