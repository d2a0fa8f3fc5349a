package contract

import (
	"unicode/utf8"
)

// The quick checks, applied straight to the bytes of a JSON document,
// without decoding it into maps. Like quick.valid they only ever prove a
// document valid: a string with an escape, invalid UTF-8, a duplicate key
// that matters and anything else out of the ordinary is left to the full
// validator. The walkers assume valid JSON: callers check json.Valid first.

// validRaw proves the JSON value at b[i:] valid and returns the index just
// past it.
func (q *quick) validRaw(b []byte, i int) (int, bool) {
	i = skipSpace(b, i)
	if i >= len(b) || q.never {
		return i, false
	}
	switch c := b[i]; {
	case c == '{':
		if !q.allows(quickObject) || q.hasEnum {
			return i, false
		}
		return q.validRawObject(b, i, nil)
	case c == '[':
		if !q.allows(quickArray) || q.hasEnum {
			return i, false
		}
		return q.validRawArray(b, i)
	case c == '"':
		s, end, ok := rawString(b, i)
		if !ok || !q.allows(quickString) || !q.validStringBytes(s) {
			return end, false
		}
		if q.hasEnum && !q.inEnumString(s) {
			return end, false
		}
		return end, true
	case c == 't' || c == 'f':
		v := c == 't'
		end := i + 4
		if !v {
			end = i + 5
		}
		if !q.allows(quickBoolean) || (q.hasEnum && !q.inEnum(v)) {
			return end, false
		}
		return end, true
	case c == 'n':
		if !q.allows(quickNull) || (q.hasEnum && !q.inEnum(nil)) {
			return i + 4, false
		}
		return i + 4, true
	default:
		end := skipNumber(b, i)
		n, isInt := quickIntBytes(b[i:end])
		if !q.validInt(n, isInt) {
			return end, false
		}
		if q.hasEnum && !(isInt && q.inEnum(n)) {
			return end, false
		}
		return end, true
	}
}

func (q *quick) validStringBytes(s []byte) bool {
	if q.formatAsserted {
		return false
	}
	if q.minLength >= 0 || q.maxLength >= 0 {
		n := utf8.RuneCount(s)
		if (q.minLength >= 0 && n < q.minLength) || (q.maxLength >= 0 && n > q.maxLength) {
			return false
		}
	}
	return q.pattern == nil || q.pattern.Match(s)
}

func (q *quick) inEnumString(s []byte) bool {
	for _, e := range q.enum {
		if es, ok := e.(string); ok && es == string(s) {
			return true
		}
	}
	return false
}

// proveObject proves a request's bytes valid: text that decodeObject
// accepts (scanText: one walk, which also refuses invalid UTF-8 and
// duplicate keys), holding an object that the quick checks prove valid. q
// may be nil (nothing proven).
func (q *quick) proveObject(body []byte, top *rawTop) bool {
	if q == nil || q.never || q.hasEnum || !q.allows(quickObject) || scanText(body) != nil {
		return false
	}
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return false
	}
	end, ok := q.validRawObject(body, i, top)
	return ok && skipSpace(body, end) == len(body)
}

// rawTop collects, from the top-level object of a request, what the
// pipeline needs besides validity.
type rawTop struct {
	lockAttribute string
	lockValue     []byte // the last value of lockAttribute; nil: absent
	tokens        bool   // whether a top-level string may be a Fernet token
	maybeToken    bool   // set when one may be
}

// validRawObject proves the object at b[i] valid; top, when not nil,
// collects the request's top-level facts.
func (q *quick) validRawObject(b []byte, i int, top *rawTop) (int, bool) {
	if len(q.required) > 64 || q.minProps >= 0 {
		return i, false // duplicate keys would need counting apart
	}
	var seen uint64 // required properties present
	props := 0
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, q.requiredSeen(seen)
	}
	for i < len(b) {
		key, end, ok := rawString(b, i)
		if !ok {
			return end, false
		}
		props++
		for r, name := range q.required {
			if name == string(key) {
				seen |= 1 << r
			}
		}
		i = skipSpace(b, end)
		i = skipSpace(b, i+1) // the colon
		start := i
		if p, known := q.properties[string(key)]; known {
			i, ok = p.validRaw(b, i)
		} else if q.noAdditional {
			return i, false
		} else if q.additional != nil {
			i, ok = q.additional.validRaw(b, i)
		} else {
			i, ok = skipValue(b, i), true
		}
		if !ok {
			return i, false
		}
		if top != nil {
			if top.lockAttribute != "" && string(key) == top.lockAttribute {
				top.lockValue = b[start:i]
			}
			if top.tokens && b[start] == '"' && i-start-2 >= minFernetToken {
				// A string with escapes may unescape to a token.
				if s, _, plain := rawString(b, start); !plain || MayBeFernetToken(s) {
					top.maybeToken = true
				}
			}
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return i, false
		}
		if b[i] == '}' {
			if q.maxProps >= 0 && props > q.maxProps {
				return i + 1, false
			}
			return i + 1, q.requiredSeen(seen)
		}
		i = skipSpace(b, i+1) // the comma
	}
	return i, false
}

func (q *quick) requiredSeen(seen uint64) bool {
	return seen == (uint64(1)<<len(q.required))-1
}

func (q *quick) validRawArray(b []byte, i int) (int, bool) {
	n := 0
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, q.minItems <= 0
	}
	for i < len(b) {
		var ok bool
		if q.items != nil {
			i, ok = q.items.validRaw(b, i)
			if !ok {
				return i, false
			}
		} else {
			i = skipValue(b, i)
		}
		n++
		i = skipSpace(b, i)
		if i >= len(b) {
			return i, false
		}
		if b[i] == ']' {
			return i + 1, (q.minItems < 0 || n >= q.minItems) && (q.maxItems < 0 || n <= q.maxItems)
		}
		i = skipSpace(b, i+1) // the comma
	}
	return i, false
}

// rawString returns the content of the string at b[i] and the index past
// it; ok is false when the string has an escape or is not valid UTF-8
// (its decoded form would differ from its bytes).
func rawString(b []byte, i int) (s []byte, end int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	escaped := false
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			s = b[i+1 : j]
			return s, j + 1, !escaped && utf8.Valid(s)
		}
	}
	return nil, len(b), false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func skipNumber(b []byte, i int) int {
	for i < len(b) {
		switch c := b[i]; {
		case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
			i++
		default:
			return i
		}
	}
	return i
}

// skipValue returns the index past the (valid) JSON value at b[i].
func skipValue(b []byte, i int) int {
	i = skipSpace(b, i)
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		_, end, _ := rawString(b, i)
		return end
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				_, end, _ := rawString(b, i)
				i = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return i
	case 't', 'n':
		return i + 4
	case 'f':
		return i + 5
	}
	return skipNumber(b, i)
}

// ProveResponse proves a handler's whole response valid from its bytes
// (when it proves nothing, CheckResponse decides):
// a JSON object with exactly success (a boolean), message (a string) and
// data, which on success the response schema's quick checks prove valid.
// wellFormed says the bytes come from encoding/json, so need no syntax
// check and hold no duplicate key; only a json.RawMessage may bring bytes
// that are not UTF-8 (utf8.Valid is much cheaper than scanText).
func (c *Compiled) ProveResponse(raw []byte, wellFormed bool) bool {
	if c.response.quick == nil || (!wellFormed && scanText(raw) != nil) || (wellFormed && !utf8.Valid(raw)) {
		return false
	}
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return false
	}
	var seen uint8
	var success bool
	var data []byte
	i = skipSpace(raw, i+1)
	for i < len(raw) && raw[i] != '}' {
		key, end, ok := rawString(raw, i)
		if !ok {
			return false
		}
		i = skipSpace(raw, skipSpace(raw, end)+1)
		start := i
		i = skipValue(raw, i)
		switch string(key) {
		case "success":
			if seen&1 != 0 || (raw[start] != 't' && raw[start] != 'f') {
				return false
			}
			seen |= 1
			success = raw[start] == 't'
		case "message":
			if seen&2 != 0 || raw[start] != '"' {
				return false
			}
			seen |= 2
		case "data":
			if seen&4 != 0 {
				return false
			}
			seen |= 4
			data = raw[start:i]
		default:
			return false
		}
		i = skipSpace(raw, i)
		if i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
	if seen != 7 {
		return false
	}
	if !success {
		return true
	}
	end, ok := c.response.quick.validRaw(data, 0)
	return ok && skipSpace(data, end) == len(data)
}
