package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship"
)

// ShipperSource is what the shipper metrics read at each scrape: the
// shipper's counts and its backlog by virtual host (*logship.Shipper).
type ShipperSource interface {
	Stats() logship.Stats
	Backlogs() map[string]logship.VHostBacklog
}

// The shipper's metric descriptions.
var (
	backlogBytesDesc = prometheus.NewDesc(Namespace+"_logship_backlog_bytes",
		"Bytes of spooled records not yet shipped to the log server, by virtual host.", []string{"vhost"}, nil)
	backlogFilesDesc = prometheus.NewDesc(Namespace+"_logship_spool_files",
		"Segment files in a virtual host's spool, the one being written included.", []string{"vhost"}, nil)
	shippedDesc = prometheus.NewDesc(Namespace+"_logship_records_shipped_total",
		"Records the log server accepted.", nil, nil)
	setAsideDesc = prometheus.NewDesc(Namespace+"_logship_records_set_aside_total",
		"Records the log server did not accept, kept in the spool's rejected file.", nil, nil)
	alreadyThereDesc = prometheus.NewDesc(Namespace+"_logship_records_already_there_total",
		"Records sent again after an interruption and refused as duplicates: the log server has them.", nil, nil)
	progressSkippedDesc = prometheus.NewDesc(Namespace+"_logship_progress_skipped_total",
		"Progress records not shipped: the log server does not take them (404 or 405 at {base_url}/rpc-progress, as a reference log server answers), or their request was set aside.", nil, nil)
	failuresDesc = prometheus.NewDesc(Namespace+"_logship_post_failures_total",
		"Posts to the log server that failed (unreachable, server error) and are tried again.", nil, nil)
)

// shipperCollector reads the shipper's state at scrape time: the shipping
// path records nothing.
type shipperCollector struct{ src ShipperSource }

// RegisterShipper registers on reg the metrics of the shipper src.
func RegisterShipper(reg prometheus.Registerer, src ShipperSource) error {
	if err := reg.Register(shipperCollector{src}); err != nil {
		return fmt.Errorf("register shipper metrics: %w", err)
	}
	return nil
}

// Describe sends the descriptions of every shipper metric.
func (shipperCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{backlogBytesDesc, backlogFilesDesc, shippedDesc, setAsideDesc, alreadyThereDesc, progressSkippedDesc, failuresDesc} {
		ch <- d
	}
}

// Collect reads the shipper's counts and backlog.
func (c shipperCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.src.Stats()
	ch <- prometheus.MustNewConstMetric(shippedDesc, prometheus.CounterValue, float64(st.Shipped))
	ch <- prometheus.MustNewConstMetric(setAsideDesc, prometheus.CounterValue, float64(st.SetAside))
	ch <- prometheus.MustNewConstMetric(alreadyThereDesc, prometheus.CounterValue, float64(st.AlreadyThere))
	ch <- prometheus.MustNewConstMetric(progressSkippedDesc, prometheus.CounterValue, float64(st.ProgressSkipped))
	ch <- prometheus.MustNewConstMetric(failuresDesc, prometheus.CounterValue, float64(st.PostFailures))
	for vhost, b := range c.src.Backlogs() {
		ch <- prometheus.MustNewConstMetric(backlogBytesDesc, prometheus.GaugeValue, float64(b.Bytes), vhost)
		ch <- prometheus.MustNewConstMetric(backlogFilesDesc, prometheus.GaugeValue, float64(b.Files), vhost)
	}
}
