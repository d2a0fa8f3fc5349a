package contract

import (
	"encoding/json"
	"math"
	"regexp"
	"strings"
	"unicode/utf8"
)

// quick is a common subset of JSON Schema compiled to direct checks, to
// prove a valid instance valid without the cost of the full validator
// (which builds a result tree and compares every number as a big.Rat). It
// never decides that an instance is invalid: when it cannot prove an
// instance valid, the full validator decides and explains. A schema that
// uses any keyword outside the subset compiles to nil: the full validator
// always decides.
type quick struct {
	types        uint8 // bit set of quick* types; 0: any type
	never        bool  // the schema false
	properties   map[string]*quick
	required     []string
	additional   *quick // additionalProperties as a schema; nil: any
	noAdditional bool   // additionalProperties false
	items        *quick // items; nil: any
	enum         []any  // allowed values (strings, booleans, null, integers); nil: any
	hasEnum      bool
	// Bounds, for integer instances only (other numbers are not proven).
	minimum, maximum                   *int64
	exclusiveMinimum, exclusiveMaximum *int64
	minLength, maxLength               int // -1: none
	minItems, maxItems                 int // -1: none
	minProps, maxProps                 int // -1: none
	pattern                            *regexp.Regexp
	hasNumericBoundsNonInt             bool // a bound that is not an integer: numbers are not proven
	hasWideBound                       bool // a bound that every proven integer meets: other numbers are not proven
	formatAsserted                     bool // format is asserted here: strings are not proven
}

const (
	quickNull uint8 = 1 << iota
	quickBoolean
	quickInteger
	quickNumber
	quickString
	quickArray
	quickObject
)

// allows says whether the schema's type keyword admits type t.
func (q *quick) allows(t uint8) bool { return q.types == 0 || q.types&t != 0 }

var quickTypeNames = map[string]uint8{
	"null": quickNull, "boolean": quickBoolean, "integer": quickInteger, "number": quickNumber,
	"string": quickString, "array": quickArray, "object": quickObject,
}

// quickAnnotations are keywords that do not constrain an instance under the
// 2020-12 vocabularies the consumer compiles with.
var quickAnnotations = map[string]bool{
	"title": true, "description": true, "default": true, "examples": true, "$comment": true,
	"deprecated": true, "readOnly": true, "writeOnly": true, "format": true,
	"$id": true, "$anchor": true, "$defs": true, "definitions": true,
}

// quickDrafts are the meta-schemas whose vocabularies quick knows: draft
// 2020-12, the consumer's default, where format is an annotation.
var quickDrafts = map[string]bool{
	"https://json-schema.org/draft/2020-12/schema":  true,
	"https://json-schema.org/draft/2020-12/schema#": true,
}

// compileQuick compiles a schema document (as decoded by decodeAny) to its
// quick checks; nil when the schema uses anything quick does not know.
// With assertFormat, a string under a format keyword is never proven: the
// full validator checks its format.
func compileQuick(doc any, assertFormat bool) *quick {
	if m, ok := doc.(map[string]any); ok {
		if s, present := m["$schema"]; present {
			if str, ok := s.(string); !ok || !quickDrafts[str] {
				return nil
			}
		}
	}
	q, ok := compileQuickNode(doc, true, assertFormat)
	if !ok {
		return nil
	}
	return q
}

func compileQuickNode(doc any, root, assertFormat bool) (*quick, bool) {
	q := &quick{minLength: -1, maxLength: -1, minItems: -1, maxItems: -1, minProps: -1, maxProps: -1}
	switch d := doc.(type) {
	case bool:
		q.never = !d
		return q, true
	case map[string]any:
		for k, v := range d {
			if !q.keyword(k, v, root, assertFormat) {
				return nil, false
			}
		}
		return q, true
	}
	return nil, false
}

// keyword compiles one keyword of a schema object; false if quick does not
// know it.
func (q *quick) keyword(k string, v any, root, assertFormat bool) bool {
	var ok bool
	switch k {
	case "$schema":
		return root
	case "type":
		q.types, ok = quickTypes(v)
	case "properties":
		props, isObj := v.(map[string]any)
		if !isObj {
			return false
		}
		q.properties = make(map[string]*quick, len(props))
		for name, sub := range props {
			if q.properties[name], ok = compileQuickNode(sub, false, assertFormat); !ok {
				return false
			}
		}
	case "required":
		q.required, ok = stringList(v)
	case "additionalProperties":
		if b, isBool := v.(bool); isBool {
			q.noAdditional = !b
			return true
		}
		q.additional, ok = compileQuickNode(v, false, assertFormat)
	case "items":
		q.items, ok = compileQuickNode(v, false, assertFormat)
	case "enum":
		list, isList := v.([]any)
		if !isList {
			return false
		}
		for _, e := range list {
			s, known := quickScalar(e)
			if !known {
				return false
			}
			q.enum = append(q.enum, s)
		}
		q.hasEnum, ok = true, true
	case "const":
		s, known := quickScalar(v)
		q.enum, q.hasEnum, ok = []any{s}, true, known
	case "minimum":
		q.minimum, ok = q.bound(v, true)
	case "maximum":
		q.maximum, ok = q.bound(v, false)
	case "exclusiveMinimum":
		q.exclusiveMinimum, ok = q.bound(v, true)
	case "exclusiveMaximum":
		q.exclusiveMaximum, ok = q.bound(v, false)
	case "minLength":
		q.minLength, ok = count(v)
	case "maxLength":
		q.maxLength, ok = count(v)
	case "minItems":
		q.minItems, ok = count(v)
	case "maxItems":
		q.maxItems, ok = count(v)
	case "minProperties":
		q.minProps, ok = count(v)
	case "maxProperties":
		q.maxProps, ok = count(v)
	case "format":
		q.formatAsserted = assertFormat
		return true
	case "pattern":
		s, isStr := v.(string)
		if !isStr {
			return false
		}
		re, err := regexp.Compile(s) // the full validator's engine too
		q.pattern, ok = re, err == nil
	default:
		return quickAnnotations[k]
	}
	return ok
}

// bound reads a numeric bound, lower or upper. Integer bounds are
// compared exactly with integer instances; an integer bound beyond 10^17
// on the far side (the range of a Go int64 or uint64) holds for every
// integer quick proves, so it only keeps other numbers from being proven;
// any other bound leaves numbers to the full validator.
func (q *quick) bound(v any, lower bool) (*int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return nil, false
	}
	if i, isInt := quickInt(n); isInt {
		return &i, true
	}
	if wide := strings.TrimPrefix(string(n), "-"); len(wide) > 17 && strings.Trim(wide, "0123456789") == "" && strings.HasPrefix(string(n), "-") == lower {
		q.hasWideBound = true
		return nil, true
	}
	q.hasNumericBoundsNonInt = true
	return nil, true
}

func quickTypes(v any) (uint8, bool) {
	switch t := v.(type) {
	case string:
		bit, ok := quickTypeNames[t]
		return bit, ok
	case []any:
		var bits uint8
		for _, e := range t {
			s, ok := e.(string)
			if !ok || quickTypeNames[s] == 0 {
				return 0, false
			}
			bits |= quickTypeNames[s]
		}
		return bits, len(t) > 0
	}
	return 0, false
}

func stringList(v any) ([]string, bool) {
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func count(v any) (int, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, ok := quickInt(n)
	if !ok || i < 0 || i > math.MaxInt32 {
		return 0, false
	}
	return int(i), true
}

// quickInt reads a JSON number written as a plain integer that fits in 53
// bits (exact as float64 and int64 alike).
func quickInt(n json.Number) (int64, bool) { return quickIntBytes([]byte(n)) }

func quickIntBytes(s []byte) (int64, bool) {
	if len(s) == 0 || len(s) > 17 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && !(i == 0 && s[i] == '-' && len(s) > 1) {
			return 0, false
		}
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	var i int64
	for _, c := range s {
		i = i*10 + int64(c-'0')
	}
	if i > 1<<53 {
		return 0, false
	}
	if neg {
		i = -i
	}
	return i, true
}

// quickScalar is an enum or const value as valid compares it: a string, a
// boolean, nil or an int64.
func quickScalar(v any) (any, bool) {
	switch t := v.(type) {
	case string, bool, nil, int64:
		return t, true
	case json.Number:
		i, ok := quickInt(t)
		return i, ok
	}
	return nil, false
}

// valid is true when v is certainly valid; false means not proven.
func (q *quick) valid(v any) bool {
	if q.never {
		return false
	}
	if q.hasEnum && !q.inEnum(v) {
		return false
	}
	switch t := v.(type) {
	case nil:
		return q.allows(quickNull)
	case bool:
		return q.allows(quickBoolean)
	case string:
		return q.allows(quickString) && q.validString(t)
	case json.Number:
		return q.validNumber(t)
	case []any:
		return q.allows(quickArray) && q.validArray(t)
	case map[string]any:
		return q.allows(quickObject) && q.validObject(t)
	}
	return false
}

func (q *quick) inEnum(v any) bool {
	s, ok := quickScalar(v)
	if !ok {
		return false
	}
	for _, e := range q.enum {
		if e == s {
			return true
		}
	}
	return false
}

func (q *quick) validString(s string) bool {
	if q.formatAsserted {
		return false
	}
	if q.minLength >= 0 || q.maxLength >= 0 {
		n := utf8.RuneCountInString(s)
		if (q.minLength >= 0 && n < q.minLength) || (q.maxLength >= 0 && n > q.maxLength) {
			return false
		}
	}
	return q.pattern == nil || q.pattern.MatchString(s)
}

func (q *quick) validNumber(n json.Number) bool {
	i, isInt := quickInt(n)
	return q.validInt(i, isInt)
}

// validInt checks a number: i when isInt, a number that is not a plain
// 53-bit integer otherwise.
func (q *quick) validInt(i int64, isInt bool) bool {
	if !q.allows(quickNumber) && !(isInt && q.allows(quickInteger)) {
		return false
	}
	if q.minimum == nil && q.maximum == nil && q.exclusiveMinimum == nil && q.exclusiveMaximum == nil && !q.hasNumericBoundsNonInt && !q.hasWideBound {
		return true
	}
	if !isInt || q.hasNumericBoundsNonInt {
		return false
	}
	return (q.minimum == nil || i >= *q.minimum) && (q.maximum == nil || i <= *q.maximum) &&
		(q.exclusiveMinimum == nil || i > *q.exclusiveMinimum) && (q.exclusiveMaximum == nil || i < *q.exclusiveMaximum)
}

func (q *quick) validArray(a []any) bool {
	if (q.minItems >= 0 && len(a) < q.minItems) || (q.maxItems >= 0 && len(a) > q.maxItems) {
		return false
	}
	if q.items != nil {
		for _, e := range a {
			if !q.items.valid(e) {
				return false
			}
		}
	}
	return true
}

func (q *quick) validObject(o map[string]any) bool {
	if (q.minProps >= 0 && len(o) < q.minProps) || (q.maxProps >= 0 && len(o) > q.maxProps) {
		return false
	}
	for _, r := range q.required {
		if _, ok := o[r]; !ok {
			return false
		}
	}
	for k, v := range o {
		if p, ok := q.properties[k]; ok {
			if !p.valid(v) {
				return false
			}
			continue
		}
		if q.noAdditional || (q.additional != nil && !q.additional.valid(v)) {
			return false
		}
	}
	return true
}
