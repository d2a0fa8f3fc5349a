package runner

import (
	"os"
	"runtime"
	"strconv"

	"github.com/rs/zerolog"
)

// relayCPUShare is the share of the CPUs (one in relayCPUShare) whose
// threads run the Go code of a consumer that only relays requests to
// persistent handler processes.
//
// Such a consumer needs little CPU of its own, and its handler processes
// and the broker, often on the same host, need the rest. With as many
// threads as CPUs, the Go scheduler wakes an idle thread on another CPU
// at each hand-over between goroutines (delivery, worker, pipe, socket)
// and parks it again, at a cost in CPU per request that one thread avoids
// (docs/benchmarks.md). With a Go handler, the handler's own code runs in
// the consumer, and with one-shot handlers the consumer starts a process
// per request: both keep every CPU, as one thread cuts one-shot handlers'
// throughput.
const relayCPUShare = 4

// relayThreads is the GOMAXPROCS a consumer gets, given whether it only
// relays requests to persistent handler processes (see
// consumer.Consumer.RelaysOnly), the environment's GOMAXPROCS (env: a
// number above 0, which the runtime took, is the operator's choice and
// wins; the runtime ignores any other) and the Go runtime's own choice
// (procs: the CPUs, or the cgroup's CPU limit). 0 leaves the runtime's
// choice.
func relayThreads(relaysOnly bool, env string, procs int) int {
	if n, err := strconv.Atoi(env); !relaysOnly || (err == nil && n > 0) {
		return 0
	}
	n := max(procs/relayCPUShare, 1)
	if n >= procs {
		return 0
	}
	return n
}

// limitThreads applies relayThreads to the running process, and says so.
func limitThreads(relaysOnly bool, log zerolog.Logger) {
	procs := runtime.GOMAXPROCS(0)
	n := relayThreads(relaysOnly, os.Getenv("GOMAXPROCS"), procs)
	if n == 0 {
		return
	}
	runtime.GOMAXPROCS(n)
	log.Info().Int("gomaxprocs", n).Int("cpus", procs).
		Msgf("every handler runs in persistent processes of its own: the consumer runs its Go code on %d of %d CPUs at once, leaving the rest to them (GOMAXPROCS in its environment chooses otherwise)", n, procs)
}
