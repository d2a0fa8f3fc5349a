package consumer

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.uber.org/goleak"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/handler"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testbroker"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testrpc"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// leakCheck checks, once everything the test started has been cleaned
// up, that no goroutine of it is left.
func leakCheck(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // the first cleanup runs last
}

// overlapCounter counts, across consumer instances, the runs of a lock
// value that started while another run of it was running.
type overlapCounter struct {
	mu       sync.Mutex
	now      map[string]int
	overlaps int
	runs     map[string]int // by instance
}

func newOverlapCounter() *overlapCounter {
	return &overlapCounter{now: map[string]int{}, runs: map[string]int{}}
}

// handler is a handler of instance, locking on "food", that works for a
// moment.
func (o *overlapCounter) handler(instance string) handler.Handler {
	return handler.Typed("overlaps", func(ctx context.Context, _ *handler.Call, r lockRequest) (wire.Reply[lockRequest], error) {
		o.mu.Lock()
		o.now[r.Food]++
		if o.now[r.Food] > 1 {
			o.overlaps++
		}
		o.runs[instance]++
		o.mu.Unlock()
		select { // the work
		case <-time.After(15 * time.Millisecond):
		case <-ctx.Done():
		}
		o.mu.Lock()
		o.now[r.Food]--
		o.mu.Unlock()
		return wire.Reply[lockRequest]{Success: true, Message: "ran", Data: r}, nil
	}, handler.WithLockAttribute("food"))
}

// TestLocksAcrossHosts: two consumer instances of one virtual host and
// queue, each with its own state directory, serve requests of two lock
// values. With locks_across_hosts no lock value ever runs in both at once;
// without it, it does.
func TestLocksAcrossHosts(t *testing.T) {
	for _, tc := range []struct {
		name string
		on   bool
	}{{"on: never at once", true}, {"off: they overlap", false}} {
		t.Run(tc.name, func(t *testing.T) {
			leakCheck(t)
			vh := testbroker.New(t)
			counter := newOverlapCounter()
			var hs []*harness
			for _, instance := range []string{"A", "B"} {
				hs = append(hs, start(t, setup{vh: vh, exchanges: []string{"dx_lock"}, prefetch: 5, acrossHosts: tc.on, stateDir: t.TempDir(),
					handlers: map[string]handler.Handler{"dx_lock": counter.handler(instance)}}))
			}
			overlaps := sendOverlapping(t, hs[0], hs[0].caller(false), counter)
			if tc.on && overlaps != 0 {
				t.Errorf("%d runs started while another run of their lock value ran on the other instance", overlaps)
			}
			if !tc.on && overlaps == 0 {
				t.Errorf("no overlap without locks_across_hosts: the test does not tell the modes apart")
			}
		})
	}
}

// sendOverlapping sends 40 requests of two lock values through caller,
// waits for their replies, checks that both instances ran some, and
// returns the number of overlapping runs.
func sendOverlapping(t *testing.T, h *harness, c *testrpc.Caller, counter *overlapCounter) int {
	t.Helper()
	const n = 40
	var ws []chan wire.Response
	for i := 0; i < n; i++ {
		// Two of each value in a row: the broker hands deliveries to the
		// two instances in turn, which would give each instance one value
		// if they alternated.
		_, w := c.Send("dx_lock", h.queue(), mustJSON(t, lockRequest{Food: []string{"onion", "orange"}[i/2%2], N: i}), amqp.Publishing{})
		ws = append(ws, w)
	}
	for i, w := range ws {
		if r := c.Wait(w); !r.Success || !strings.Contains(string(r.Data), fmt.Sprintf(`"n":%d}`, i)) {
			t.Fatalf("reply %d = %+v %s", i, r, r.Data)
		}
	}
	counter.mu.Lock()
	defer counter.mu.Unlock()
	t.Logf("locks_across_hosts %v: %d requests, runs by instance %v, %d overlapping runs", h.cfg.VirtualHosts[h.vh.Name].LocksAcrossHosts, n, counter.runs, counter.overlaps)
	if counter.runs["A"] == 0 || counter.runs["B"] == 0 || counter.runs["A"]+counter.runs["B"] != n {
		t.Errorf("runs by instance = %v, want %d in all, some in each", counter.runs, n)
	}
	return counter.overlaps
}

// TestLocksAcrossHostsOnACluster: on a two-node cluster, with a quorum
// queue, instance A consumes through one node and B through the other:
// the leases hold across the nodes.
func TestLocksAcrossHostsOnACluster(t *testing.T) {
	leakCheck(t)
	nodes := testbroker.StartCluster(t, 2)
	counter := newOverlapCounter()
	var hs []*harness
	for i, instance := range []string{"A", "B"} {
		hs = append(hs, start(t, setup{vh: &testbroker.VHost{Name: "/"}, hosts: []string{nodes[i].Addr()}, quorum: 5,
			exchanges: []string{"dx_lock"}, prefetch: 5, acrossHosts: true, stateDir: t.TempDir(),
			handlers: map[string]handler.Handler{"dx_lock": counter.handler(instance)}}))
	}
	if overlaps := sendOverlapping(t, hs[0], hs[0].callerAt(nodes[0]), counter); overlaps != 0 {
		t.Errorf("%d runs started while another run of their lock value ran on the other node's instance", overlaps)
	}
}

// TestOutcomeAcrossHosts: instance A runs a request, its outcome is
// confirmed in the outcomes stream, and A's connection is cut before the
// acknowledgement; A stops. Instance B, started then, gets the request
// again and answers it from the stream: the handler ran once. B reads the
// stream before the request comes, or (held back by a test hook) only
// once it reads up to its marker.
func TestOutcomeAcrossHosts(t *testing.T) {
	t.Run("read before the request", func(t *testing.T) { testOutcomeAcrossHosts(t, false) })
	t.Run("read up to the marker", func(t *testing.T) { testOutcomeAcrossHosts(t, true) })
}

func testOutcomeAcrossHosts(t *testing.T, late bool) {
	leakCheck(t)
	vh := testbroker.New(t)
	var runs atomic.Int32
	count := func() handler.Handler {
		return handler.Typed("count runs", func(_ context.Context, _ *handler.Call, r lockRequest) (wire.Reply[lockRequest], error) {
			runs.Add(1)
			return wire.Reply[lockRequest]{Success: true, Message: "ran", Data: r}, nil
		}, handler.WithLockAttribute("food"))
	}
	cut, proceed := make(chan struct{}), make(chan struct{})
	var once sync.Once
	a := start(t, setup{vh: vh, exchanges: []string{"dx_once"}, acrossHosts: true, stateDir: t.TempDir(),
		handlers: map[string]handler.Handler{"dx_once": count()},
		before: func(c *Consumer) {
			c.testHookSettle = func() {
				once.Do(func() {
					s := c.live()
					close(cut)
					<-proceed // the test stops A first, so that it does not consume again
					s.kill()  // the acknowledgement is lost
				})
			}
		}})
	c := a.caller(false)
	_, w := c.Send("dx_once", a.queue(), mustJSON(t, lockRequest{Food: "onion", N: 1}), amqp.Publishing{})
	select {
	case <-cut:
	case <-time.After(30 * time.Second):
		t.Fatal("the request did not reach A's settle")
	}
	a.cancel()
	close(proceed)
	if err := a.stop(); err != nil {
		t.Fatalf("stop A: %v", err)
	}
	if strings.Contains(a.logs.String(), "not in the outcomes stream") {
		t.Fatalf("A did not publish the outcome:\n%s", a.logs.String())
	}
	// B's outcomes are empty until it reads A's outcome from the stream,
	// or registers its own run of the request.
	known := func(c *Consumer) func() {
		return func() {
			testutil.WaitFor(t, "an outcome known to B", 30*time.Second, func() bool { return c.outcomes.len() > 0 })
		}
	}
	hold := func(c *Consumer) { c.testHookDispatch = known(c) } // read, then the request
	if late {
		hold = func(c *Consumer) { c.testHookLearn = known(c) } // the request, then read
	}
	b := start(t, setup{vh: vh, exchanges: []string{"dx_once"}, acrossHosts: true, stateDir: t.TempDir(),
		handlers: map[string]handler.Handler{"dx_once": count()}, before: hold})
	if r := c.Wait(w); !r.Success || !strings.Contains(string(r.Data), `"n":1}`) {
		t.Fatalf("reply = %+v %s", r, r.Data)
	}
	if got := runs.Load(); got != 1 {
		t.Errorf("the handler ran %d times, want 1", got)
	}
	logs := b.logs.String()
	want := "answering from its first run" // the stream read before
	if late {
		want = "answering from the outcome another consumer instance recorded"
	}
	if !strings.Contains(logs, want) {
		t.Errorf("B did not log %q:\n%s", want, logs)
	}
	queues := testbroker.Ctl(t, "list_queues", "-p", vh.Name, "name", "type", "--no-table-headers")
	if !strings.Contains(queues, outcomesStream(b.queue())+"\tstream") {
		t.Errorf("no stream %s in:\n%s", outcomesStream(b.queue()), queues)
	}
}

// TestLeaseLostWithItsConnection: instance A runs a request of lock value
// "x"; B gets another of "x" and waits for its lease. A's lease
// connection is closed by the broker while A's handler runs: the lease
// goes with it, B runs its request, and A logs the loss. A's own
// connection lives on, and its request is answered and acknowledged.
func TestLeaseLostWithItsConnection(t *testing.T) {
	leakCheck(t)
	vh := testbroker.New(t)
	tr := newTracker()
	release := make(chan struct{})
	gate := func() map[string]handler.Handler {
		return map[string]handler.Handler{"dx_lock": gated(tr, release, handler.WithLockAttribute("food"))}
	}
	// A takes one request at a time: the second goes to B.
	a := start(t, setup{vh: vh, exchanges: []string{"dx_lock"}, prefetch: 1, acrossHosts: true, stateDir: t.TempDir(), handlers: gate()})
	c := a.caller(false)
	_, w1 := c.Send("dx_lock", a.queue(), mustJSON(t, lockRequest{Food: "x", N: 1}), amqp.Publishing{})
	waitArrived(t, tr, "A's run")
	b := start(t, setup{vh: vh, exchanges: []string{"dx_lock"}, prefetch: 1, acrossHosts: true, stateDir: t.TempDir(), handlers: gate()})
	_, w2 := c.Send("dx_lock", a.queue(), mustJSON(t, lockRequest{Food: "x", N: 2}), amqp.Publishing{})
	testutil.WaitFor(t, "B waiting for the lease", 30*time.Second, func() bool {
		return strings.Contains(b.logs.String(), "another consumer instance holds the lock value")
	})
	select {
	case <-tr.arrived:
		t.Fatal("B ran while A held the lease")
	default:
	}
	closeConnectionFrom(t, vh, a.c.leases.current().conn.LocalAddr())
	waitArrived(t, tr, "B's run once A's lease is gone")
	testutil.WaitFor(t, "A logging the lost lease", 30*time.Second, func() bool {
		return strings.Contains(a.logs.String(), "the lock is no longer held across hosts")
	})
	close(release)
	for _, w := range []chan wire.Response{w1, w2} {
		if r := c.Wait(w); !r.Success {
			t.Fatalf("reply = %+v", r)
		}
	}
	// A's own connection lived on: its request was acknowledged, not
	// delivered again.
	if strings.Contains(a.logs.String(), "connection lost") || tr.calls != 2 {
		t.Errorf("A lost its connection with its lease, or a request ran again (%d runs):\n%s", tr.calls, a.logs.String())
	}
}

func waitArrived(t *testing.T, tr *tracker, what string) {
	t.Helper()
	select {
	case <-tr.arrived:
	case <-time.After(30 * time.Second):
		t.Fatalf("no %s within 30s", what)
	}
}

// closeConnectionFrom closes, from the broker's side, the connection of
// the virtual host whose client end is local.
func closeConnectionFrom(t *testing.T, vh *testbroker.VHost, local net.Addr) {
	t.Helper()
	port := strconv.Itoa(local.(*net.TCPAddr).Port)
	out := testbroker.Ctl(t, "list_connections", "pid", "vhost", "peer_port", "--no-table-headers")
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Split(line, "\t"); len(f) == 3 && f[1] == vh.Name && f[2] == port {
			testbroker.Ctl(t, "close_connection", f[0], "test: the lease connection dies")
			return
		}
	}
	t.Fatalf("no connection from port %s in:\n%s", port, out)
}

// TestAcrossHostsOffByDefault: without locks_across_hosts the consumer
// declares no lease queue and no outcomes stream, and opens no connection
// for leases.
func TestAcrossHostsOffByDefault(t *testing.T) {
	leakCheck(t)
	tr := newTracker()
	release := make(chan struct{})
	h := start(t, setup{exchanges: []string{"dx_lock"}, handlers: map[string]handler.Handler{"dx_lock": gated(tr, release, handler.WithLockAttribute("food"))}})
	c := h.caller(false)
	_, w := c.Send("dx_lock", h.queue(), mustJSON(t, lockRequest{Food: "x"}), amqp.Publishing{})
	waitArrived(t, tr, "run")
	queues := testbroker.Ctl(t, "list_queues", "-p", h.vh.Name, "name", "--no-table-headers")
	conns := h.vh.ConnectionCount(t) // the consumer's and the caller's
	close(release)
	if r := c.Wait(w); !r.Success {
		t.Fatalf("reply = %+v", r)
	}
	if strings.Contains(queues, ".lock.") || strings.Contains(queues, ".outcomes") {
		t.Errorf("queues declared without locks_across_hosts:\n%s", queues)
	}
	if conns != 2 {
		t.Errorf("%d connections to the virtual host, want 2 (the consumer's, the caller's)", conns)
	}
}

// TestLeaseOutlivesTheConsumerConnection: instance Q runs a request of
// lock value "x" when its own connection (not its lease connection) is
// closed by the broker. The request goes to the other instance, P, which
// waits: Q still holds the lease. Once Q's run ends, P answers the request
// from Q's outcome: it ran once.
func TestLeaseOutlivesTheConsumerConnection(t *testing.T) {
	leakCheck(t)
	vh := testbroker.New(t)
	var runs atomic.Int32
	arrived := make(chan string, 10)
	release := map[string]chan struct{}{"x": make(chan struct{}), "y": make(chan struct{})}
	gate := func() map[string]handler.Handler {
		return map[string]handler.Handler{"dx_lock": handler.Typed("gated", func(ctx context.Context, _ *handler.Call, r lockRequest) (wire.Reply[empty], error) {
			runs.Add(1)
			arrived <- r.Food
			select {
			case <-release[r.Food]:
			case <-ctx.Done():
				return wire.Reply[empty]{}, ctx.Err()
			}
			return wire.Reply[empty]{Success: true, Message: "done"}, nil
		}, handler.WithLockAttribute("food"))}
	}
	a := start(t, setup{vh: vh, exchanges: []string{"dx_lock"}, prefetch: 1, acrossHosts: true, stateDir: t.TempDir(), handlers: gate()})
	b := start(t, setup{vh: vh, exchanges: []string{"dx_lock"}, prefetch: 1, acrossHosts: true, stateDir: t.TempDir(), handlers: gate()})
	c := a.caller(false)
	wait := func(what string) {
		t.Helper()
		select {
		case <-arrived:
		case <-time.After(30 * time.Second):
			t.Fatalf("no %s within 30s", what)
		}
	}
	// One request to each instance (prefetch 1).
	_, wy := c.Send("dx_lock", a.queue(), mustJSON(t, lockRequest{Food: "y"}), amqp.Publishing{})
	wait("run of y")
	_, wx := c.Send("dx_lock", a.queue(), mustJSON(t, lockRequest{Food: "x"}), amqp.Publishing{})
	wait("run of x")
	q, p := a, b // q runs x
	if strings.Contains(b.logs.String(), `"food":"x"`) {
		q, p = b, a
	}
	close(release["y"]) // p is free
	if r := c.Wait(wy); !r.Success {
		t.Fatalf("reply = %+v", r)
	}
	closeConnectionFrom(t, vh, q.c.live().conn.LocalAddr())
	testutil.WaitFor(t, "P waiting for the lease Q still holds", 30*time.Second, func() bool {
		return strings.Contains(p.logs.String(), "another consumer instance holds the lock value")
	})
	close(release["x"])
	if r := c.Wait(wx); !r.Success {
		t.Fatalf("reply = %+v", r)
	}
	if n := runs.Load(); n != 2 {
		t.Errorf("%d runs for 2 requests", n)
	}
	if strings.Contains(q.logs.String(), "no longer held across hosts") {
		t.Errorf("the lease was lost with the consumer's connection:\n%s", q.logs.String())
	}
	// Q's reply came first; P answers the copy it got once Q's lease is
	// given up.
	testutil.WaitFor(t, "P answering from Q's outcome", 30*time.Second, func() bool {
		return strings.Contains(p.logs.String(), "answering from the outcome another consumer instance recorded")
	})
	if n := runs.Load(); n != 2 {
		t.Errorf("%d runs for 2 requests", n)
	}
}

// TestOutcomesStreamDeleted: the outcomes stream deleted under a running
// consumer ends its reading consumer; the consumer reconnects, declares
// the stream again, and goes on answering.
func TestOutcomesStreamDeleted(t *testing.T) {
	leakCheck(t)
	h := start(t, setup{exchanges: []string{"dx_echo"}, acrossHosts: true, stateDir: t.TempDir(), handlers: map[string]handler.Handler{"dx_echo": handler.Typed("echo", echo)}})
	c := h.caller(false)
	if r := h.call(c, "dx_echo", lockRequest{N: 1}); !r.Success {
		t.Fatal(r)
	}
	testbroker.Ctl(t, "delete_queue", "-p", h.vh.Name, outcomesStream(h.queue()))
	testutil.WaitFor(t, "the consumer noticing", 30*time.Second, func() bool {
		return strings.Contains(h.logs.String(), "stream "+outcomesStream(h.queue())+" deleted?")
	})
	testutil.WaitFor(t, "the stream declared again", 30*time.Second, func() bool {
		return strings.Contains(testbroker.Ctl(t, "list_queues", "-p", h.vh.Name, "name", "--no-table-headers"), outcomesStream(h.queue()))
	})
	if r := h.call(c, "dx_echo", lockRequest{N: 2}); !r.Success {
		t.Fatal(r)
	}
}

// TestCopyThatWaitedForTheLease: a copy of a request that waited for the
// lease another instance held while running that same request (the broker
// gave the request again after the first copy's channel died) is not run
// again, redelivered or not: it is answered from the first run's outcome
// (learned from the outcomes stream), or given back to the queue when its
// own channel is gone.
func TestCopyThatWaitedForTheLease(t *testing.T) {
	tests := []struct {
		name  string
		alive func() bool // the copy's channel
	}{
		{"its channel closed", func() bool { return false }},
		{"its channel open", func() bool { return true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leakCheck(t)
			vh := testbroker.New(t)
			var runs atomic.Int32
			arrived := make(chan struct{}, 4)
			release := make(chan struct{})
			gate := func() map[string]handler.Handler {
				return map[string]handler.Handler{"dx_lock": handler.Typed("gated", func(ctx context.Context, _ *handler.Call, r lockRequest) (wire.Reply[empty], error) {
					runs.Add(1)
					arrived <- struct{}{}
					select {
					case <-release:
					case <-ctx.Done():
						return wire.Reply[empty]{}, ctx.Err()
					}
					return wire.Reply[empty]{Success: true, Message: "done"}, nil
				}, handler.WithLockAttribute("food"))}
			}
			a := start(t, setup{vh: vh, exchanges: []string{"dx_lock"}, prefetch: 1, acrossHosts: true, stateDir: t.TempDir(), handlers: gate()})
			b := start(t, setup{vh: vh, exchanges: []string{"dx_lock"}, prefetch: 1, acrossHosts: true, stateDir: t.TempDir(), handlers: gate()})
			c := a.caller(false)
			body := mustJSON(t, lockRequest{Food: "x"})
			id, reply := c.Send("dx_lock", a.queue(), body, amqp.Publishing{})
			select {
			case <-arrived:
			case <-time.After(30 * time.Second):
				t.Fatal("the request did not run within 30s")
			}
			p := b // the instance that does not run it
			if strings.Contains(b.logs.String(), `"food":"x"`) {
				p = a
			}
			// The copy p got: the same request, not marked redelivered.
			ctx := context.Background()
			got := make(chan result, 1)
			go func() {
				in := incoming{exchange: "dx_lock", correlationID: id, replyTo: "amq.rabbitmq.reply-to", body: body, channelAlive: tt.alive}
				got <- p.c.respond(ctx, ctx, &requestLog{base: &p.c.log, handler: &p.c.handlerLog, exchange: in.exchange, cid: id}, in)
			}()
			testutil.WaitFor(t, "the copy waiting for the lease the running instance holds", 30*time.Second, func() bool {
				return strings.Contains(p.logs.String(), "another consumer instance holds the lock value")
			})
			close(release)
			if r := c.Wait(reply); !r.Success {
				t.Fatalf("reply = %+v", r)
			}
			res := <-got
			if n := runs.Load(); n != 1 {
				t.Errorf("%d runs of one request, want 1", n)
			}
			// Not run: given back to the queue, or answered from the first
			// run's outcome (learned from the stream).
			if !res.requeue && !strings.Contains(string(res.reply), `"done"`) {
				t.Errorf("the copy's result: requeue %v, reply %s; want it given back, or the first run's reply", res.requeue, res.reply)
			}
		})
	}
}
