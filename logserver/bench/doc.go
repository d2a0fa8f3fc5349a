// Package bench measures rabbitmq-consumer-log-server with the real
// binaries (make bench-logserver): ingest through the real shipper, and
// the p99 of the GUI's queries over 1,000,000 stored pairs, with the
// server's peak RSS under each. Its code is in its tests.
package bench
