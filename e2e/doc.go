// Package e2e tests the rabbitmq-consumer binary as operators run it: a
// real process on a real broker, driven by real signals, observed through
// its exit status, its log, its replies, the sd_notify socket and the
// invocations its handlers record.
package e2e
