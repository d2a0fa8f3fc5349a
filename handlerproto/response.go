package handlerproto

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

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

// appendResponse appends the response line for a request, ended by
// "\n": r's data compacted (no "\n" inside), null when it has none, an
// error when it is not JSON.
func appendResponse(b []byte, correlationID string, r wire.Response) ([]byte, error) {
	data := r.Data
	if len(data) == 0 {
		data = json.RawMessage("null")
	}
	start := len(b)
	b = append(b, `{"correlation_id":`...)
	b = appendString(b, correlationID)
	b = append(b, `,"response":{"success":`...)
	b = strconv.AppendBool(b, r.Success)
	b = append(b, `,"message":`...)
	b = appendString(b, r.Message)
	b = append(b, `,"data":`...)
	buf := bytes.NewBuffer(b)
	if err := json.Compact(buf, data); err != nil {
		return b[:start], fmt.Errorf("marshal the response's data: %w", err)
	}
	return append(buf.Bytes(), "}}\n"...), nil
}

// appendString appends s as a JSON string: as it is when it holds only
// printable ASCII that needs no escape, else as encoding/json writes it.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
