package logservertest

import (
	"encoding/json"
	"strings"
)

// fieldError is one entry of a FastAPI 422 answer.
type fieldError struct {
	Type  string `json:"type"`
	Loc   []any  `json:"loc"`
	Msg   string `json:"msg"`
	Input any    `json:"input"`
}

func detailJSON(errs []fieldError) string {
	b, _ := json.Marshal(map[string]any{"detail": errs})
	return string(b)
}

// fieldType is what the reference's Pydantic model takes for a field.
type fieldType int

const (
	uuid4Field    fieldType = iota // UUID4
	stringField                    // str
	objectOrArray                  // dict | list
	objectField                    // dict
	stringOrNull                   // Optional[str], no default: required
)

type field struct {
	name string
	typ  fieldType
}

// The reference's models, in their declaration order.
var (
	requestFields = []field{{"correlation_id", uuid4Field}, {"request_payload", objectOrArray}, {"virtual_host_name", stringField},
		{"queue_name", stringField}, {"exchange_name", stringField}, {"hostname", stringField}, {"rabbitmq_username", stringField}}
	responseFields = []field{{"correlation_id", uuid4Field}, {"response_payload", objectField}, {"traceback", stringOrNull}}
)

// validate checks a decoded body against a model, appending to errs.
func validate(doc any, hasBody bool, fields []field, errs []fieldError) (map[string]any, []fieldError) {
	if !hasBody {
		return nil, append(errs, fieldError{Type: "missing", Loc: []any{"body"}, Msg: "Field required", Input: nil})
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, append(errs, fieldError{Type: "model_attributes_type", Loc: []any{"body"}, Msg: "Input should be a valid dictionary or object to extract fields from", Input: doc})
	}
	for _, f := range fields {
		v, present := obj[f.name]
		loc := []any{"body", f.name}
		if !present {
			errs = append(errs, fieldError{Type: "missing", Loc: loc, Msg: "Field required", Input: obj})
			continue
		}
		switch f.typ {
		case uuid4Field:
			s, isStr := v.(string)
			switch {
			case !isStr:
				errs = append(errs, fieldError{Type: "uuid_type", Loc: loc, Msg: "UUID input should be a string, bytes or UUID object", Input: v})
			case !isUUID(s):
				errs = append(errs, fieldError{Type: "uuid_parsing", Loc: loc, Msg: "Input should be a valid UUID", Input: v})
			case canonical(s)[14] != '4':
				errs = append(errs, fieldError{Type: "uuid_version", Loc: loc, Msg: "UUID version 4 expected", Input: v})
			}
		case stringField:
			if _, isStr := v.(string); !isStr {
				errs = append(errs, fieldError{Type: "string_type", Loc: loc, Msg: "Input should be a valid string", Input: v})
			}
		case stringOrNull:
			if _, isStr := v.(string); !isStr && v != nil {
				errs = append(errs, fieldError{Type: "string_type", Loc: loc, Msg: "Input should be a valid string", Input: v})
			}
		case objectField:
			if _, isObj := v.(map[string]any); !isObj {
				errs = append(errs, fieldError{Type: "dict_type", Loc: loc, Msg: "Input should be a valid dictionary", Input: v})
			}
		case objectOrArray:
			_, isObj := v.(map[string]any)
			_, isArr := v.([]any)
			if !isObj && !isArr {
				errs = append(errs,
					fieldError{Type: "dict_type", Loc: append(loc, "dict[any,any]"), Msg: "Input should be a valid dictionary", Input: v},
					fieldError{Type: "list_type", Loc: append(loc[:2:2], "list[any]"), Msg: "Input should be a valid list", Input: v})
			}
		}
	}
	return obj, errs
}

// isUUID tells whether s parses as a UUID in one of the forms the uuid
// crate under pydantic-core takes: 32 hex digits, hyphenated, braced, or
// urn:uuid:.
func isUUID(s string) bool {
	switch {
	case len(s) == 45 && strings.EqualFold(s[:9], "urn:uuid:"):
		s = s[9:]
	case len(s) == 38 && s[0] == '{' && s[37] == '}':
		s = s[1:37]
	}
	switch len(s) {
	case 32:
		return allHex(s)
	case 36:
		for _, i := range []int{8, 13, 18, 23} {
			if s[i] != '-' {
				return false
			}
		}
		return allHex(strings.ReplaceAll(s, "-", ""))
	}
	return false
}

func allHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// canonical is the form the reference stores a UUID in (str(UUID)): lower
// case, hyphenated. A string that is not a UUID is returned lower-cased.
func canonical(s string) string {
	if !isUUID(s) {
		return strings.ToLower(s)
	}
	h := strings.ToLower(s)
	h = strings.TrimPrefix(h, "urn:uuid:")
	h = strings.Trim(h, "{}")
	h = strings.ReplaceAll(h, "-", "")
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
