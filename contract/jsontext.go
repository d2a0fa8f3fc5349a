package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"unicode/utf8"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// What scanText rejects, as the type of a validation error.
const (
	textSyntax    = "json_invalid"  // not JSON text (RFC 8259)
	textUTF8      = "utf8_invalid"  // a string that is not UTF-8, or a lone surrogate escape
	textDuplicate = "duplicate_key" // an object that holds a key twice
)

// Compact elides the insignificant spaces of valid JSON; JSON without any
// space is returned as it is.
func Compact(valid []byte) []byte {
	if !bytes.ContainsAny(valid, " \t\r\n") {
		return valid
	}
	var buf bytes.Buffer
	buf.Grow(len(valid))
	_ = json.Compact(&buf, valid)
	return buf.Bytes()
}

// AppendJSONString appends s as a JSON string, escaping only the quote,
// the backslash and control characters; a string that is not UTF-8 is
// written as encoding/json writes it (invalid bytes replaced).
func AppendJSONString(b []byte, s string) []byte {
	if !utf8.ValidString(s) {
		q, _ := json.Marshal(s) // replaces invalid bytes as encoding/json does
		return append(b, q...)
	}
	const hex = "0123456789abcdef"
	b = append(b, '"')
	plain := 0 // s[plain:i] needs no escape
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 0x20 && ch != '"' && ch != '\\' {
			continue
		}
		b = append(b, s[plain:i]...)
		plain = i + 1
		if ch < 0x20 {
			b = append(b, '\\', 'u', '0', '0', hex[ch>>4], hex[ch&0xf])
		} else {
			b = append(b, '\\', ch)
		}
	}
	b = append(b, s[plain:]...)
	return append(b, '"')
}

// maxTextDepth is how deeply arrays and objects may nest, as in encoding/json.
const maxTextDepth = 10000

// textError is JSON text that the consumer does not accept: a syntax
// error, a string that is not UTF-8, or a key given twice in one object.
type textError struct {
	// Type is one of textSyntax, textUTF8 and textDuplicate.
	Type string
	// Offset is the byte offset of the problem in the text.
	Offset int
	// Key is the duplicate key (textDuplicate only).
	Key string
	// Location is the path of the offending value: for a duplicate key or
	// a bad key, of the object holding it.
	Location []any
	what     string
}

func (e *textError) Error() string {
	switch e.Type {
	case textDuplicate:
		return fmt.Sprintf("the key %q appears more than once in the object at %v", e.Key, e.Location)
	case textUTF8:
		return fmt.Sprintf("%s at byte %d (location %v)", e.what, e.Offset, e.Location)
	}
	return fmt.Sprintf("not valid JSON: %s at byte %d", e.what, e.Offset)
}

// validationError is e as a request's validation error.
func (e *textError) validationError() wire.ValidationError {
	msg := ""
	switch e.Type {
	case textDuplicate:
		msg = fmt.Sprintf("the key %q appears more than once", e.Key)
	case textUTF8:
		msg = fmt.Sprintf("%s (byte %d of the request body)", e.what, e.Offset)
	default:
		msg = fmt.Sprintf("the request body is not valid JSON: %s at byte %d", e.what, e.Offset)
	}
	return wire.ValidationError{Location: e.Location, Message: msg, Type: e.Type}
}

// scanText checks, in one walk over its bytes, that b is one JSON value
// (RFC 8259) whose strings are all UTF-8 (no invalid byte, no lone
// surrogate escape) and whose objects hold each key once (compared after
// unescaping). It does not decode; on success it allocates nothing for
// objects of up to 32 plain keys.
func scanText(b []byte) *textError {
	s := scanners.Get().(*textScanner)
	s.b = b
	i, err := s.value(skipSpace(b, 0), 0)
	clear(s.keys[:cap(s.keys)]) // hold on to no request
	s.b, s.keys = nil, s.keys[:0]
	scanners.Put(s)
	if err == nil && skipSpace(b, i) != len(b) {
		err = s.syntax(skipSpace(b, i), "data after the JSON value")
	}
	if err != nil {
		// Unwinding appended the path innermost first.
		for l, r := 0, len(err.Location)-1; l < r; l, r = l+1, r-1 {
			err.Location[l], err.Location[r] = err.Location[r], err.Location[l]
		}
		if err.Location == nil {
			err.Location = []any{}
		}
		return err
	}
	return nil
}

type textScanner struct {
	b    []byte
	keys [][]byte // the keys of the objects being walked, outermost first
}

// scanners keeps scanText from allocating its key stack for each text.
var scanners = sync.Pool{New: func() any { return &textScanner{keys: make([][]byte, 0, 64)} }}

func (s *textScanner) syntax(i int, what string) *textError {
	if i >= len(s.b) {
		what = "unexpected end of the text"
	}
	return &textError{Type: textSyntax, Offset: i, what: what}
}

func (s *textScanner) value(i, depth int) (int, *textError) {
	b := s.b
	if i >= len(b) {
		return i, s.syntax(i, "")
	}
	switch c := b[i]; {
	case c == '{':
		if depth >= maxTextDepth {
			return i, s.syntax(i, "nested too deeply")
		}
		return s.object(i, depth+1)
	case c == '[':
		if depth >= maxTextDepth {
			return i, s.syntax(i, "nested too deeply")
		}
		return s.array(i, depth+1)
	case c == '"':
		end, _, err := s.str(i)
		return end, err
	case c == 't':
		return s.literal(i, "true")
	case c == 'f':
		return s.literal(i, "false")
	case c == 'n':
		return s.literal(i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number(i)
	}
	return i, s.syntax(i, fmt.Sprintf("unexpected %q", rune(b[i])))
}

func (s *textScanner) literal(i int, lit string) (int, *textError) {
	if !bytes.HasPrefix(s.b[i:], []byte(lit)) {
		return i, s.syntax(i, "invalid literal")
	}
	return i + len(lit), nil
}

func (s *textScanner) number(i int) (int, *textError) {
	b, j := s.b, i
	digits := func() bool {
		k := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		return j > k
	}
	if b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case !digits():
		return j, s.syntax(j, "invalid number")
	}
	if j < len(b) && b[j] == '.' {
		j++
		if !digits() {
			return j, s.syntax(j, "invalid number")
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if !digits() {
			return j, s.syntax(j, "invalid number")
		}
	}
	return j, nil
}

// str checks the string at b[i] (a quote) and returns the index past it
// and whether it holds an escape.
func (s *textScanner) str(i int) (end int, escaped bool, err *textError) {
	b := s.b
	for j := i + 1; j < len(b); {
		c := b[j]
		switch {
		case c == '"':
			return j + 1, escaped, nil
		case c == '\\':
			escaped = true
			if j+1 >= len(b) {
				return j, true, s.syntax(len(b), "")
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				r, ok := hex4(b, j+2)
				if !ok {
					return j, true, s.syntax(j, "invalid \\u escape")
				}
				if r >= 0xD800 && r <= 0xDFFF {
					// Only a high surrogate followed by a low one is a character.
					r2, ok2 := rune(0), false
					if r < 0xDC00 && j+12 <= len(b) && b[j+6] == '\\' && b[j+7] == 'u' {
						r2, ok2 = hex4(b, j+8)
					}
					if !ok2 || r2 < 0xDC00 || r2 > 0xDFFF {
						return j, true, &textError{Type: textUTF8, Offset: j, what: fmt.Sprintf("\\u%04x is half of a UTF-16 surrogate pair, not a character", r)}
					}
					j += 6
				}
				j += 6
			default:
				return j, true, s.syntax(j, "invalid escape")
			}
		case c < 0x20:
			return j, escaped, s.syntax(j, "control character in a string")
		case c < utf8.RuneSelf:
			j++
		default:
			r, size := utf8.DecodeRune(b[j:])
			if r == utf8.RuneError && size == 1 {
				return j, escaped, &textError{Type: textUTF8, Offset: j, what: "a string is not valid UTF-8"}
			}
			j += size
		}
	}
	return len(b), escaped, s.syntax(len(b), "")
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

func (s *textScanner) array(i, depth int) (int, *textError) {
	b := s.b
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for n := 0; ; n++ {
		var err *textError
		if i, err = s.value(i, depth); err != nil {
			if err.Type != textSyntax {
				err.Location = append(err.Location, n)
			}
			return i, err
		}
		i = skipSpace(b, i)
		switch {
		case i < len(b) && b[i] == ',':
			i = skipSpace(b, i+1)
		case i < len(b) && b[i] == ']':
			return i + 1, nil
		default:
			return i, s.syntax(i, "expected , or ] in an array")
		}
	}
}

// object checks the object at b[i]; its keys are compared with those
// before them linearly, through a map past 32 keys.
func (s *textScanner) object(i, depth int) (int, *textError) {
	b := s.b
	first := len(s.keys)
	defer func() { s.keys = s.keys[:first] }()
	var seen map[string]struct{}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return i, s.syntax(i, "expected a key")
		}
		end, escaped, err := s.str(i)
		if err != nil {
			return end, err
		}
		key := b[i+1 : end-1]
		if escaped {
			var k string
			_ = json.Unmarshal(b[i:end], &k) // valid: just checked
			key = []byte(k)
		}
		if s.duplicate(first, &seen, key) {
			return i, &textError{Type: textDuplicate, Offset: i, Key: string(key)}
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return i, s.syntax(i, "expected : after a key")
		}
		if i, err = s.value(skipSpace(b, i+1), depth); err != nil {
			if err.Type != textSyntax {
				err.Location = append(err.Location, string(key))
			}
			return i, err
		}
		i = skipSpace(b, i)
		switch {
		case i < len(b) && b[i] == ',':
			i = skipSpace(b, i+1)
		case i < len(b) && b[i] == '}':
			return i + 1, nil
		default:
			return i, s.syntax(i, "expected , or } in an object")
		}
	}
}

// duplicate records key among the keys of the object whose keys start at
// s.keys[first], and says whether it was there already.
func (s *textScanner) duplicate(first int, seen *map[string]struct{}, key []byte) bool {
	if *seen != nil {
		if _, dup := (*seen)[string(key)]; dup {
			return true
		}
		(*seen)[string(key)] = struct{}{}
		return false
	}
	for _, k := range s.keys[first:] {
		if bytes.Equal(k, key) {
			return true
		}
	}
	s.keys = append(s.keys, key)
	if len(s.keys)-first > 32 {
		*seen = make(map[string]struct{}, 64)
		for _, k := range s.keys[first:] {
			(*seen)[string(k)] = struct{}{}
		}
		s.keys = s.keys[:first]
	}
	return false
}
