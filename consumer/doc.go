// Package consumer is the rabbitmq-consumer framework: it consumes one
// virtual host's queue, validates each request against its exchange's
// contract (package contract), runs the exchange's handler (package
// handler) under its lock and timeout, and publishes the reply, surviving
// broker trouble without losing or repeating a request.
package consumer
