package handlerproto

import (
	"encoding/json"
	"fmt"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// Reply is a response with data marshalled to JSON: a json.RawMessage or
// []byte is taken as JSON as it is, nil is null.
func Reply(success bool, message string, data any) (wire.Response, error) {
	r := wire.Response{Success: success, Message: message}
	switch d := data.(type) {
	case json.RawMessage:
		r.Data = d
	case []byte:
		r.Data = d
	default:
		b, err := json.Marshal(data)
		if err != nil {
			return wire.Response{}, fmt.Errorf("marshal the response's data: %w", err)
		}
		r.Data = b
	}
	return r, nil
}

// unexpected is the response to a request its handler failed.
func unexpected() wire.Response {
	return wire.Response{Message: wire.MessageUnexpectedError, Data: json.RawMessage("null")}
}

// responseLine is a response line.
type responseLine struct {
	CorrelationID string        `json:"correlation_id"`
	Response      wire.Response `json:"response"`
}

// encodeResponse is the response line for a request, ended by "\n".
func encodeResponse(correlationID string, r wire.Response) ([]byte, error) {
	if len(r.Data) == 0 {
		r.Data = json.RawMessage("null")
	}
	b, err := json.Marshal(responseLine{CorrelationID: correlationID, Response: r})
	if err != nil {
		return nil, fmt.Errorf("marshal the response: %w", err)
	}
	return append(b, '\n'), nil
}
