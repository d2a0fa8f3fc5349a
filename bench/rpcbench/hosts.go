package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The cost of locks_across_hosts: the Go echo consumer (consumer-go) as
// one instance and as two instances of the same virtual host, each with
// its own configuration and state directory, with locks_across_hosts off
// and on. Every request has a lock value of its own, so that with the
// setting on each takes a lease (an exclusive queue declared and deleted)
// and publishes its outcome to the outcomes stream with a confirm.

// Scenarios of the hosts ratio set.
const (
	twoInstances      = "consumer-go-x2"
	acrossHosts       = "across-hosts"
	acrossHostsTwoIns = "across-hosts-x2"
)

// instances is the number of consumer instances a scenario runs; one
// when absent.
var instances = map[string]int{twoInstances: 2, acrossHostsTwoIns: 2}

// hostsScenarios are the scenarios of the hosts ratio set but
// consumer-go: consumer-go with locks_across_hosts on, and both as two
// instances.
func hostsScenarios(goConsumer scenario) map[string]scenario {
	across := withVHostKeys(goConsumer, "    locks_across_hosts: true\n")
	return map[string]scenario{twoInstances: goConsumer, acrossHosts: across, acrossHostsTwoIns: across}
}

// withVHostKeys adds keys to the virtual host of the configuration that
// sc writes (its last section).
func withVHostKeys(sc scenario, keys string) scenario {
	return func(dir, vhost, queue string, prefetch int) (*exec.Cmd, error) {
		cmd, err := sc(dir, vhost, queue, prefetch)
		if err != nil {
			return nil, err
		}
		f, err := os.OpenFile(filepath.Join(dir, "rabbitmq.yml"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		if _, err := f.WriteString(keys); err != nil {
			_ = f.Close()
			return nil, err
		}
		return cmd, f.Close()
	}
}

// startMore starts the scenario's instances after the first, each in a
// directory of its own under dir, and waits until each consumes. The
// returned function stops them.
func startMore(name string, sc scenario, dir, vhost, queue string, prefetch int) (func(), error) {
	var cmds []*exec.Cmd
	stop := func() {
		for _, cmd := range cmds {
			_ = cmd.Process.Signal(os.Interrupt)
			_ = cmd.Wait()
		}
	}
	for k := 2; k <= instances[name]; k++ {
		sub := filepath.Join(dir, fmt.Sprintf("instance-%d", k))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			stop()
			return nil, err
		}
		cmd, err := sc(sub, vhost, queue, prefetch)
		if err != nil {
			stop()
			return nil, err
		}
		var last tail
		cmd.Stderr = &last
		if err := cmd.Start(); err != nil {
			stop()
			return nil, err
		}
		cmds = append(cmds, cmd)
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(last.String(), `"message":"consuming"`) {
			if time.Now().After(deadline) {
				stop()
				return nil, fmt.Errorf("instance %d does not consume within 30s; its stderr ends with: %s", k, last.String())
			}
			time.Sleep(50 * time.Millisecond) // polling its log, with a deadline
		}
	}
	return stop, nil
}

// hosts runs the rounds of one and two instances, locks_across_hosts
// off and on, at 64 callers, and prints their ratios.
func (rr roundsRun) hosts() {
	names := []string{"consumer-go", twoInstances, acrossHosts, acrossHostsTwoIns}
	got := rr.at(names, 64)
	printMedians(names, got, 64)
	fmt.Println("  (the server CPU of the -x2 scenarios is their first instance's only)")
	for _, p := range []struct{ a, b, what string }{
		{twoInstances, "consumer-go", "two instances vs one, locks_across_hosts off"},
		{acrossHostsTwoIns, acrossHosts, "two instances vs one, locks_across_hosts on"},
		{acrossHosts, "consumer-go", "locks_across_hosts on vs off, one instance"},
		{acrossHostsTwoIns, twoInstances, "locks_across_hosts on vs off, two instances"},
	} {
		r, byRound := pairedRatio(got[p.a], got[p.b])
		fmt.Printf("bench: %s/%s by round: %s\n", p.a, p.b, ratios(byRound))
		fmt.Printf("bench: %s/%s = %.2f (%s, 64 callers, calls/s)\n", p.a, p.b, r, p.what)
	}
}
