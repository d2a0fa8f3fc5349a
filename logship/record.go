// Package logship carries RPC request, response and progress records from the
// consumer to the central log server: the consumer appends them to a spool
// (Spool), and rabbitmq-consumer-logship follows the spool and posts them
// (Shipper), so that a slow or dead log server never slows an RPC.
package logship

import (
	"encoding/json"
	"time"
)

// Kind tells a request record from a response or a progress record.
type Kind string

// The kinds of record.
const (
	KindRequest  Kind = "request"
	KindResponse Kind = "response"
	// KindProgress is a progress update the handler reported while it
	// ran the request: posted to {base_url}/rpc-progress, an extension of
	// the reference API, after its request.
	KindProgress Kind = "progress"
)

// Record is one line of a spool file: an RPC request, response or
// progress update as the log server API takes it, plus the kind and the
// time it was written (a progress update's time, as posted).
type Record struct {
	Kind Kind      `json:"kind"`
	Time time.Time `json:"time"`

	CorrelationID string `json:"correlation_id"`

	// Request fields (POST {base_url}/rpc-requests).
	RequestPayload   json.RawMessage `json:"request_payload,omitempty"`
	VirtualHostName  string          `json:"virtual_host_name,omitempty"`
	QueueName        string          `json:"queue_name,omitempty"`
	RabbitMQUsername string          `json:"rabbitmq_username,omitempty"`
	Hostname         string          `json:"hostname,omitempty"`
	ExchangeName     string          `json:"exchange_name,omitempty"`
	// Repeat marks a request record that may be at the log server
	// already: the request ran before (it was redelivered, or runs again
	// after "retry later") and that run may have journaled it at its
	// first progress update. The log server refusing it as a duplicate
	// (500, 409) means it is there.
	Repeat bool `json:"repeat,omitempty"`

	// Response fields (POST {base_url}/rpc-responses).
	ResponsePayload json.RawMessage `json:"response_payload,omitempty"`
	// Traceback holds the details of an unexpected error (handler exit
	// status, stderr tail, panic); nil for an ordinary response.
	Traceback *string `json:"traceback,omitempty"`

	// Progress fields (POST {base_url}/rpc-progress), the handler's
	// wire.Progress.
	State   string          `json:"state,omitempty"`
	Message string          `json:"message,omitempty"`
	Percent *float64        `json:"percent,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
}
