package coalesce

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pair is a real TCP connection over loopback: the client end, wrapped so
// that the test sees (and may hold up) each write that reaches the socket,
// and the server end.
func pair(t testing.TB) (*gatedConn, net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server := <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return &gatedConn{Conn: client, open: make(chan struct{})}, server
}

// gatedConn counts the writes that reach the socket; with hold set, the
// first one waits until release.
type gatedConn struct {
	net.Conn
	hold     bool
	open     chan struct{}
	openOnce sync.Once
	entered  atomic.Int32
	writes   atomic.Int32
}

func (g *gatedConn) Write(p []byte) (int, error) {
	if g.entered.Add(1) == 1 && g.hold {
		<-g.open
	}
	g.writes.Add(1)
	return g.Conn.Write(p)
}

func (g *gatedConn) release() { g.openOnce.Do(func() { close(g.open) }) }

// busy makes a Conn whose socket is held in the middle of its first write,
// of first, until raw.release(); the test's end releases and closes it.
func busy(t *testing.T, maxPending int, first string) (*gatedConn, net.Conn, *Conn) {
	t.Helper()
	raw, server := pair(t)
	raw.hold = true
	c := New(raw, maxPending)
	t.Cleanup(func() { _ = c.Close() })
	t.Cleanup(raw.release) // first: Close waits for the flusher
	write(t, c, first)
	testutil.WaitFor(t, "the first write to reach the socket", 5*time.Second, func() bool { return raw.entered.Load() == 1 })
	return raw, server, c
}

// readLimit bounds a test's reads, so that a regression fails instead of
// hanging.
const readLimit = 30 * time.Second

func readN(t testing.TB, r net.Conn, n int) string {
	t.Helper()
	if err := r.SetReadDeadline(time.Now().Add(readLimit)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatalf("read %d bytes: %v", n, err)
	}
	return string(buf)
}

// waitForWaitingWriter waits until one Write waits for room.
func waitForWaitingWriter(t *testing.T, c *Conn) {
	t.Helper()
	testutil.WaitFor(t, "a writer to wait for room", 5*time.Second, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.waiting == 1
	})
}

func write(t *testing.T, w io.Writer, s string) {
	t.Helper()
	if n, err := w.Write([]byte(s)); err != nil || n != len(s) {
		t.Fatalf("write %q: %d, %v", s, n, err)
	}
}

func TestConcurrentWritesArriveWholeAndInOrder(t *testing.T) {
	raw, server := pair(t)
	c := New(raw, 4096)
	const writers, each = 16, 400
	var wg sync.WaitGroup
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				// Sizes from a few bytes to more than the bound.
				line := fmt.Sprintf("%d %d %s\n", g, i, strings.Repeat("x", (i*37)%5000))
				if _, err := c.Write([]byte(line)); err != nil {
					t.Errorf("write: %v", err)
					return
				}
			}
		}()
	}
	got := make(chan error, 1)
	if err := server.SetReadDeadline(time.Now().Add(readLimit)); err != nil {
		t.Fatal(err)
	}
	go func() {
		// After a failure, go on reading so the writers can finish.
		defer func() { _, _ = io.Copy(io.Discard, server) }()
		next := make([]int, writers)
		sc := bufio.NewScanner(server)
		sc.Buffer(nil, 1<<20)
		n := 0
		for sc.Scan() {
			var g, i int
			pad := sc.Text()
			if n, err := fmt.Sscanf(sc.Text(), "%d %d", &g, &i); n != 2 || g < 0 || g >= writers {
				got <- fmt.Errorf("torn line %.40q: %v", sc.Text(), err)
				return
			}
			pad = pad[strings.LastIndexByte(pad, ' ')+1:]
			if i != next[g] || len(pad) != (i*37)%5000 {
				got <- fmt.Errorf("writer %d: got write %d (%d bytes of padding), want write %d", g, i, len(pad), next[g])
				return
			}
			next[g]++
			n++
		}
		if n != writers*each {
			got <- fmt.Errorf("got %d lines, want %d", n, writers*each)
			return
		}
		got <- nil
	}()
	wg.Wait()
	if err := c.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if w := raw.writes.Load(); w >= writers*each {
		t.Errorf("%d writes reached the socket for %d Writes: none were coalesced", w, writers*each)
	}
}

func TestWritesDuringABusyWriteLeaveInOne(t *testing.T) {
	raw, server, c := busy(t, 0, "a")
	// The socket is busy: these return at once and wait together.
	write(t, c, "b")
	write(t, c, "cc")
	write(t, c, "d")
	raw.release()
	if got := readN(t, server, 5); got != "abccd" {
		t.Fatalf("peer read %q, want %q", got, "abccd")
	}
	if w := raw.writes.Load(); w != 2 {
		t.Fatalf("%d writes reached the socket, want 2 (the first, then the three made while it was busy)", w)
	}
}

func TestWriteWaitsForRoom(t *testing.T) {
	raw, server, c := busy(t, 8, "aaaaaaaa")
	write(t, c, "bbbbbbbb") // fills the buffer to its bound
	var released atomic.Bool
	returned := make(chan error, 1)
	go func() {
		_, err := c.Write([]byte("c"))
		if err == nil && !released.Load() {
			err = errors.New("Write returned while the buffer was full")
		}
		returned <- err
	}()
	waitForWaitingWriter(t, c)
	released.Store(true)
	raw.release()
	if err := <-returned; err != nil {
		t.Fatal(err)
	}
	if got := readN(t, server, 17); got != "aaaaaaaabbbbbbbbc" {
		t.Fatalf("peer read %q", got)
	}
}

func TestLargeWriteIntoAnEmptyBuffer(t *testing.T) {
	raw, server := pair(t)
	c := New(raw, 16)
	defer c.Close()
	big := strings.Repeat("z", 1<<20)
	go func() { _, _ = c.Write([]byte(big)) }()
	if got := readN(t, server, len(big)); got != big {
		t.Fatal("the large write arrived changed")
	}
}

func TestFailedWriteIsReturnedByLaterWritesAndClosesTheSocket(t *testing.T) {
	raw, _ := pair(t)
	c := New(raw, 0)
	// Writes on the socket now fail (EPIPE), as on a connection reset.
	if err := raw.Conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	var err error
	testutil.WaitFor(t, "a Write to report the failed socket write", 5*time.Second, func() bool {
		_, err = c.Write([]byte("x"))
		return err != nil
	})
	if errors.Is(err, net.ErrClosed) || !strings.Contains(err.Error(), "broken pipe") {
		t.Fatalf("Write after the failure: %v, want the socket's error (broken pipe)", err)
	}
	if _, rerr := c.Read(make([]byte, 1)); rerr == nil || !strings.Contains(rerr.Error(), "broken pipe") {
		t.Fatalf("Read on a connection whose writes failed: %v, want the write's error (broken pipe)", rerr)
	}
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the flusher did not stop after the failed write")
	}
	if err := c.Close(); err == nil || !strings.Contains(err.Error(), "broken pipe") {
		t.Fatalf("Close after a failed write: %v, want the write's error (broken pipe)", err)
	}
}

// closeWhileHeld starts Close while the socket is held in a write, runs
// during (if not nil) once Close has begun, lets the socket go on, and
// returns all the peer read and Close's error.
func closeWhileHeld(t *testing.T, raw *gatedConn, server net.Conn, c *Conn, during func()) (string, error) {
	t.Helper()
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	testutil.WaitFor(t, "Close to begin", 5*time.Second, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.closed
	})
	if during != nil {
		during()
	}
	raw.release()
	if err := server.SetReadDeadline(time.Now().Add(readLimit)); err != nil {
		t.Fatal(err)
	}
	all, err := io.ReadAll(server)
	if err != nil {
		t.Fatal(err)
	}
	return string(all), <-closed
}

func TestCloseSendsWhatIsBuffered(t *testing.T) {
	raw, server, c := busy(t, 0, "first;")
	write(t, c, "buffered;")
	all, err := closeWhileHeld(t, raw, server, c, nil)
	if all != "first;buffered;" {
		t.Fatalf("peer read %q before the end, want everything written", all)
	}
	if err != nil {
		t.Fatalf("close: %v", err)
	}
	if _, err := c.Write([]byte("late")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Write after Close: %v, want net.ErrClosed", err)
	}
	if err := c.Close(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("second Close: %v, want net.ErrClosed", err)
	}
}

// A layer above may shorten the write deadline once it has written its
// last bytes (crypto/tls sets it to now after its close_notify); what is
// buffered must still leave within Close's own bound.
func TestWriteDeadlineSetAfterCloseBeganIsIgnored(t *testing.T) {
	raw, server, c := busy(t, 0, "first;")
	write(t, c, "last;")
	all, err := closeWhileHeld(t, raw, server, c, func() {
		if err := c.SetWriteDeadline(time.Now()); err != nil {
			t.Error(err)
		}
		if err := c.SetDeadline(time.Now()); err != nil {
			t.Error(err)
		}
	})
	if all != "first;last;" {
		t.Fatalf("peer read %q, want everything written before Close", all)
	}
	if err != nil {
		t.Fatalf("close: %v", err)
	}
}

func TestCloseGivesUpOnAPeerThatReadsNoMore(t *testing.T) {
	raw, server := pair(t) // the server end never reads
	// Small socket buffers (no autotuning): the flusher's first write,
	// far larger, cannot complete.
	if err := server.(*net.TCPConn).SetReadBuffer(4096); err != nil {
		t.Fatal(err)
	}
	if err := raw.Conn.(*net.TCPConn).SetWriteBuffer(4096); err != nil {
		t.Fatal(err)
	}
	c := New(raw, 16)
	write(t, c, strings.Repeat("y", 16<<20))
	testutil.WaitFor(t, "the flusher to be in its write to the full socket", 5*time.Second, func() bool { return raw.entered.Load() == 1 })
	write(t, c, "fills the buffer")
	writerDone := make(chan error, 1)
	go func() {
		_, err := c.Write([]byte("waits for room"))
		writerDone <- err
	}()
	waitForWaitingWriter(t, c)
	start := time.Now()
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	select {
	case err := <-closed:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("Close: %v, want the timed-out write's error", err)
		}
	case <-time.After(closeFlush + 5*time.Second):
		t.Fatal("Close did not return with the peer reading nothing")
	}
	if took := time.Since(start); took < closeFlush/2 {
		t.Errorf("Close gave up after %v, before trying for about %v", took, closeFlush)
	}
	if err := <-writerDone; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("the waiting writer got %v, want net.ErrClosed", err)
	}
}

// BenchmarkLockedWrites writes as amqp091-go does, from many goroutines
// through one lock, 120-byte frames to a loopback socket whose peer reads
// everything: straight to the socket, then through a Conn. syscalls/op is
// the socket writes per Write.
func BenchmarkLockedWrites(b *testing.B) {
	for _, coalesced := range []bool{false, true} {
		name := "socket"
		if coalesced {
			name = "coalesced"
		}
		b.Run(name, func(b *testing.B) {
			raw, server := pair(b)
			go func() { _, _ = io.Copy(io.Discard, server) }()
			var w io.Writer = raw
			if coalesced {
				c := New(raw, 0)
				defer c.Close()
				w = c
			}
			var mu sync.Mutex
			frame := make([]byte, 120)
			b.SetParallelism(32)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					mu.Lock()
					_, err := w.Write(frame)
					mu.Unlock()
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(raw.writes.Load())/float64(b.N), "syscalls/op")
		})
	}
}
