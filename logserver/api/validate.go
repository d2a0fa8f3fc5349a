package api

import (
	"bytes"
	"encoding/json"
	"mime"
	"strings"
	"time"
)

// fieldError is one entry of a 422 answer, in FastAPI's (Pydantic's) form.
type fieldError struct {
	Type  string `json:"type"`
	Loc   []any  `json:"loc"`
	Msg   string `json:"msg"`
	Input any    `json:"input"`
}

// kind is what a body field takes.
type kind int

const (
	idField       kind = iota // a non-empty string (any correlation id)
	stringField               // a string
	objectOrArray             // a JSON object or array
	objectField               // a JSON object
	stringOrNull              // a string or null, but present
	timeField                 // an RFC 3339 time, as a string
	numberOrNull              // a number or null
	anyValue                  // any JSON value
)

type field struct {
	name string
	kind kind
	// optional fields may be absent.
	optional bool
}

// The bodies' fields, in the reference's declaration order (the order of
// its 422 errors).
var (
	requestFields = []field{{"correlation_id", idField, false}, {"request_payload", objectOrArray, false}, {"virtual_host_name", stringField, false},
		{"queue_name", stringField, false}, {"exchange_name", stringField, false}, {"hostname", stringField, false}, {"rabbitmq_username", stringField, false}}
	responseFields = []field{{"correlation_id", idField, false}, {"response_payload", objectField, false}, {"traceback", stringOrNull, false}}
	progressFields = []field{{"correlation_id", idField, false}, {"time", timeField, false}, {"state", stringField, false}, {"message", stringField, false},
		{"percent", numberOrNull, true}, {"data", anyValue, true}}
)

// jsonContentType tells whether a body of this Content-Type is read as
// JSON, as FastAPI does: none, application/json or application/*+json.
func jsonContentType(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// decodeBody parses a body as one JSON value; ok false when it is not JSON.
// A body that is empty, or not of a JSON Content-Type, decodes to nothing
// (present false), which validation reports as a missing body.
func decodeBody(raw []byte, contentType string) (doc any, present, ok bool) {
	if len(bytes.TrimSpace(raw)) == 0 || !jsonContentType(contentType) {
		return nil, false, true
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&doc); err != nil {
		return nil, false, false
	}
	if _, err := d.Token(); err == nil {
		return nil, false, false // more than one value
	}
	return doc, true, true
}

// jsonInvalid is the 422 entry of a body that is not JSON.
var jsonInvalid = fieldError{Type: "json_invalid", Loc: []any{"body", 0}, Msg: "JSON decode error", Input: map[string]any{}}

// validate checks a decoded body against fields and appends what is wrong.
func validate(doc any, present bool, fields []field, errs []fieldError) []fieldError {
	if !present {
		return append(errs, fieldError{Type: "missing", Loc: []any{"body"}, Msg: "Field required", Input: nil})
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return append(errs, fieldError{Type: "model_attributes_type", Loc: []any{"body"},
			Msg: "Input should be a valid dictionary or object to extract fields from", Input: doc})
	}
	for _, f := range fields {
		v, present := obj[f.name]
		loc := []any{"body", f.name}
		if !present {
			if !f.optional {
				errs = append(errs, fieldError{Type: "missing", Loc: loc, Msg: "Field required", Input: obj})
			}
			continue
		}
		if e, bad := checkField(f.kind, v, loc); bad {
			errs = append(errs, e...)
		}
	}
	return errs
}

// checkField checks one present field.
func checkField(k kind, v any, loc []any) ([]fieldError, bool) {
	str, isStr := v.(string)
	if isStr && strings.ContainsRune(str, 0) {
		// Neither database keeps a NUL in a text column.
		return []fieldError{{Type: "string_pattern_mismatch", Loc: loc, Msg: "String should not contain a NUL character", Input: v}}, true
	}
	_, isObj := v.(map[string]any)
	_, isArr := v.([]any)
	switch k {
	case idField:
		if !isStr {
			return []fieldError{{Type: "string_type", Loc: loc, Msg: "Input should be a valid string", Input: v}}, true
		}
		if str == "" {
			return []fieldError{{Type: "string_too_short", Loc: loc, Msg: "String should have at least 1 character", Input: v}}, true
		}
	case stringField:
		if !isStr {
			return []fieldError{{Type: "string_type", Loc: loc, Msg: "Input should be a valid string", Input: v}}, true
		}
	case timeField:
		if !isStr {
			return []fieldError{{Type: "datetime_type", Loc: loc, Msg: "Input should be a valid datetime", Input: v}}, true
		}
		if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
			return []fieldError{{Type: "datetime_from_date_parsing", Loc: loc, Msg: "Input should be a valid datetime (RFC 3339)", Input: v}}, true
		}
	case numberOrNull:
		if _, isNum := v.(json.Number); !isNum && v != nil {
			return []fieldError{{Type: "float_type", Loc: loc, Msg: "Input should be a valid number", Input: v}}, true
		}
	case stringOrNull:
		if !isStr && v != nil {
			return []fieldError{{Type: "string_type", Loc: loc, Msg: "Input should be a valid string", Input: v}}, true
		}
	case objectField:
		if !isObj {
			return []fieldError{{Type: "dict_type", Loc: loc, Msg: "Input should be a valid dictionary", Input: v}}, true
		}
	case objectOrArray:
		if !isObj && !isArr {
			return []fieldError{
				{Type: "dict_type", Loc: append(loc[:2:2], "dict[any,any]"), Msg: "Input should be a valid dictionary", Input: v},
				{Type: "list_type", Loc: append(loc[:2:2], "list[any]"), Msg: "Input should be a valid list", Input: v},
			}, true
		}
	}
	return nil, false
}
