package logship

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// ErrUnauthorized is returned when the log server rejects the API token:
// shipping stops, since no record would ever be accepted.
var ErrUnauthorized = errors.New("the log server rejected the API token (401): check log_server.api_token")

// outcome of one post.
type outcome int

const (
	posted   outcome = iota // 201
	rejected                // 4xx other than 401: the record would never be accepted
	retry                   // 5xx, other statuses, network errors: try again later
)

// requestBody and responseBody are the log server API's bodies.
type requestBody struct {
	CorrelationID    string          `json:"correlation_id"`
	RequestPayload   json.RawMessage `json:"request_payload"`
	VirtualHostName  string          `json:"virtual_host_name"`
	QueueName        string          `json:"queue_name"`
	RabbitMQUsername string          `json:"rabbitmq_username"`
	Hostname         string          `json:"hostname"`
	ExchangeName     string          `json:"exchange_name"`
}

type responseBody struct {
	CorrelationID   string          `json:"correlation_id"`
	ResponsePayload json.RawMessage `json:"response_payload"`
	Traceback       *string         `json:"traceback"`
}

// endpoint and body of a record.
func apiCall(rec Record) (string, any, error) {
	switch rec.Kind {
	case KindRequest:
		return "rpc-requests", requestBody{rec.CorrelationID, orNull(rec.RequestPayload), rec.VirtualHostName, rec.QueueName, rec.RabbitMQUsername, rec.Hostname, rec.ExchangeName}, nil
	case KindResponse:
		return "rpc-responses", responseBody{rec.CorrelationID, orNull(rec.ResponsePayload), rec.Traceback}, nil
	}
	return "", nil, fmt.Errorf("unknown record kind %q", rec.Kind)
}

func orNull(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return b
}

// post sends one record; detail says what the server answered.
func (s *Shipper) post(ctx context.Context, rec Record) (outcome, string, error) {
	path, body, err := apiCall(rec)
	if err != nil {
		return rejected, err.Error(), nil
	}
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.opts.BaseURL+path, bytes.NewReader(b))
	if err != nil {
		return rejected, err.Error(), nil
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Token", s.opts.Token)
	resp, err := s.http.Do(req)
	if err != nil {
		return retry, err.Error(), nil
	}
	defer resp.Body.Close()
	detail, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
	switch {
	case resp.StatusCode == http.StatusCreated:
		return posted, "", nil
	case resp.StatusCode == http.StatusUnauthorized:
		return rejected, string(detail), ErrUnauthorized
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests:
		return rejected, fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(detail)), nil
	default:
		return retry, fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(detail)), nil
	}
}
