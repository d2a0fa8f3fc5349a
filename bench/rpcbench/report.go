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
	fmt.Fprintln(tw, "scenario\tcallers\tcalls/s\tp50 ms\tp99 ms\tidle RSS MB\tpeak RSS MB\tCPU µs/call: server\tof it handlers\tbroker\tcallers\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Scenario, r.Callers, r.PerSec, ms(r.P50), ms(r.P99), mb(r.IdleRSS), mb(r.PeakRSS), us(r.ServerCPU), us(r.HandlerCPU), us(r.BrokerCPU), us(r.LoadCPU))
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
	_ = w.Write([]string{"scenario", "callers", "calls", "calls_per_second", "p50_ms", "p99_ms", "idle_rss_mb", "peak_rss_mb", "server_cpu_us_per_call", "handler_cpu_us_per_call", "broker_cpu_us_per_call", "callers_cpu_us_per_call"})
	for _, r := range rs {
		_ = w.Write([]string{r.Scenario, strconv.Itoa(r.Callers), strconv.Itoa(r.Calls), fmt.Sprintf("%.1f", r.PerSec), ms(r.P50), ms(r.P99), mb(r.IdleRSS), mb(r.PeakRSS), us(r.ServerCPU), us(r.HandlerCPU), us(r.BrokerCPU), us(r.LoadCPU)})
	}
	w.Flush()
	return w.Error()
}

// The chart's bars: wide enough apart for a label such as "py-lock/64".
const barWidth, barSpacing = 50, 30

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
		Title:      "calls/s (scenario/callers)",
		Width:      max(1400, 60+len(bars)*(barWidth+barSpacing)),
		Height:     600,
		BarWidth:   barWidth,
		BarSpacing: barSpacing,
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
	case "reference-model":
		return "ref"
	case "reference-model-lock":
		return "ref-lock"
	case "python-oneshot":
		return "py-1shot"
	case "python-persistent":
		return "py"
	case "python-persistent-lock":
		return "py-lock"
	case "python-persistent-heavy":
		return "py-heavy"
	case "exec-persistent":
		return "x-pers"
	case "exec-persistent-nolock":
		return "x-pers-nl"
	}
	return s
}

// tablePairs are the comparisons printed from the table: a scenario and
// the one it is measured against.
var tablePairs = [][2]string{
	{"python-oneshot", "reference-model"},
	{"python-persistent", "reference-model"},
	{"python-persistent-lock", "reference-model-lock"},
	{"python-persistent-heavy", "python-persistent"},
	{"exec-persistent", "consumer-go"},
	{"exec-persistent-nolock", "consumer-go"},
}

// printPairs prints, for each pair of tablePairs in the table, at each
// number of callers both were measured at: the ratio of their calls/s and
// their p50 and p99 side by side. One run each, one after the other: the
// interleaved ratios are the ones to trust for throughput.
func printPairs(w io.Writer, rs []result) {
	cell := map[string]map[int]result{}
	for _, r := range rs {
		if cell[r.Scenario] == nil {
			cell[r.Scenario] = map[int]result{}
		}
		cell[r.Scenario][r.Callers] = r
	}
	header := false
	for _, p := range tablePairs {
		for _, r := range rs {
			if r.Scenario != p[0] {
				continue
			}
			b, ok := cell[p[1]][r.Callers]
			if !ok || b.PerSec == 0 {
				continue
			}
			if !header {
				fmt.Fprintln(w, "\nfrom the table (one run each):")
				header = true
			}
			fmt.Fprintf(w, "  %-48s %-10s calls/s %5.2f  p50 %s vs %s ms (%+.2f)  p99 %s vs %s ms\n", p[0]+"/"+p[1], callersText(r.Callers),
				r.PerSec/b.PerSec, ms(r.P50), ms(b.P50), float64(r.P50-b.P50)/float64(time.Millisecond), ms(r.P99), ms(b.P99))
		}
	}
}
