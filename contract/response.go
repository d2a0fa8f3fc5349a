package contract

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// errBadResponse is wrapped by every way a handler's response can break the
// envelope or its schema.
var errBadResponse = errors.New("handler response breaks the contract")

// parseResponse checks a handler's whole response object (see
// CheckResponse) and returns it.
func (c *Compiled) parseResponse(raw []byte) (wire.Response, error) {
	success, msg, data, err := c.checkEnvelope(raw)
	if err != nil {
		return wire.Response{}, err
	}
	d, err := json.Marshal(data)
	if err != nil {
		return wire.Response{}, fmt.Errorf("%w: %v", errBadResponse, err)
	}
	return wire.Response{Success: success, Message: msg, Data: d}, nil
}

// CheckResponse parses a handler's whole response object and checks it:
// exactly success (bool), message (string) and data; on success, data must
// match the response schema.
func (c *Compiled) CheckResponse(raw []byte) error {
	_, _, _, err := c.checkEnvelope(raw)
	return err
}

// checkEnvelope is CheckResponse, returning the parts of the response.
func (c *Compiled) checkEnvelope(raw []byte) (success bool, msg string, data any, err error) {
	if te := scanText(raw); te != nil {
		return false, "", nil, fmt.Errorf("%w: %v", errBadResponse, te)
	}
	v, err := decodeAny(raw)
	if err != nil {
		return false, "", nil, fmt.Errorf("%w: not valid JSON: %v", errBadResponse, err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return false, "", nil, fmt.Errorf("%w: not a JSON object", errBadResponse)
	}
	var extra []string
	for k := range obj {
		if k != "success" && k != "message" && k != "data" {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return false, "", nil, fmt.Errorf("%w: unknown keys %s", errBadResponse, strings.Join(extra, ", "))
	}
	success, ok = obj["success"].(bool)
	if !ok {
		return false, "", nil, fmt.Errorf("%w: \"success\" must be a boolean", errBadResponse)
	}
	msg, ok = obj["message"].(string)
	if !ok {
		return false, "", nil, fmt.Errorf("%w: \"message\" must be a string", errBadResponse)
	}
	data, present := obj["data"]
	if !present {
		return false, "", nil, fmt.Errorf("%w: \"data\" is missing", errBadResponse)
	}
	if success {
		if errs := c.response.check(data); len(errs) > 0 {
			parts := make([]string, 0, len(errs))
			for _, e := range errs {
				parts = append(parts, fmt.Sprintf("data%v: %s", e.Location, e.Message))
			}
			return false, "", nil, fmt.Errorf("%w: %s", errBadResponse, strings.Join(parts, "; "))
		}
	}
	return success, msg, data, nil
}
