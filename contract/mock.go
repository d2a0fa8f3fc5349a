package contract

import (
	"encoding/json"
	"reflect"
	"sort"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// MockMessage is the message of a response generated in mock mode.
const MockMessage = "Mock response"

// MockResponse answers req without running a handler: the response of the
// contract example whose request equals req, else the first example's, else
// a response generated to satisfy the response schema.
func (c *Compiled) MockResponse(req map[string]any) (wire.Response, error) {
	var first json.RawMessage
	for _, ex := range c.contract.Examples {
		exReq, err := decodeObject(ex.Request)
		if err != nil {
			continue
		}
		c.defaults.apply(exReq)
		if first == nil {
			first = ex.Response
		}
		if reflect.DeepEqual(normalize(exReq), normalize(req)) {
			return c.parseResponse(ex.Response)
		}
	}
	if first != nil {
		return c.parseResponse(first)
	}
	var schema any
	if err := json.Unmarshal(c.contract.Response, &schema); err != nil {
		return wire.Response{}, err
	}
	data, err := json.Marshal(generate(schema, 0))
	if err != nil {
		return wire.Response{}, err
	}
	resp, err := json.Marshal(wire.Response{Success: true, Message: MockMessage, Data: data})
	if err != nil {
		return wire.Response{}, err
	}
	return c.parseResponse(resp)
}

func normalize(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// generate makes a value that satisfies the common shapes of a schema:
// const, default, examples, enum, then the type's simplest value within its
// bounds; objects get their required properties.
func generate(schema any, depth int) any {
	s, ok := schema.(map[string]any)
	if !ok || depth > 16 {
		return nil
	}
	if v, ok := s["const"]; ok {
		return v
	}
	if v, ok := s["default"]; ok {
		return v
	}
	if ex, ok := s["examples"].([]any); ok && len(ex) > 0 {
		return ex[0]
	}
	if enum, ok := s["enum"].([]any); ok && len(enum) > 0 {
		return enum[0]
	}
	for _, k := range []string{"oneOf", "anyOf", "allOf"} {
		if alts, ok := s[k].([]any); ok && len(alts) > 0 {
			return generate(alts[0], depth+1)
		}
	}
	typ := s["type"]
	if list, ok := typ.([]any); ok && len(list) > 0 {
		typ = list[0]
	}
	switch typ {
	case "object":
		obj := map[string]any{}
		props, _ := s["properties"].(map[string]any)
		req, _ := s["required"].([]any)
		for _, r := range req {
			name, _ := r.(string)
			obj[name] = generate(props[name], depth+1)
		}
		if len(req) == 0 {
			names := make([]string, 0, len(props))
			for n := range props {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				obj[n] = generate(props[n], depth+1)
			}
		}
		return obj
	case "array":
		n, _ := s["minItems"].(float64)
		arr := make([]any, int(n))
		for i := range arr {
			arr[i] = generate(s["items"], depth+1)
		}
		return arr
	case "string":
		n, _ := s["minLength"].(float64)
		str := "string"
		for len(str) < int(n) {
			str += "-"
		}
		return str
	case "integer", "number":
		if m, ok := s["minimum"].(float64); ok {
			return m
		}
		if m, ok := s["exclusiveMinimum"].(float64); ok {
			return m + 1
		}
		if m, ok := s["maximum"].(float64); ok && m < 0 {
			return m
		}
		return 0
	case "boolean":
		return false
	case "null":
		return nil
	}
	return nil
}
