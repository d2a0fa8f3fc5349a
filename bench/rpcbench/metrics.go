package main

import (
	"fmt"
	"io"
	"net/http"
	"time"
)

// withMetrics makes every consumer scenario serve its metrics, scraped
// every second (--metrics).
var withMetrics bool

// scrapeInterval is how often a consumer's metrics are scraped.
const scrapeInterval = time.Second

// metricsListen is the metrics_listen line of a consumer's virtual host
// (empty without --metrics), whose address a scraper then polls.
func metricsListen() string {
	if !withMetrics {
		return ""
	}
	port, err := closedPort()
	if err != nil {
		fatal("a port for metrics_listen: %v", err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	go scrape("http://" + addr + "/metrics")
	return "    metrics_listen: " + addr + "\n"
}

// scrape fetches url every scrapeInterval, as Prometheus would, until the
// server that answered is gone (or never comes, within a minute).
func scrape(url string) {
	client := &http.Client{Timeout: 5 * time.Second}
	answered := false
	start := time.Now()
	for t := time.NewTicker(scrapeInterval); ; <-t.C {
		resp, err := client.Get(url)
		if err != nil {
			if answered || time.Since(start) > time.Minute {
				t.Stop()
				return
			}
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		answered = true
	}
}
