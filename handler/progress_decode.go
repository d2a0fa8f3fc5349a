package handler

import (
	"encoding/json"
	"errors"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// errNotProgress says a progress update is not one: the same check for a
// persistent handler's progress line and a one-shot handler's line on its
// progress pipe.
var errNotProgress = errors.New(`not a progress object {"state": string, "message": string, "percent": number, "data": ...}`)

// decodeProgress decodes one progress update, a JSON object with the
// fields of wire.Progress.
func decodeProgress(raw []byte) (wire.Progress, error) {
	var p wire.Progress
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &p) != nil {
		return wire.Progress{}, errNotProgress
	}
	return p, nil
}
