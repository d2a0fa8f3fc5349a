package e2e

import (
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/client"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testbroker"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
)

// runRecorder is a one-shot handler that appends a line when it starts
// and one when it ends, "start|end <correlation id> <n> <lock value>
// <host> <pid> <time>", sleeping HANDLER_SLEEP seconds between them (lines
// under PIPE_BUF written with O_APPEND do not interleave). A request with
// "crash": true is poison: its run records a crash line and kills its
// consumer, as a handler that brings its process down would.
const runRecorder = `#!/bin/bash
IFS= read -r -d '' req
[[ $req =~ \"n\":([0-9]+) ]] && n=${BASH_REMATCH[1]}
[[ $req =~ \"k\":\"([^\"]*)\" ]] && k=${BASH_REMATCH[1]}
if [[ $req == *'"crash":true'* ]]; then
  echo "crash $RPC_CORRELATION_ID $n $k $HOSTNAME $$ $EPOCHREALTIME" >> "$RUNS"
  kill -KILL "$PPID"
  exit 1
fi
echo "start $RPC_CORRELATION_ID $n $k $HOSTNAME $$ $EPOCHREALTIME" >> "$RUNS"
sleep "$HANDLER_SLEEP"
echo "end $RPC_CORRELATION_ID $n $k $HOSTNAME $$ $EPOCHREALTIME" >> "$RUNS"
printf '{"success":true,"message":"done","data":{"n":%s}}' "$n"
`

const runRecorderContract = `{"description":"records its runs","lock_attribute":"k","timeout_seconds":60,
 "request":{"type":"object","properties":{"n":{"type":"integer"},"k":{"type":"string"},"crash":{"type":"boolean"}},"required":["n","k"]},
 "response":{"type":"object"}}`

// loadExchange is the exchange of the run recorder.
const loadExchange = "dx_load"

// deliveryLimit is the quorum queue's delivery limit in the cluster tests.
const deliveryLimit = 3

// hostsWorld is one scenario of consumer hosts on a cluster: a quorum
// queue of the cluster's default virtual host, the run recorder, and one
// configuration and state directory per host.
type hostsWorld struct {
	t        *testing.T
	nodes    []*testbroker.Node
	dir      string
	queue    string
	handlers string
	runsFile string
	locks    bool
}

func newHostsWorld(t *testing.T, nodes []*testbroker.Node, locksAcrossHosts bool) *hostsWorld {
	t.Helper()
	w := &hostsWorld{t: t, nodes: nodes, dir: t.TempDir(), locks: locksAcrossHosts}
	w.queue = "q-" + sanitizeName(t.Name())
	w.handlers = filepath.Join(w.dir, "handlers")
	w.runsFile = filepath.Join(w.dir, "runs")
	write(t, filepath.Join(w.handlers, loadExchange, "handler"), runRecorder, 0o755)
	write(t, filepath.Join(w.handlers, loadExchange, "contract.json"), runRecorderContract, 0o644)
	return w
}

func sanitizeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

// hostInstance is a consumer standing for one host: its own hostname (a
// UTS namespace of its own), configuration and state directory.
type hostInstance struct {
	name string
	cfg  string
	p    *proc
	w    *hostsWorld
}

// startHost starts a consumer as host name, given every node of the
// cluster in order, and waits until it consumes.
func (w *hostsWorld) startHost(name string) *hostInstance {
	w.t.Helper()
	addrs := make([]string, len(w.nodes))
	for i, n := range w.nodes {
		addrs[i] = n.Addr()
	}
	h := &hostInstance{name: name, cfg: filepath.Join(w.dir, name+".yml"), w: w}
	write(w.t, h.cfg, fmt.Sprintf(`handlers_directory: %s
state_directory: %s
server: {hosts: [%s], username: guest, password: guest}
virtual_hosts:
  "/":
    queue: %s
    max_simultaneous_requests: 10
    queue_type: quorum
    delivery_limit: %d
    locks_across_hosts: %t
    exchanges:
      %s: {type: direct}
`, w.handlers, filepath.Join(w.dir, "state-"+name), strings.Join(addrs, ", "), w.queue, deliveryLimit, w.locks, loadExchange), 0o644)
	h.start()
	h.waitConsuming()
	return h
}

// start starts (or starts again) the host's consumer.
func (h *hostInstance) start() {
	h.w.t.Helper()
	h.p = startBin(h.w.t, "unshare", []string{"--uts", "sh", "-c", `hostname "$0" && exec "$@"`, h.name,
		consumerBin, "--virtual-host-name", "/", "--config-file-path", h.cfg, "--log-format", "json"},
		"RABBITMQ_CONSUMER_HANDLER_ENV=RUNS HANDLER_SLEEP", "RUNS="+h.w.runsFile, "HANDLER_SLEEP=0.005")
}

// waitConsuming waits until the host's consumer consumes.
func (h *hostInstance) waitConsuming() {
	h.w.t.Helper()
	// Bounded, and telling where it hangs if it does (goroutine dump).
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(h.p.stderr.String(), `"message":"consuming"`) {
		select {
		case <-h.p.done:
			h.w.t.Fatalf("%s exited with status %d (%v) before consuming; its log:\n%s", h.name, h.p.code, h.p.cmd.ProcessState, h.p.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			_ = h.p.cmd.Process.Signal(syscall.SIGQUIT)
			<-h.p.done
			h.w.t.Fatalf("%s does not consume within 60s; its log:\n%s", h.name, h.p.stderr.String())
		}
		time.Sleep(50 * time.Millisecond) // polling its log, with a deadline
	}
}

// kill kills the host's consumer at once (its handlers die with it) and
// returns when it was killed.
func (h *hostInstance) kill() time.Time {
	h.w.t.Helper()
	at := time.Now()
	h.p.signal(h.w.t, syscall.SIGKILL)
	h.p.wait(h.w.t, 30*time.Second)
	return at
}

// stop stops the host's consumer as systemd would (SIGTERM) and waits
// until it has exited; a consumer already gone is left alone.
func (h *hostInstance) stop() {
	h.w.t.Helper()
	select {
	case <-h.p.done:
		return
	default:
	}
	h.p.signal(h.w.t, syscall.SIGTERM)
	h.p.wait(h.w.t, 60*time.Second)
}

// runs reads the runs recorded so far.
func (w *hostsWorld) runs() ([]handlerRun, int) {
	b, _ := os.ReadFile(w.runsFile)
	return parseRuns(string(b))
}

// startedRuns counts the runs started so far.
func (w *hostsWorld) startedRuns() int {
	runs, _ := w.runs()
	return len(runs)
}

// dial connects a client through node i.
func (w *hostsWorld) dial(i int) *client.Client {
	w.t.Helper()
	n := w.nodes[i]
	c, err := client.Dial(context.Background(), client.Config{
		Server:      config.Server{Host: "127.0.0.1", Port: n.Port, Username: "guest", Password: "guest"},
		VirtualHost: "/", Queue: w.queue})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { _ = c.Close() })
	return c
}

// loadResult is what the callers of a load saw.
type loadResult struct {
	// AnsweredAt holds, per request number, when its successful reply
	// arrived.
	AnsweredAt map[int]time.Time
	// Failed holds the requests with no successful reply, and why.
	Failed map[int]string
	// Took is the load's wall time.
	Took time.Duration
}

// lockValues is the number of distinct lock values of a load.
const lockValues = 50

// lockOf is request i's lock value, one of lockValues, scattered (a hash
// of i) so that requests in flight at once share lock values as often as
// chance has them do (consecutive values would keep 50 callers' requests
// apart).
func lockOf(i int) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(strconv.Itoa(i)))
	return fmt.Sprintf("L%02d", h.Sum32()%lockValues)
}

// load sends requests 0..n-1 from callers concurrent callers through c,
// request i with lock value lockOf(i), and waits for every reply.
func load(c *client.Client, n, callers int) loadResult {
	res := loadResult{AnsweredAt: map[int]time.Time{}, Failed: map[int]string{}}
	var mu sync.Mutex
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for g := 0; g < callers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
				r, err := c.Call(ctx, loadExchange, map[string]any{"n": i, "k": lockOf(i)})
				cancel()
				at := time.Now()
				why := ""
				switch {
				case err != nil:
					why = err.Error()
				case !r.Success:
					why = "failure reply: " + r.Message
				case strings.TrimSpace(string(r.Data)) != fmt.Sprintf(`{"n":%d}`, i):
					why = "reply of another request: " + string(r.Data)
				}
				mu.Lock()
				if why == "" {
					res.AnsweredAt[i] = at
				} else {
					res.Failed[i] = why
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.Took = time.Since(start)
	return res
}

// runsByHost counts runs per host.
func runsByHost(runs []handlerRun) map[string]int {
	m := map[string]int{}
	for _, r := range runs {
		m[r.Host]++
	}
	return m
}

// outcomeIDs reads the stream <queue>.outcomes from its start, through
// node i, and returns how many of its entries name each correlation id of
// ids (in their properties, headers or body), and how many entries it
// holds; -1 when there is no such stream. It publishes a
// marker of its own and reads up to it: call it once the consumers are
// gone.
func (w *hostsWorld) outcomeIDs(i int, ids []string) (map[string]int, int) {
	w.t.Helper()
	conn, err := amqp.Dial(w.nodes[i].URL())
	if err != nil {
		w.t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	stream := w.queue + ".outcomes"
	ch, err := conn.Channel()
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := ch.QueueDeclarePassive(stream, true, false, false, false, amqp.Table{"x-queue-type": "stream"}); err != nil {
		return nil, -1
	}
	marker := fmt.Sprintf("test-marker-%d", time.Now().UnixNano())
	if err := ch.PublishWithContext(context.Background(), "", stream, false, false, amqp.Publishing{Type: "marker", MessageId: marker}); err != nil {
		w.t.Fatal(err)
	}
	if err := ch.Qos(500, 0, false); err != nil {
		w.t.Fatal(err)
	}
	ds, err := ch.Consume(stream, "", false, false, false, false, amqp.Table{"x-stream-offset": "first"})
	if err != nil {
		w.t.Fatal(err)
	}
	found, total := map[string]int{}, 0
	deadline := time.After(60 * time.Second)
	for {
		select {
		case d, ok := <-ds:
			if !ok {
				w.t.Fatalf("the stream %s closed before its end", stream)
			}
			_ = d.Ack(false)
			if d.MessageId == marker {
				return found, total
			}
			total++
			text := d.CorrelationId + " " + d.MessageId + " " + fmt.Sprint(d.Headers) + " " + string(d.Body)
			for _, id := range ids {
				if strings.Contains(text, id) {
					found[id]++
				}
			}
		case <-deadline:
			w.t.Fatalf("the stream %s: no marker within 60s (%d messages read)", stream, total)
		}
	}
}

// deadLetter waits for a message with correlation id id in the queue's
// dead-letter queue and returns how it died.
func (w *hostsWorld) deadLetter(i int, id string) amqp.Delivery {
	w.t.Helper()
	conn, err := amqp.Dial(w.nodes[i].URL())
	if err != nil {
		w.t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	ch, err := conn.Channel()
	if err != nil {
		w.t.Fatal(err)
	}
	dead := w.queue + config.DeadLetterSuffix
	var found amqp.Delivery
	testutil.WaitFor(w.t, "message "+id+" in "+dead, 30*time.Second, func() bool {
		d, ok, err := ch.Get(dead, false)
		if err != nil {
			w.t.Fatalf("get from %s: %v", dead, err)
		}
		if !ok {
			return false
		}
		if d.CorrelationId != id {
			_ = d.Nack(false, true)
			return false
		}
		found = d
		return true
	})
	return found
}
