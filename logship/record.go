// Package logship carries RPC request and response records from the
// consumer to the central log server: the consumer appends them to a spool
// (Spool), and rabbitmq-consumer-logship follows the spool and posts them
// (Shipper), so that a slow or dead log server never slows an RPC.
package logship

import (
	"encoding/json"
	"time"
)

// Kind tells a request record from a response record.
type Kind string

// The kinds of record.
const (
	KindRequest  Kind = "request"
	KindResponse Kind = "response"
)

// Record is one line of a spool file: an RPC request or response as the
// log server API takes it, plus the kind and the time it was written.
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

	// Response fields (POST {base_url}/rpc-responses).
	ResponsePayload json.RawMessage `json:"response_payload,omitempty"`
	// Traceback holds the details of an unexpected error (handler exit
	// status, stderr tail, panic); nil for an ordinary response.
	Traceback *string `json:"traceback,omitempty"`
}
