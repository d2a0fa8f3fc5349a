package consumer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/wait"
)

// Leases: with virtual_hosts.<vhost>.locks_across_hosts, a lock key held
// in-process is also held across every consumer instance of the virtual
// host, as a lease: an exclusive queue named after the key, declared on a
// connection kept for leases. The broker lets one connection at a time
// hold an exclusive queue; another connection's declaration fails with
// 405 RESOURCE_LOCKED, and it tries again after a short delay. The holder
// deletes the queue once the run's outcome is recorded; a holder whose
// connection dies loses its leases, as the broker deletes the exclusive
// queues of a closed connection.

// Lease retry delays: the first wait after a refused lease, and the longest.
const (
	leaseRetryMin = 2 * time.Millisecond
	leaseRetryMax = 100 * time.Millisecond
)

// leaseQueue is the name of the queue that is the lease on lock key key
// (see route.lockKey) for the virtual host's queue: the queue's name, then
// ".lock.", then the first 16 bytes of the key's SHA-256 in hex (lock
// values may be long or hold any character; a queue name may not).
func leaseQueue(queue, key string) string {
	h := sha256.Sum256([]byte(key))
	return queue + ".lock." + hex.EncodeToString(h[:16])
}

// leaseDelay is the wait before attempt n+1 (n ≥ 1) to take a lease that
// another instance holds: leaseRetryMin doubling, capped at leaseRetryMax.
func leaseDelay(n int) time.Duration {
	return Backoff{Min: leaseRetryMin, Max: leaseRetryMax}.ceiling(n)
}

// waitRetry waits leaseDelay(n) before another try (of a lease, or of the
// outcomes stream), or until ctx ends (false).
func waitRetry(ctx context.Context, n int) bool {
	return wait.Sleep(ctx, leaseDelay(n))
}

// leaseHeld tells whether err is the broker's refusal of a lease another
// connection holds: 405 RESOURCE_LOCKED.
func leaseHeld(err error) bool {
	var ae *amqp.Error
	return errors.As(err, &ae) && ae.Code == amqp.ResourceLocked
}

// leaseNodes are the broker nodes a lease connection is tried on, in
// order, for a consumer connected to node: with several nodes, the others
// first, from the one after node in addrs (server.hosts) on, and node
// itself last. So the loss of one node never takes both the channel a
// request came on and the lease it holds: a request whose run finished
// keeps its lease until its outcome is published on the consumer's next
// node, and its copy, delivered again elsewhere, waits for it and is
// answered from it.
func leaseNodes(addrs []string, node string) []string {
	at := -1
	for i, a := range addrs {
		if a == node {
			at = i
			break
		}
	}
	if at < 0 {
		return append([]string{node}, addrs...)
	}
	out := make([]string, 0, len(addrs))
	for i := 1; i <= len(addrs); i++ {
		out = append(out, addrs[(at+i)%len(addrs)])
	}
	return out
}
