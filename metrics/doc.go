// Package metrics defines the Prometheus metrics of the consumer and of the
// log shipper, and the HTTP handler that serves them. Every metric is
// registered on a registry the caller gives (never the global one), together
// with the Go runtime and process collectors. Labels are the virtual host and
// the exchange only: nothing unbounded, such as a correlation id.
package metrics

// Namespace prefixes every metric name.
const Namespace = "rabbitmq_consumer"
