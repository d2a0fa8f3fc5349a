package main

import (
	"fmt"
	"os"
	"time"
)

// roundsRun measures pairs of scenarios in interleaved rounds and prints
// their ratios.
type roundsRun struct {
	bins             *binaries
	profile          string
	prefetchOf       func(name string) int
	warmup, duration time.Duration
	rounds           int
	// notPersistent says why the persistent scenarios are left out; nil
	// when they run.
	notPersistent error
}

// at measures the scenarios at a number of callers in alternating rounds
// (a, b, c, a, b, c, ...), so that the machine's drift hits each alike.
func (rr roundsRun) at(names []string, callers int) map[string][]result {
	got := map[string][]result{}
	for r := 0; r < rr.rounds; r++ {
		for _, name := range names {
			fmt.Fprintf(os.Stderr, "rpcbench: round %d, %s at %s ...\n", r+1, name, callersText(callers))
			rs, err := runScenario(name, scenarios(rr.bins, rr.profile)[name], []int{callers}, rr.prefetchOf(name), rr.warmup, rr.duration)
			if err != nil {
				fatal("%s: %v", name, err)
			}
			got[name] = append(got[name], rs[0])
		}
	}
	return got
}

// at64 runs the rounds at 64 callers: with consumer, the baseline,
// consumer-go and consumer-dead-log-server (the consumer's ratios); with
// exec, exec-persistent and consumer-go.
func (rr roundsRun) at64(baseline string, consumer, exec bool) {
	if _, ok := scenarios(rr.bins, rr.profile)[baseline]; !ok {
		fatal("unknown baseline %q", baseline)
	}
	exec, skipped := exec && rr.notPersistent == nil, exec && rr.notPersistent != nil
	var names []string
	if consumer {
		names = []string{baseline, "consumer-go", "consumer-dead-log-server"}
	}
	if exec {
		if !consumer {
			names = append(names, "consumer-go")
		}
		names = append(names, "exec-persistent")
	}
	if len(names) > 0 {
		got := rr.at(names, 64)
		med := printMedians(names, got, 64)
		if consumer {
			consumerRatios(got, med, baseline)
		}
		if exec {
			r, byRound := pairedRatio(got["exec-persistent"], got["consumer-go"])
			fmt.Printf("bench: exec-persistent/consumer-go by round: %s\n", ratios(byRound))
			fmt.Printf("bench: exec-persistent/consumer-go = %.2f (64 callers, calls/s)\n", r)
		}
	}
	if skipped {
		fmt.Printf("bench: exec-persistent/consumer-go: not measured (%v)\n", rr.notPersistent)
	}
}

// python runs the rounds of the reference model and the consumer's Python
// echo at each number of callers: persistent, or one-shot (today's way)
// when the consumer has no persistent handlers. At 1 caller the rounds
// hold the persistent echo behind a heavy import too, whose p50 is
// compared with the echo's.
func (rr roundsRun) python(callers []int) {
	python := "python-persistent"
	if rr.notPersistent != nil {
		python = "python-oneshot"
	}
	for _, n := range callers {
		names := []string{"reference-model", python}
		heavy := n == 1 && rr.notPersistent == nil
		if heavy {
			names = append(names, "python-persistent-heavy")
		}
		got := rr.at(names, n)
		med := printMedians(names, got, n)
		r, byRound := pairedRatio(got[python], got["reference-model"])
		a, b := med[python], med["reference-model"]
		fmt.Printf("bench: %s/reference-model by round: %s\n", python, ratios(byRound))
		fmt.Printf("bench: %s/reference-model p50 %s vs %s ms, p99 %s vs %s ms (%s, medians)\n", python, ms(a.P50), ms(b.P50), ms(a.P99), ms(b.P99), callersText(n))
		fmt.Printf("bench: %s/reference-model = %.2f (%s, calls/s)\n", python, r, callersText(n))
		if heavy {
			h := medianP50(got["python-persistent-heavy"])
			e := medianP50(got[python])
			fmt.Printf("bench: python-persistent-heavy/python-persistent p50 %s vs %s ms (%+.2f ms, 1 caller, medians of the rounds' p50)\n", ms(h), ms(e), float64(h-e)/float64(time.Millisecond))
		}
	}
	if rr.notPersistent != nil {
		fmt.Printf("bench: python-persistent/reference-model: not measured (%v)\n", rr.notPersistent)
	}
}

// printMedians prints the median of each scenario's rounds and returns
// them.
func printMedians(names []string, got map[string][]result, callers int) map[string]result {
	med := map[string]result{}
	fmt.Printf("\ninterleaved, %d rounds at %s (medians):\n", len(got[names[0]]), callersText(callers))
	for _, name := range names {
		med[name] = median(got[name])
		m := med[name]
		fmt.Printf("  %-26s %7.0f calls/s  p50 %s ms  p99 %s ms  CPU/call: server %s%s, broker %s, callers %s µs\n", name, m.PerSec, ms(m.P50), ms(m.P99), us(m.ServerCPU), handlersPart(m), us(m.BrokerCPU), us(m.LoadCPU))
	}
	return med
}

// handlersPart is " (handlers H)", the part of a server's CPU time spent
// in its handler processes, for a server that has some; empty otherwise.
func handlersPart(r result) string {
	if r.HandlerCPU < 0.5 {
		return ""
	}
	return " (handlers " + us(r.HandlerCPU) + ")"
}

// consumerRatios prints the ratios of the consumer's rounds: a dead log
// server against none, and the consumer against the bare baseline.
func consumerRatios(got map[string][]result, med map[string]result, baseline string) {
	deadLog, deadLogRounds := pairedRatio(got["consumer-dead-log-server"], got["consumer-go"])
	consumer, consumerRounds := pairedRatio(got["consumer-go"], got[baseline])
	fmt.Printf("bench: dead-log-server/consumer by round: %s\n", ratios(deadLogRounds))
	fmt.Printf("bench: dead-log-server/consumer = %.2f calls/s (median of the rounds), p50 %s vs %s ms, p99 %s vs %s ms (medians)\n",
		deadLog, ms(med["consumer-dead-log-server"].P50), ms(med["consumer-go"].P50), ms(med["consumer-dead-log-server"].P99), ms(med["consumer-go"].P99))
	fmt.Printf("bench: consumer/%s by round: %s\n", baseline, ratios(consumerRounds))
	fmt.Printf("bench: consumer/%s = %.2f (go handler, 64 callers, calls/s)\n", baseline, consumer)
}
