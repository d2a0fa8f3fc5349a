// Command rabbitmq-consumer-status is a Nagios-style check over all
// rabbitmq-consume@*.service units. It prints one line (or, with --json, a
// JSON document) and exits 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/manual"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/statuscheck"
)

func main() {
	asJSON := flag.Bool("json", false, "print the verdict and every unit as JSON")
	timeout := flag.Duration("timeout", 10*time.Second, "how long to wait for systemd")
	flag.Usage = manual.Usage(flag.CommandLine, page)
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	var v statuscheck.Verdict
	if units, err := statuscheck.Discover(ctx); err != nil {
		v = statuscheck.Unreachable(err)
	} else {
		v = statuscheck.Judge(units)
	}
	if *asJSON {
		b, _ := json.MarshalIndent(v, "", "  ")
		fmt.Println(string(b))
	} else {
		fmt.Println(v.Line())
	}
	os.Exit(v.Code)
}
