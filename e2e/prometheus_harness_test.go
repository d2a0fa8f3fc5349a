package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
)

// alertRules is the example alerting rules file.
const alertRules = "../etc/prometheus/rabbitmq-consumer-alerts.yml"

// promServer is a Prometheus server of the test's own, on loopback, with a
// generated configuration and a temporary storage directory.
type promServer struct {
	url string
}

// freeAddr is a loopback address no one listens on (just now).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startPrometheus scrapes the targets (host:port, job rabbitmq-consumer)
// every second and, with rules, evaluates them every second too, after
// shortening every "for:" of the rules to 1s (the rules' expressions are
// under test, not their patience). It is stopped when the test ends.
func startPrometheus(t *testing.T, targets []string, rules string) *promServer {
	t.Helper()
	dir := t.TempDir()
	quoted := make([]string, len(targets))
	for i, tg := range targets {
		quoted[i] = strconv.Quote(tg)
	}
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: rabbitmq-consumer\n    static_configs:\n      - targets: [%s]\n", strings.Join(quoted, ", "))
	if rules != "" {
		b, err := os.ReadFile(rules)
		if err != nil {
			t.Fatal(err)
		}
		short := regexp.MustCompile(`(?m)^(\s+for:) .*$`).ReplaceAll(b, []byte("$1 1s"))
		write(t, filepath.Join(dir, "rules.yml"), string(short), 0o644)
		cfg += "rule_files: [rules.yml]\n"
	}
	write(t, filepath.Join(dir, "prometheus.yml"), cfg, 0o644)
	addr := freeAddr(t)
	p := startBin(t, "prometheus", []string{
		"--config.file=" + filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr,
		"--log.level=warn",
	})
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
		}
	})
	s := &promServer{url: "http://" + addr}
	testutil.WaitFor(t, "prometheus to be ready", 60*time.Second, func() bool {
		resp, err := http.Get(s.url + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return s
}

// get calls the HTTP API and decodes its data.
func (s *promServer) get(t *testing.T, path string, params url.Values, data any) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+path+"?"+params.Encode(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var env struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return fmt.Errorf("%s: %d %s", path, resp.StatusCode, b)
	}
	if env.Status != "success" {
		return fmt.Errorf("%s %s: %s", path, params.Get("query"), env.Error)
	}
	return json.Unmarshal(env.Data, data)
}

// query evaluates a PromQL expression now; ok is false when it gives no
// sample. It must give at most one.
func (s *promServer) query(t *testing.T, expr string) (v float64, ok bool) {
	t.Helper()
	var data struct {
		Result []struct {
			Value [2]any `json:"value"`
		} `json:"result"`
	}
	if err := s.get(t, "/api/v1/query", url.Values{"query": {expr}}, &data); err != nil {
		t.Fatal(err)
	}
	switch len(data.Result) {
	case 0:
		return 0, false
	case 1:
		str, _ := data.Result[0].Value[1].(string)
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			t.Fatalf("%s: value %v", expr, data.Result[0].Value)
		}
		return v, true
	}
	t.Fatalf("%s: %d samples, want one", expr, len(data.Result))
	return 0, false
}

// samples evaluates a PromQL expression now and counts its samples; a
// malformed expression fails the test.
func (s *promServer) samples(t *testing.T, expr string) int {
	t.Helper()
	var data struct {
		Result []json.RawMessage `json:"result"`
	}
	if err := s.get(t, "/api/v1/query", url.Values{"query": {expr}}, &data); err != nil {
		t.Fatal(err)
	}
	return len(data.Result)
}

// dashboardQueries are the PromQL expressions of the Grafana dashboard,
// its variables replaced as Grafana would for "All" and a 10 s rate
// interval.
func dashboardQueries(t *testing.T) map[string]string {
	t.Helper()
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal([]byte(mustRead(t, "../docs/grafana-dashboard.json")), &dash); err != nil {
		t.Fatalf("docs/grafana-dashboard.json: %v", err)
	}
	out := map[string]string{}
	r := strings.NewReplacer("$instance", ".*", "$vhost", ".*", "$__rate_interval", "10s")
	for _, p := range dash.Panels {
		for i, tg := range p.Targets {
			out[fmt.Sprintf("%s #%d", p.Title, i+1)] = r.Replace(tg.Expr)
		}
	}
	return out
}

// queryAt evaluates a PromQL expression at a time (Unix seconds); it must
// give one sample.
func (s *promServer) queryAt(t *testing.T, expr, at string) float64 {
	t.Helper()
	var data struct {
		Result []struct {
			Value [2]any `json:"value"`
		} `json:"result"`
	}
	if err := s.get(t, "/api/v1/query", url.Values{"query": {expr}, "time": {at}}, &data); err != nil {
		t.Fatal(err)
	}
	if len(data.Result) != 1 {
		t.Fatalf("%s at %s: %d samples, want one", expr, at, len(data.Result))
	}
	str, _ := data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(str, 64)
	if err != nil {
		t.Fatalf("%s: value %v", expr, data.Result[0].Value)
	}
	return v
}

// firing lists the alerts firing, as "name{vhost}".
func (s *promServer) firing(t *testing.T) []string {
	t.Helper()
	var data struct {
		Alerts []struct {
			Labels map[string]string `json:"labels"`
			State  string            `json:"state"`
		} `json:"alerts"`
	}
	if err := s.get(t, "/api/v1/alerts", nil, &data); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range data.Alerts {
		if a.State == "firing" {
			out = append(out, a.Labels["alertname"]+"{"+a.Labels["vhost"]+"}")
		}
	}
	return out
}

// promtoolCheckMetrics fetches a /metrics page and lints it.
func promtoolCheckMetrics(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	cmd := exec.Command("promtool", "check", "metrics")
	cmd.Stdin = strings.NewReader(string(page))
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("promtool check metrics on %s: %v\n%s", addr, err, out)
	}
	return string(page)
}
