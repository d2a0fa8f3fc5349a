// Command rpcbench measures rabbitmq-consumer against the bare protocol and
// against a model of the reference Python consumer on the local broker, in
// one run: a bare amqp091-go echo server (the baseline), the consumer with a
// Go echo handler, with an executable echo handler, with a dead log server
// configured, the reference model (pika, a thread per message), the consumer
// with the same Python echo one-shot and persistent, and a persistent
// compiled echo; each at 1, 8 and 64 concurrent callers driven by the same
// load generator (the client package). It prints a table, writes it as CSV
// and as a PNG chart, then measures pairs of scenarios again in interleaved
// rounds and ends with the median of each round's ratio. The scenarios of
// persistent handlers run only when the consumer's --check takes a
// persistent contract. `make bench` runs it. With --ratios hosts it measures
// the cost of locks_across_hosts: the Go echo consumer as one and as two
// instances, the setting off and on (`make bench-cluster`).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/client"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/config"
)

const exchange = "dx_bench_echo"

// result is one cell of the table.
type result struct {
	Scenario string
	Callers  int
	Calls    int
	PerSec   float64
	P50, P99 time.Duration
	IdleRSS  int // KiB, measured once the server consumes, before any load
	PeakRSS  int // KiB, VmHWM at the end of the scenario
	// CPU time per call, in microseconds, of the server, the broker and
	// the load generator (the client); -1 when unknown. HandlerCPU is the
	// part of ServerCPU spent in the server's handler processes.
	ServerCPU, HandlerCPU, BrokerCPU, LoadCPU float64
}

func main() {
	duration := flag.Duration("duration", 5*time.Second, "measured time per cell")
	warmup := flag.Duration("warmup", time.Second, "unmeasured time before each cell")
	callersFlag := flag.String("callers", "1,8,64", "concurrent callers per cell")
	prefetch := flag.Int("prefetch", 64, "max_simultaneous_requests (prefetch) of every server but the Python ones")
	pythonPrefetch := flag.Int("python-prefetch", 5, "max_simultaneous_requests (prefetch) of the Python scenarios (reference-model*, python-*): the reference's default")
	out := flag.String("out", "bench/results", "directory for results.csv and calls-per-second.png")
	only := flag.String("scenarios", strings.Join(defaultScenarios, ","), "scenarios of the table (empty: none)")
	persistent := flag.String("persistent", "auto", "scenarios of persistent handlers (*-persistent*): auto (when the consumer's --check takes a persistent contract), on, or off")
	consumerBin := flag.String("consumer", "", "a rabbitmq-consumer binary to measure instead of building ./cmd/rabbitmq-consumer (e.g. another branch's)")
	profile := flag.String("cpuprofile", "", "write the Go-handler consumer's CPU profile here")
	rounds := flag.Int("rounds", 5, "interleaved rounds for the ratios (0: none)")
	ratioSets := flag.String("ratios", "consumer,exec,python", "interleaved ratios: consumer (baseline, consumer-go, consumer-dead-log-server at 64 callers), exec (exec-persistent vs consumer-go at 64 callers), python (python-persistent vs reference-model at --python-callers), hosts (consumer-go as one and two instances, locks_across_hosts off and on, at 64 callers: make bench-cluster)")
	pythonCallers := flag.String("python-callers", "1,8,64", "callers of the python ratio's rounds (at 1 caller they hold python-persistent-heavy too)")
	baseline := flag.String("baseline", "bare", "the baseline of the interleaved rounds: bare, or bare-coalesced (the bare echo writing through the consumer's coalescing connection)")
	flag.BoolVar(&withMetrics, "metrics", false, "every consumer serves its metrics (metrics_listen), scraped every second as Prometheus would")
	flag.Parse()
	callers, err := parseCallers(*callersFlag)
	if err != nil {
		fatal("bad --callers: %v", err)
	}
	pyCallers, err := parseCallers(*pythonCallers)
	if err != nil {
		fatal("bad --python-callers: %v", err)
	}
	bins, err := build(*consumerBin)
	if err != nil {
		fatal("%v", err)
	}
	defer os.RemoveAll(bins.dir)
	if err := openVHost(); err != nil {
		fatal("%v", err)
	}
	defer closeVHost()
	sets := map[string]bool{}
	for _, s := range strings.Split(*ratioSets, ",") {
		sets[s] = true
	}
	needPython := sets["python"] && *rounds > 0
	for _, name := range strings.Split(*only, ",") {
		needPython = needPython || pythonScenario(name)
	}
	if needPython {
		if err := pythonReady(); err != nil {
			fatal("%v", err)
		}
	}
	// Persistent handlers: notPersistent says why they are left out.
	var notPersistent error
	switch *persistent {
	case "off":
		notPersistent = errors.New("--persistent off")
	case "auto", "on":
		notPersistent = persistentSupport(bins)
		if notPersistent != nil && *persistent == "on" {
			fatal("persistent handlers: %v", notPersistent)
		}
	default:
		fatal("bad --persistent %q: auto, on or off", *persistent)
	}
	prefetchOf := func(name string) int {
		if pythonScenario(name) {
			return *pythonPrefetch
		}
		return *prefetch
	}

	var results []result
	for _, name := range strings.Split(*only, ",") {
		if name == "" || (persistentScenario(name) && notPersistent != nil) {
			continue
		}
		sc, ok := scenarios(bins, *profile)[name]
		if !ok {
			fatal("unknown scenario %q", name)
		}
		cs := callers
		if onlyOneCaller[name] {
			cs = []int{1}
		}
		fmt.Fprintf(os.Stderr, "rpcbench: %s ...\n", name)
		rs, err := runScenario(name, sc, cs, prefetchOf(name), *warmup, *duration)
		if err != nil {
			fatal("%s: %v", name, err)
		}
		results = append(results, rs...)
	}
	if len(results) > 0 {
		printTable(os.Stdout, results)
		if err := os.MkdirAll(*out, 0o755); err != nil {
			fatal("%v", err)
		}
		if err := writeCSV(filepath.Join(*out, "results.csv"), results); err != nil {
			fatal("%v", err)
		}
		if err := writeChart(filepath.Join(*out, "calls-per-second.png"), results, callers); err != nil {
			fatal("%v", err)
		}
		fmt.Printf("wrote %s and %s\n", filepath.Join(*out, "results.csv"), filepath.Join(*out, "calls-per-second.png"))
		printPairs(os.Stdout, results)
	}
	if notPersistent != nil {
		fmt.Printf("\npersistent handler scenarios left out: %v\n", notPersistent)
	}
	if *rounds <= 0 {
		return
	}
	rr := roundsRun{bins: bins, profile: *profile, prefetchOf: prefetchOf, warmup: *warmup, duration: *duration, rounds: *rounds, notPersistent: notPersistent}
	if sets["consumer"] || sets["exec"] {
		rr.at64(*baseline, sets["consumer"], sets["exec"])
	}
	if sets["python"] {
		rr.python(pyCallers)
	}
	if sets["hosts"] {
		rr.hosts()
	}
}

// defaultScenarios are the scenarios of `make bench`'s table.
var defaultScenarios = []string{
	"bare", "consumer-go", "consumer-exec", "consumer-dead-log-server",
	"reference-model", "reference-model-lock", "python-oneshot",
	"python-persistent", "python-persistent-lock", "python-persistent-heavy",
	"exec-persistent", "exec-persistent-nolock",
}

func parseCallers(s string) ([]int, error) {
	var callers []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a number of callers", f)
		}
		callers = append(callers, n)
	}
	return callers, nil
}

func callersText(n int) string {
	if n == 1 {
		return "1 caller"
	}
	return fmt.Sprintf("%d callers", n)
}

func fatal(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "rpcbench: "+format+"\n", a...)
	closeVHost()
	os.Exit(1)
}

// binaries are the programs a run builds.
type binaries struct {
	dir                                                       string
	consumer, echoConsumer, echoHandler, bare, execPersistent string
}

// build builds the benchmark's programs; consumer, when set, is a
// rabbitmq-consumer already built to use instead of ./cmd/rabbitmq-consumer.
func build(consumer string) (*binaries, error) {
	dir, err := os.MkdirTemp("", "rpcbench-")
	if err != nil {
		return nil, err
	}
	b := &binaries{dir: dir,
		consumer: filepath.Join(dir, "rabbitmq-consumer"), echoConsumer: filepath.Join(dir, "echo-consumer"),
		echoHandler: filepath.Join(dir, "echo-handler"), bare: filepath.Join(dir, "bare-echo"),
		execPersistent: filepath.Join(dir, "exec-persistent")}
	pkgs := map[string]string{b.consumer: "./cmd/rabbitmq-consumer", b.echoConsumer: "./bench/echo-consumer", b.echoHandler: "./bench/echo-handler", b.bare: "./bench/bare-echo", b.execPersistent: "./bench/exec-persistent"}
	if consumer != "" {
		abs, err := filepath.Abs(consumer)
		if err != nil {
			return nil, err
		}
		delete(pkgs, b.consumer)
		b.consumer = abs
	}
	for bin, pkg := range pkgs {
		cmd := exec.Command("go", "build", "-trimpath", "-o", bin, pkg)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("build %s: %w", pkg, err)
		}
	}
	return b, nil
}

// scenario starts a server for a virtual host and returns its command.
type scenario func(dir, vhost, queue string, prefetch int) (*exec.Cmd, error)

// consumerConfig writes the consumer's configuration for a virtual host
// into dir, with extra top-level keys.
func consumerConfig(dir, vhost, queue string, prefetch int, extra string) (string, error) {
	path := filepath.Join(dir, "rabbitmq.yml")
	body := fmt.Sprintf("handlers_directory: %s\nstate_directory: %s\n%sserver: {host: 127.0.0.1, port: 5672}\nvirtual_hosts:\n  %s:\n    queue: %s\n    max_simultaneous_requests: %d\n%s    exchanges: {%s: {}}\n",
		filepath.Join(dir, "handlers"), filepath.Join(dir, "state"), extra, vhost, queue, prefetch, metricsListen(), exchange)
	return path, os.WriteFile(path, []byte(body), 0o644)
}

func scenarios(b *binaries, profile string) map[string]scenario {
	consumerCfg := consumerConfig
	goConsumer := func(extra string, env ...string) scenario {
		return func(dir, vhost, queue string, prefetch int) (*exec.Cmd, error) {
			cfg, err := consumerCfg(dir, vhost, queue, prefetch, extra)
			if err != nil {
				return nil, err
			}
			cmd := exec.Command(b.echoConsumer, append([]string{"--virtual-host-name", vhost, "--config-file-path", cfg, "--log-format", "json"}, strings.Fields(os.Getenv("RPCBENCH_CONSUMER_ARGS"))...)...)
			cmd.Env = append(os.Environ(), env...)
			return cmd, nil
		}
	}
	var profileEnv []string
	if profile != "" {
		abs, _ := filepath.Abs(profile)
		profileEnv = append(profileEnv, "RPCBENCH_CPUPROFILE="+abs)
	}
	all := map[string]scenario{
		"bare":           bare(b),
		"bare-coalesced": bare(b, "--coalesce"),
		"consumer-go":    goConsumer("", profileEnv...),
		"consumer-exec": func(dir, vhost, queue string, prefetch int) (*exec.Cmd, error) {
			hdir := filepath.Join(dir, "handlers", exchange)
			if err := os.MkdirAll(hdir, 0o755); err != nil {
				return nil, err
			}
			if err := copyFile(b.echoHandler, filepath.Join(hdir, "handler"), 0o755); err != nil {
				return nil, err
			}
			contract := `{"description":"echo","lock_attribute":"n","timeout_seconds":30,"request":{"type":"object","properties":{"n":{"type":"integer"},"payload":{"type":"string"}},"required":["n"]},"response":{"type":"object"}}`
			if err := os.WriteFile(filepath.Join(hdir, "contract.json"), []byte(contract), 0o644); err != nil {
				return nil, err
			}
			cfg, err := consumerCfg(dir, vhost, queue, prefetch, "")
			if err != nil {
				return nil, err
			}
			return exec.Command(b.consumer, "--virtual-host-name", vhost, "--config-file-path", cfg, "--log-format", "json"), nil
		},
		"consumer-dead-log-server": func(dir, vhost, queue string, prefetch int) (*exec.Cmd, error) {
			port, err := closedPort()
			if err != nil {
				return nil, err
			}
			extra := fmt.Sprintf("spool_directory: %s\nlog_server: {base_url: 'http://127.0.0.1:%d/api/v1/', api_token: x}\n", filepath.Join(dir, "spool"), port)
			return goConsumer(extra)(dir, vhost, queue, prefetch)
		},
		"reference-model":      referenceModelServer(""),
		"reference-model-lock": referenceModelServer("n"),
	}
	for name, sc := range handlerScenarios(b, consumerCfg) {
		all[name] = sc
	}
	for name, sc := range hostsScenarios(goConsumer("")) {
		all[name] = sc
	}
	return all
}

// bare runs the bare echo with extra flags.
func bare(b *binaries, flags ...string) scenario {
	return func(dir, vhost, queue string, prefetch int) (*exec.Cmd, error) {
		args := []string{"--url", "amqp://guest:guest@127.0.0.1:5672/" + vhost, "--queue", queue, "--exchange", exchange, "--prefetch", strconv.Itoa(prefetch)}
		return exec.Command(b.bare, append(args, flags...)...), nil
	}
}

func closedPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	return port, l.Close()
}

func copyFile(from, to string, mode os.FileMode) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, mode)
}

func rabbitmqctl(args ...string) error {
	out, err := exec.Command("rabbitmqctl", append([]string{"-q"}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("rabbitmqctl %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// runScenario starts the scenario's server on its own queue of the run's virtual host, loads
// it at each number of callers and stops it.
func runScenario(name string, sc scenario, callers []int, prefetch int, warmup, duration time.Duration) ([]result, error) {
	vhost := benchVHost
	dir, err := os.MkdirTemp("", "rpcbench-"+name+"-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	queue := fmt.Sprintf("q-%s-%d", name, rand.IntN(1e9))
	defer func() { _ = deleteQueue(vhost, queue) }()
	cmd, err := sc(dir, vhost, queue, prefetch)
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	var last tail
	go func() { _, _ = io.Copy(&last, stderr) }()
	if instances[name] > 1 {
		stopMore, err := startMore(name, sc, dir, vhost, queue, prefetch)
		if err != nil {
			return nil, err
		}
		defer stopMore()
	}
	cfg := client.Config{Server: config.Server{Host: "127.0.0.1", Port: 5672, Username: "guest", Password: "guest"}, VirtualHost: vhost, Queue: queue}
	if err := waitServing(cfg); err != nil {
		return nil, fmt.Errorf("%w; the server's stderr ends with: %s", err, last.String())
	}
	idle := rss(cmd.Process.Pid, "VmRSS")
	broker := brokerPID()
	var results []result
	for _, n := range callers {
		r, err := load(cfg, n, warmup, duration, cmd.Process.Pid, broker)
		if err != nil {
			return nil, err
		}
		r.Scenario, r.IdleRSS = name, idle
		results = append(results, r)
	}
	peak := rss(cmd.Process.Pid, "VmHWM")
	for i := range results {
		results[i].PeakRSS = peak
	}
	return results, nil
}

// waitServing waits until the server answers a call.
func waitServing(cfg client.Config) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := client.Dial(context.Background(), cfg)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_, err = c.Call(ctx, exchange, map[string]any{"n": -1})
			cancel()
			_ = c.Close()
			if err == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the server does not answer within 30s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// load runs n callers in a loop for warmup + duration and measures the
// calls answered during duration, and the CPU time the server, the broker
// and the load generator spent meanwhile.
func load(cfg client.Config, n int, warmup, duration time.Duration, server, broker int) (result, error) {
	c, err := client.Dial(context.Background(), cfg)
	if err != nil {
		return result{}, err
	}
	defer c.Close()
	payload := strings.Repeat("x", 64)
	var (
		mu        sync.Mutex
		latencies []time.Duration
		firstErr  error
		wg        sync.WaitGroup
	)
	start := time.Now()
	measureFrom, end := start.Add(warmup), start.Add(warmup+duration)
	cpu := make(chan [2]cpuSample, 1)
	go func() {
		time.Sleep(time.Until(measureFrom))
		from := sampleCPU(server, broker)
		time.Sleep(time.Until(end))
		cpu <- [2]cpuSample{from, sampleCPU(server, broker)}
	}()
	for g := 0; g < n; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			var mine []time.Duration
			for i := 0; ; i++ {
				t0 := time.Now()
				if t0.After(end) {
					break
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				r, err := c.Call(ctx, exchange, map[string]any{"n": g*1_000_000 + i, "payload": payload})
				cancel()
				if err == nil && !r.Success {
					err = fmt.Errorf("failure response: %s", r.Message)
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				if done := time.Now(); counted(done, measureFrom, end) {
					mine = append(mine, done.Sub(t0))
				}
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		}(g)
	}
	wg.Wait()
	if firstErr != nil {
		return result{}, firstErr
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	r := result{Callers: n, Calls: len(latencies), PerSec: float64(len(latencies)) / duration.Seconds()}
	samples := <-cpu
	cpc := perCall(samples[0], samples[1], len(latencies))
	r.ServerCPU, r.HandlerCPU, r.BrokerCPU, r.LoadCPU = cpc.server, cpc.handlers, cpc.broker, cpc.load
	if len(latencies) > 0 {
		r.P50 = latencies[len(latencies)*50/100]
		r.P99 = latencies[min(len(latencies)-1, len(latencies)*99/100)]
	}
	return r, nil
}

// counted reports whether a call answered at done counts in a cell
// measured from from to end: every call answered in that window, whenever
// it started, so that calls slower than the window (a one-shot Python
// handler behind 63 others) still count in the throughput.
func counted(done, from, end time.Time) bool {
	return !done.Before(from) && done.Before(end)
}

// rss reads a memory figure of a process from /proc, in KiB.
func rss(pid int, field string) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, field+":") {
			n, _ := strconv.Atoi(strings.Fields(l)[1])
			return n
		}
	}
	return -1
}
