package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	chart "github.com/wcharczuk/go-chart/v2"
)

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }

func mb(kib int) string { return fmt.Sprintf("%.1f", float64(kib)/1024) }

func us(v float64) string {
	if v < 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", v)
}

func printTable(w io.Writer, rs []result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tcallers\tcalls/s\tp50 ms\tp99 ms\tidle RSS MB\tpeak RSS MB\tCPU µs/call: server\tbroker\tcallers\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Scenario, r.Callers, r.PerSec, ms(r.P50), ms(r.P99), mb(r.IdleRSS), mb(r.PeakRSS), us(r.ServerCPU), us(r.BrokerCPU), us(r.LoadCPU))
	}
	_ = tw.Flush()
}

func writeCSV(path string, rs []result) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := csv.NewWriter(f)
	_ = w.Write([]string{"scenario", "callers", "calls", "calls_per_second", "p50_ms", "p99_ms", "idle_rss_mb", "peak_rss_mb", "server_cpu_us_per_call", "broker_cpu_us_per_call", "callers_cpu_us_per_call"})
	for _, r := range rs {
		_ = w.Write([]string{r.Scenario, strconv.Itoa(r.Callers), strconv.Itoa(r.Calls), fmt.Sprintf("%.1f", r.PerSec), ms(r.P50), ms(r.P99), mb(r.IdleRSS), mb(r.PeakRSS), us(r.ServerCPU), us(r.BrokerCPU), us(r.LoadCPU)})
	}
	w.Flush()
	return w.Error()
}

// writeChart draws calls/s, one bar per scenario and number of callers.
func writeChart(path string, rs []result, callers []int) error {
	var bars []chart.Value
	for _, r := range rs {
		bars = append(bars, chart.Value{Label: fmt.Sprintf("%s/%d", short(r.Scenario), r.Callers), Value: r.PerSec})
	}
	top := 1.0
	for _, b := range bars {
		top = max(top, b.Value)
	}
	c := chart.BarChart{
		Title:      "rabbitmq-consumer vs bare amqp091-go: calls/s (scenario/callers)",
		Width:      1400,
		Height:     600,
		BarWidth:   60,
		Background: chart.Style{Padding: chart.Box{Top: 50, Bottom: 20, Left: 20, Right: 20}},
		XAxis:      chart.Style{FontSize: 8},
		YAxis:      chart.YAxis{Style: chart.Style{FontSize: 9}, Range: &chart.ContinuousRange{Min: 0, Max: top * 1.1}},
		Bars:       bars,
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return c.Render(chart.PNG, f)
}

func short(s string) string {
	switch s {
	case "consumer-go":
		return "go"
	case "consumer-exec":
		return "exec"
	case "consumer-dead-log-server":
		return "deadlog"
	}
	return s
}
