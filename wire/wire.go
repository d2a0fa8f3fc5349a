// Package wire holds the RPC wire contract shared by the consumer and the
// client: the response envelope, the fixed failure bodies and the AMQP
// properties both sides rely on.
package wire

import "encoding/json"

// ContentType is the content type of every request and response.
const ContentType = "application/json"

// DirectReplyTo is RabbitMQ's direct reply-to pseudo-queue. A reply_to that
// starts with it is answered through the default exchange.
const DirectReplyTo = "amq.rabbitmq.reply-to"

// DeadlineHeader is an optional request header: the caller's deadline in
// Unix milliseconds. The broker drops a request whose expiration passes in
// the queue; the consumer also does not start a request it received in time
// but could not start before this deadline, since nobody waits for it.
const DeadlineHeader = "x-deadline"

// The fixed messages of failure responses.
const (
	MessageValidationFailed = "Request validation failed"
	MessageUnexpectedError  = "An unexpected error occurred"
)

// Reply is the response envelope with typed data.
type Reply[T any] struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
	Data    T      `json:"data"`
}

// Response is the response envelope as it travels: data is raw JSON.
type Response = Reply[json.RawMessage]

// ValidationError is one entry of a validation failure's data.errors.
type ValidationError struct {
	// Location is the JSON path of the offending value: object keys as
	// strings, array indexes as integers, e.g. ["items", 2, "name"].
	Location []any `json:"location"`
	// Message says what is wrong, for a person.
	Message string `json:"message"`
	// Type is a stable machine-readable kind, e.g. "missing", "enum", "type".
	Type string `json:"type"`
}

// ValidationErrors is the data of a validation failure.
type ValidationErrors struct {
	Errors []ValidationError `json:"errors"`
}

// ValidationFailure is the response to a request that failed validation.
func ValidationFailure(errs []ValidationError) Reply[ValidationErrors] {
	if errs == nil {
		errs = []ValidationError{}
	}
	return Reply[ValidationErrors]{Message: MessageValidationFailed, Data: ValidationErrors{Errors: errs}}
}

// UnexpectedFailure is the response to a request whose handling failed in
// any unexpected way. Its details go to the log, never to the caller.
func UnexpectedFailure() Response {
	return Response{Message: MessageUnexpectedError, Data: json.RawMessage("null")}
}

// IsDirectReplyTo reports whether replyTo names a direct reply-to queue.
func IsDirectReplyTo(replyTo string) bool {
	return len(replyTo) >= len(DirectReplyTo) && replyTo[:len(DirectReplyTo)] == DirectReplyTo
}
