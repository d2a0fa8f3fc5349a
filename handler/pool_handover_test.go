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
func TestPoolHandOver(t *testing.T) {
	pl := openPool(t, holdScript, "", 1)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const runs = 20
	first := 0
	for i := 0; i < runs; i++ {
		waitingAfter := make(chan int32, 1)
		go func() {
			if _, err := call(pl, `{"do":"hold"}`); err != nil {
				t.Error(err)
			}
			waitingAfter <- pl.waiting.Load() // at once, as a request goes on to be answered
		}()
		for len(pl.idle) > 0 {
			runtime.Gosched() // until the holding request has the process
		}
		next := make(chan error, 1)
		go func() {
			_, err := call(pl, `{}`)
			next <- err
		}()
		for pl.waiting.Load() < 1 {
			runtime.Gosched() // until the next request waits for the process
		}
		if <-waitingAfter == 0 {
			first++
		}
		if err := <-next; err != nil {
			t.Fatal(err)
		}
	}
	if first < runs*3/4 {
		t.Errorf("the waiting request took the process first in %d of %d hand-overs, want at least %d", first, runs, runs*3/4)
	}
}
