package statuscheck

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// BacklogMetric is the shipper's metric the backlog is read from.
const BacklogMetric = "rabbitmq_consumer_logship_backlog_bytes"

// MetricsURL is the URL of the metrics at addr: addr itself when it is a
// URL, else http://addr/metrics.
func MetricsURL(addr string) string {
	if strings.Contains(addr, "://") {
		return addr
	}
	return "http://" + addr + "/metrics"
}

// ReadBacklog reads the log-shipping backlog from the shipper's metrics at
// url. A failure is reported in the Backlog's Err.
func ReadBacklog(ctx context.Context, url string) *Backlog {
	b := &Backlog{Source: url}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		b.Err = err.Error()
		return b
	}
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Err = err.Error()
		return b
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Err = fmt.Sprintf("%s answered %s", url, resp.Status)
		return b
	}
	if err := parseBacklog(io.LimitReader(resp.Body, 16<<20), b); err != nil {
		b.Err = fmt.Sprintf("%s: %v", url, err)
	}
	return b
}

// parseBacklog sums the backlog over the virtual hosts of a metrics page
// in the text format, and names the largest.
func parseBacklog(r io.Reader, b *Backlog) error {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return fmt.Errorf("not a metrics page: %w", err)
	}
	fam, ok := fams[BacklogMetric]
	if !ok {
		return fmt.Errorf("no %s metric: is it the shipper's metrics address?", BacklogMetric)
	}
	var largest float64
	for _, m := range fam.GetMetric() {
		v := m.GetGauge().GetValue()
		b.Bytes += int64(v)
		if v > largest {
			largest, b.Largest = v, vhostOf(m)
		}
	}
	return nil
}

func vhostOf(m *dto.Metric) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == "vhost" {
			return l.GetValue()
		}
	}
	return ""
}
