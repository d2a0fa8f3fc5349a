package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testbroker"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testrpc"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship/logservertest"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/statuscheck"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// sleeper answers after HANDLER_SLEEP seconds (0.15 here): every request
// takes 0.15 s and some milliseconds.
const sleeper = `#!/bin/sh
cat >/dev/null
sleep 0.15
printf '{"success":true,"message":"slept","data":{}}'
`

// withMetrics adds metrics_listen to the world's virtual host, a dx_sleep
// exchange and, with logServer, log shipping to it with the shipper's
// metrics on shipperAddr.
func (w *world) withMetrics(addr, logServer, shipperAddr string) {
	w.t.Helper()
	write(w.t, filepath.Join(w.handlers, "dx_sleep", "handler"), sleeper, 0o755)
	write(w.t, filepath.Join(w.handlers, "dx_sleep", "contract.json"), `{"description":"sleeps","lock_attribute":"n","timeout_seconds":30,"request":{"type":"object"},"response":{}}`, 0o644)
	cfg := strings.Replace(mustRead(w.t, w.cfgPath), "    exchanges:\n", "    metrics_listen: "+addr+"\n    exchanges:\n      dx_sleep: {}\n", 1)
	if logServer != "" {
		cfg = strings.Replace(cfg, "virtual_hosts:", fmt.Sprintf("spool_directory: %s\nlog_server: {base_url: '%s', api_token: tok, metrics_listen: '%s'}\nvirtual_hosts:",
			filepath.Join(w.dir, "spool"), logServer, shipperAddr), 1)
	}
	write(w.t, w.cfgPath, cfg, 0o644)
}

// TestPrometheusScrapesAConsumerUnderLoad: a real Prometheus server scrapes
// a consumer answering 20 requests a second for 12 s, each taking 0.15 s,
// and the shipper, whose log server is down; PromQL gives the request
// rate, the p99 duration and the backlog expected, every query of the
// Grafana dashboard has data, and promtool finds nothing to say of either
// page.
func TestPrometheusScrapesAConsumerUnderLoad(t *testing.T) {
	const perSecond, seconds = 20, 12
	w := newWorld(t, 8)
	logs := logservertest.New(t, "tok")
	logs.Down()
	addr, shipAddr := freeAddr(t), freeAddr(t)
	w.withMetrics(addr, logs.BaseURL(), shipAddr)
	p := w.start()
	p.waitLog(t, `"message":"consuming"`)
	startShipProc(t, w.cfgPath)
	prom := startPrometheus(t, []string{addr, shipAddr}, "")
	vh := w.vh.Name
	testutil.WaitFor(t, "prometheus to scrape both", 30*time.Second, func() bool {
		up, ok := prom.query(t, `sum(up{job="rabbitmq-consumer"})`)
		return ok && up == 2
	})

	c := testrpc.New(t, w.vh.URL(), true)
	var replies []chan wire.Response
	tick := time.NewTicker(time.Second / perSecond)
	for i := 0; i < perSecond*seconds; i++ {
		<-tick.C
		// Each its own lock value: they run side by side.
		_, r := c.Send("dx_sleep", w.queue, fmt.Appendf(nil, `{"n":%d}`, i), amqp.Publishing{CorrelationId: uuid4(t)})
		replies = append(replies, r)
	}
	tick.Stop()
	loadEnd := time.Now()
	for _, r := range replies {
		if resp := c.Wait(r); !resp.Success {
			t.Fatalf("reply = %+v", resp)
		}
	}
	// Queried at the end of the load (the API takes a time), over its last 8 s.
	at := fmt.Sprintf("%.3f", float64(loadEnd.UnixMilli())/1000)
	total := fmt.Sprintf(`sum(rabbitmq_consumer_requests_total{vhost=%q,exchange="dx_sleep",outcome="success"})`, vh)
	testutil.WaitFor(t, "prometheus to scrape every request", 30*time.Second, func() bool {
		n, ok := prom.query(t, total)
		return ok && n == perSecond*seconds
	})
	rate := prom.queryAt(t, fmt.Sprintf(`sum(rate(rabbitmq_consumer_requests_total{vhost=%q,exchange="dx_sleep",outcome="success"}[8s]))`, vh), at)
	p99 := prom.queryAt(t, fmt.Sprintf(`histogram_quantile(0.99, sum by (le) (rate(rabbitmq_consumer_request_duration_seconds_bucket{vhost=%q,exchange="dx_sleep"}[8s])))`, vh), at)
	t.Logf("PromQL: request rate %.2f/s (sent %d/s), p99 duration %.3f s (handler sleeps 0.15 s)", rate, perSecond, p99)
	if rate < perSecond*0.75 || rate > perSecond*1.25 {
		t.Errorf("request rate = %.2f/s, want %d/s ± 25%%", rate, perSecond)
	}
	// Every duration is 0.15 s and a few ms: the 0.1..0.25 bucket, whose
	// 99th percentile Prometheus interpolates at 0.2485 s; a busy machine
	// may push a few into the next buckets (0.5, 1).
	if p99 <= 0.15 || p99 > 1 {
		t.Errorf("p99 duration = %.3f s, want within (0.15, 1]", p99)
	}
	if inflight, _ := prom.query(t, fmt.Sprintf(`sum(rabbitmq_consumer_requests_in_flight{vhost=%q})`, vh)); inflight != 0 {
		t.Errorf("in flight after the load = %v", inflight)
	}
	if up, _ := prom.query(t, fmt.Sprintf(`rabbitmq_consumer_connected{vhost=%q}`, vh)); up != 1 {
		t.Errorf("connected = %v", up)
	}
	// The log server is down: every record waits in the spool.
	testutil.WaitFor(t, "the backlog in prometheus", 30*time.Second, func() bool {
		b, ok := prom.query(t, fmt.Sprintf(`rabbitmq_consumer_logship_backlog_bytes{vhost=%q}`, vh))
		return ok && b > 0
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if b := statuscheck.ReadBacklog(ctx, statuscheck.MetricsURL(shipAddr)); b.Err != "" || b.Bytes <= 0 || b.Largest != vh {
		t.Errorf("the status check reads the backlog %+v", b)
	}

	// Every query of the Grafana dashboard is valid and has data.
	for panel, expr := range dashboardQueries(t) {
		if prom.samples(t, expr) == 0 {
			t.Errorf("dashboard panel %q: no data for %s", panel, expr)
		}
	}
	for _, a := range []string{addr, shipAddr} {
		page := promtoolCheckMetrics(t, a)
		if strings.Contains(page, "correlation") {
			t.Errorf("%s: a correlation id in the metrics", a)
		}
	}
}

// TestLogLevelAtRunTime: PUT /log-level on the metrics listener makes the
// handler component log at debug at once, without a restart; SIGUSR2
// restores the command line's levels.
func TestLogLevelAtRunTime(t *testing.T) {
	w := newWorld(t, 2)
	addr := freeAddr(t)
	w.withMetrics(addr, "", "")
	p := w.start()
	p.waitLog(t, `"message":"consuming"`)
	put := func(spec string) (int, string) {
		req, _ := http.NewRequest(http.MethodPut, "http://"+addr+"/log-level", strings.NewReader(spec))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	if code, body := put("info,handlers=debug"); code != 400 || !strings.Contains(body, `"handlers" is not a component`) {
		t.Errorf("a bad level: %d %s", code, body)
	}
	if code, body := put("warn,handler=debug"); code != 200 || body != "warn,handler=debug" {
		t.Fatalf("PUT: %d %s", code, body)
	}
	p.waitLog(t, `"log_level":"warn,handler=debug"`)
	mark := len(p.stderr.String())
	c := testrpc.New(t, w.vh.URL(), true)
	if r := c.Call("dx_sleep", w.queue, map[string]any{}); !r.Success {
		t.Fatal(r)
	}
	p.waitLog(t, `"level":"debug","component":"handler"`)
	if strings.Contains(p.stderr.String()[mark:], `"level":"info","component":"consumer"`) {
		t.Error("the consumer component logged at info under warn,handler=debug")
	}
	p.signal(t, syscall.SIGUSR2)
	p.waitLog(t, `"log_level":"info"`)
}

// TestAlertFiresWhenTheBrokerStops: the example rule
// RabbitMQConsumerNotConnected fires in a real Prometheus when the broker
// of a consumer (a node of the test's own) stops.
func TestAlertFiresWhenTheBrokerStops(t *testing.T) {
	node := testbroker.StartNode(t)
	w := newWorld(t, 2)
	addr := freeAddr(t)
	w.withMetrics(addr, "", "")
	cfg := strings.Replace(mustRead(t, w.cfgPath), "port: 5672", fmt.Sprintf("port: %d", node.Port), 1)
	cfg = strings.Replace(cfg, "  "+w.vh.Name+":\n", "  /:\n", 1)
	write(t, w.cfgPath, cfg, 0o644)
	p := startProc(t, []string{"--virtual-host-name", "/", "--config-file-path", w.cfgPath, "--log-format", "json"})
	p.waitLog(t, `"message":"consuming"`)
	prom := startPrometheus(t, []string{addr}, alertRules)
	testutil.WaitFor(t, "prometheus to see the consumer connected", 30*time.Second, func() bool {
		v, ok := prom.query(t, `rabbitmq_consumer_connected{vhost="/"}`)
		return ok && v == 1
	})
	if f := prom.firing(t); len(f) > 0 {
		t.Fatalf("alerts firing before the broker stops: %v", f)
	}
	node.Stop()
	testutil.WaitFor(t, "RabbitMQConsumerNotConnected to fire", 60*time.Second, func() bool {
		for _, a := range prom.firing(t) {
			if a == "RabbitMQConsumerNotConnected{/}" {
				return true
			}
		}
		return false
	})
	if n, _ := prom.query(t, `rabbitmq_consumer_reconnects_total{vhost="/"}`); n != 0 {
		t.Errorf("reconnects = %v before the broker is back", n)
	}
}
