package handler

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
)

// gatedScript speaks the persistent protocol; its first process shakes
// hands at once, every later one only once a line comes through the FIFO
// DIR/gate. A request with "hold" is answered once a line comes through
// DIR/hold.
const gatedScript = `dir=DIR
if ! mkdir "$dir/first" 2>/dev/null; then read -r gate < "$dir/gate"; fi
echo '{"protocol": "rabbitmq-consumer/1"}'
while IFS= read -r line; do
  cid=${line#*\"correlation_id\":\"}; cid=${cid%%\"*}
  case "$line" in *'"hold"'*) read -r x < "$dir/hold";; esac
  printf '{"correlation_id":"%s","response":{"pid":%s,"n":0}}\n' "$cid" "$$"
done`

// TestPoolStartOutlivesItsRequest: a request whose deadline ends while
// the process started for it is still shaking hands gets its answer at
// its deadline, not at the end of the handshake wait; the process goes on
// starting for the pool and, once ready, serves.
func TestPoolStartOutlivesItsRequest(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t, ignoreSpawner) })
	dir := t.TempDir()
	for _, f := range []string{"gate", "hold"} {
		if err := syscall.Mkfifo(filepath.Join(dir, f), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The handshake may take the contract's timeout, 5 s: far beyond the
	// request's 1 s.
	e, err := LoadExec(writeHandler(t, strings.Replace(gatedScript, "DIR", dir, 1), "5", `,"mode":"persistent"`), true)
	if err != nil {
		t.Fatal(err)
	}
	pl := NewPool(e, "v", "dx_p", 2, testBackoff, zerolog.Nop())
	pl.growAfter = 0 // a request that finds the warm process busy starts another at once
	if err := pl.Open(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := pl.Close(); err != nil {
			t.Error(err)
		}
	}()
	held := make(chan error, 1)
	go func() {
		_, err := call(pl, `{"hold":1}`)
		held <- err
	}()
	testutil.WaitFor(t, "the warm process to take the held request", 10*time.Second, func() bool { return len(pl.idle) == 0 })

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	deadline, _ := ctx.Deadline()
	_, err = pl.Handle(ctx, &Call{Exchange: "dx_p", CorrelationID: "c-2", VirtualHost: "v", Body: []byte(`{}`)})
	if err == nil || !strings.Contains(err.Error(), "no handler process was free in time") {
		t.Errorf("Handle while its process shakes hands = %v, want no process free in time", err)
	}
	if late := time.Since(deadline); late > 2*time.Second {
		t.Errorf("Handle returned %v after its deadline", late)
	}

	writeFIFO(t, filepath.Join(dir, "gate"))
	writeFIFO(t, filepath.Join(dir, "hold"))
	if err := <-held; err != nil {
		t.Fatalf("held request: %v", err)
	}
	testutil.WaitFor(t, "the process started for the request that gave up to be ready beside the warm one", 10*time.Second, func() bool { return len(pl.idle) == 2 })
}

// writeFIFO writes a line to the FIFO path once a process opened it for
// reading, waiting at most 10 s for one to.
func writeFIFO(t *testing.T, path string) {
	t.Helper()
	var f *os.File
	testutil.WaitFor(t, "a process to wait at "+filepath.Base(path), 10*time.Second, func() bool {
		var err error
		f, err = os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0) // ENXIO while no reader
		return err == nil
	})
	defer f.Close()
	if _, err := f.WriteString("go\n"); err != nil {
		t.Fatal(err)
	}
}
