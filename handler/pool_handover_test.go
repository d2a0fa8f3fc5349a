package handler

import (
	"runtime"
	"testing"
)

// holdScript answers every request line; one that says "hold" after 20 ms.
const holdScript = `echo '{"protocol": "rabbitmq-consumer/1"}'
while IFS= read -r line; do
  cid=${line#*\"correlation_id\":\"}; cid=${cid%%\"*}
  case "$line" in *'"hold"'*) sleep 0.02;; esac
  printf '{"correlation_id":"%s","response":{"pid":%s,"n":0}}\n' "$cid" "$$"
done`

// TestPoolHandOver checks that a request waiting for a process gets it,
// and sends its request, before the request that gave the process back
// goes on: under load a process serves one request after another while
// the previous one is answered, instead of waiting for it. On one thread
// the order is the scheduler's to keep, bar its fairness check (one pick
// in 61 from the global queue): most hand-overs, not all, must go first.
// A run in which the holding request ended before the next one waited (a
// stall of the machine) hands nothing over and is not counted.
func TestPoolHandOver(t *testing.T) {
	pl := openPool(t, holdScript, "", 1)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const runs = 20
	handOvers, first := 0, 0
	for i := 0; i < runs; i++ {
		waitingAfter := make(chan int32, 1)
		go func() {
			if _, err := call(pl, `{"do":"hold"}`); err != nil {
				t.Error(err)
			}
			waitingAfter <- pl.waiting.Load() // at once, as a request goes on to be answered
		}()
		// held waits until cond holds while the holding request runs;
		// false when that request ended first.
		held := func(cond func() bool) bool {
			for !cond() {
				if len(waitingAfter) > 0 {
					return false
				}
				runtime.Gosched()
			}
			return true
		}
		if !held(func() bool { return len(pl.idle) == 0 }) {
			<-waitingAfter
			continue
		}
		next := make(chan error, 1)
		go func() {
			_, err := call(pl, `{}`)
			next <- err
		}()
		if held(func() bool { return pl.waiting.Load() >= 1 }) {
			handOvers++
			if <-waitingAfter == 0 {
				first++
			}
		} else {
			<-waitingAfter
		}
		if err := <-next; err != nil {
			t.Fatal(err)
		}
	}
	if handOvers < runs/2 {
		t.Fatalf("only %d of %d runs handed the process over; the machine is too busy to tell", handOvers, runs)
	}
	if first < handOvers*3/4 {
		t.Errorf("the waiting request took the process first in %d of %d hand-overs, want at least %d", first, handOvers, handOvers*3/4)
	}
}
