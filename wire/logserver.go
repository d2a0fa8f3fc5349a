package wire

import "encoding/json"

// The log server API's paths, relative to its base URL (the reference log
// server's base, or /api/v1 on rabbitmq-consumer-log-server).
const (
	LogRequestsPath  = "/rpc-requests"
	LogResponsesPath = "/rpc-responses"
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
