package wire

import "encoding/json"

// Progress messages: while a handler runs, the consumer may publish
// progress updates to the caller's reply_to, with the request's
// correlation id, before the reply. A caller that waits for the first
// message with its correlation id (the reference client) would take an
// update for the reply, so updates are sent only to a caller that asks for
// them with AcceptProgressHeader. Each update is marked twice: the
// ProgressHeader header and the message type ProgressType.
const (
	// AcceptProgressHeader is the request header (any true value: 1,
	// true, "1", "true") by which a caller asks for progress updates.
	AcceptProgressHeader = "x-rpc-accept-progress"
	// ProgressHeader is set to 1 on every progress update; a reply never
	// carries it.
	ProgressHeader = "x-rpc-progress"
	// ProgressType is the AMQP type property of every progress update.
	ProgressType = "progress"
)

// Progress is one progress update of a running request: the body of a
// progress message, and the "progress" object of the persistent handler
// protocol's progress line.
type Progress struct {
	// State is a short word for the phase, e.g. "Building".
	State string `json:"state"`
	// Message says what happens, for a person.
	Message string `json:"message"`
	// Percent is how much is done, 0 to 100, when the handler knows.
	Percent *float64 `json:"percent,omitempty"`
	// Data is any JSON the handler adds, or absent.
	Data json.RawMessage `json:"data,omitempty"`
}

// Percentage is a helper for Progress.Percent.
func Percentage(p float64) *float64 { return &p }

// TrueHeader reports whether a header value is true: 1, true, "1" or
// "true" (AMQP clients encode a flag in any of these).
func TrueHeader(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case int8:
		return x == 1
	case int16:
		return x == 1
	case int32:
		return x == 1
	case int64:
		return x == 1
	case int:
		return x == 1
	case uint8:
		return x == 1
	case string:
		return x == "1" || x == "true"
	}
	return false
}
