package wire

import (
	"encoding/json"
	"time"
)

// The log server API's paths, relative to its base URL (the reference log
// server's base, or /api/v1 on rabbitmq-consumer-log-server).
const (
	LogRequestsPath  = "/rpc-requests"
	LogResponsesPath = "/rpc-responses"
	// LogProgressPath is this project's extension of the reference API:
	// a reference log server answers 404 there.
	LogProgressPath = "/rpc-progress"
)

// LogTokenHeader carries the log server API token.
const LogTokenHeader = "X-API-Token"

// LogRequest is the body of POST {base}/rpc-requests: one RPC request as
// the consumer received it (Fernet-decrypted values masked).
type LogRequest struct {
	CorrelationID    string          `json:"correlation_id"`
	RequestPayload   json.RawMessage `json:"request_payload"`
	VirtualHostName  string          `json:"virtual_host_name"`
	QueueName        string          `json:"queue_name"`
	RabbitMQUsername string          `json:"rabbitmq_username"`
	Hostname         string          `json:"hostname"`
	ExchangeName     string          `json:"exchange_name"`
}

// LogResponse is the body of POST {base}/rpc-responses: the response sent
// for an earlier request. Traceback holds the details of an unexpected
// error; nil (JSON null) for an ordinary response.
type LogResponse struct {
	CorrelationID   string          `json:"correlation_id"`
	ResponsePayload json.RawMessage `json:"response_payload"`
	Traceback       *string         `json:"traceback"`
}

// LogProgress is the body of POST {base}/rpc-progress: one progress update
// a handler reported while it ran an earlier request (see Progress), at
// Time, the consumer's clock. Percent and Data are null when the handler
// gave none.
type LogProgress struct {
	CorrelationID string          `json:"correlation_id"`
	Time          time.Time       `json:"time"`
	State         string          `json:"state"`
	Message       string          `json:"message"`
	Percent       *float64        `json:"percent"`
	Data          json.RawMessage `json:"data"`
}
