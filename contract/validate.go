package contract

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

var printer = message.NewPrinter(language.English)

// errNotObject is returned for a body that is JSON but not an object.
var errNotObject = errors.New("the request body must be a JSON object")

// decodeObject parses a JSON object, keeping numbers exact. Text that
// scanText refuses (invalid UTF-8, a duplicate key) is a *textError.
func decodeObject(raw []byte) (map[string]any, error) {
	if err := scanText(raw); err != nil {
		return nil, err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errNotObject
	}
	return obj, nil
}

// DecodeRequest decodes a request body into an object, keeping numbers
// exact. A body that is not one JSON object of UTF-8 text without duplicate
// keys gets its validation error instead.
func DecodeRequest(body []byte) (map[string]any, []wire.ValidationError) {
	obj, err := decodeObject(body)
	if err != nil {
		return nil, []wire.ValidationError{decodeFailure(err)}
	}
	return obj, nil
}

// PlaintextErrors are the validation errors of the decrypted fields of a
// decoded request whose plaintext is not UTF-8: JSON could carry them only
// altered.
func PlaintextErrors(obj map[string]any, decrypted []string) []wire.ValidationError {
	var errs []wire.ValidationError
	for _, f := range decrypted {
		if s, ok := obj[f].(string); ok && !utf8.ValidString(s) {
			errs = append(errs, wire.ValidationError{Location: []any{f}, Message: "the decrypted value is not valid UTF-8", Type: textUTF8})
		}
	}
	return errs
}

// decodeFailure is the validation error of a request body that
// decodeObject refuses.
func decodeFailure(err error) wire.ValidationError {
	var te *textError
	switch {
	case errors.As(err, &te):
		return te.validationError()
	case errors.Is(err, errNotObject):
		return wire.ValidationError{Location: []any{}, Message: err.Error(), Type: "object_type"}
	}
	return wire.ValidationError{Location: []any{}, Message: "the request body is not valid JSON", Type: textSyntax}
}

// decodeAny parses any JSON value, keeping numbers exact.
func decodeAny(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

// validate checks v against sch and lists every violation, located by the
// JSON path of the offending value.
func validate(sch *jsonschema.Schema, v any) []wire.ValidationError {
	err := sch.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []wire.ValidationError{{Location: []any{}, Message: err.Error(), Type: "invalid"}}
	}
	var out []wire.ValidationError
	collect(ve, v, &out)
	sort.SliceStable(out, func(i, j int) bool { return compareLocations(out[i].Location, out[j].Location) < 0 })
	return dedupe(out)
}

// compareLocations orders locations element by element: array indexes as
// numbers and before names, names as strings, a path before its
// extensions.
func compareLocations(a, b []any) int {
	for k := 0; k < len(a) && k < len(b); k++ {
		ai, aInt := a[k].(int)
		bi, bInt := b[k].(int)
		switch {
		case aInt && bInt:
			if c := cmp.Compare(ai, bi); c != 0 {
				return c
			}
		case aInt:
			return -1
		case bInt:
			return 1
		default:
			if c := strings.Compare(fmt.Sprint(a[k]), fmt.Sprint(b[k])); c != 0 {
				return c
			}
		}
	}
	return cmp.Compare(len(a), len(b))
}

func collect(ve *jsonschema.ValidationError, root any, out *[]wire.ValidationError) {
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			collect(c, root, out)
		}
		return
	}
	loc := location(root, ve.InstanceLocation)
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			*out = append(*out, wire.ValidationError{Location: appendLoc(loc, m), Message: "field required", Type: "missing"})
		}
	case *kind.DependentRequired:
		for _, m := range k.Missing {
			*out = append(*out, wire.ValidationError{Location: appendLoc(loc, m), Message: fmt.Sprintf("field required when %q is present", k.Prop), Type: "missing"})
		}
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			*out = append(*out, wire.ValidationError{Location: appendLoc(loc, p), Message: "extra field not permitted", Type: "extra_forbidden"})
		}
	default:
		*out = append(*out, wire.ValidationError{Location: loc, Message: describe(ve.ErrorKind), Type: kindName(ve.ErrorKind)})
	}
}

// describe says what is wrong for a person, where the library's wording
// ("minimum: got 0, want 1") is terse.
func describe(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Minimum:
		return fmt.Sprintf("must be at least %s (got %s)", ratString(k.Want), ratString(k.Got))
	case *kind.Maximum:
		return fmt.Sprintf("must be at most %s (got %s)", ratString(k.Want), ratString(k.Got))
	case *kind.ExclusiveMinimum:
		return fmt.Sprintf("must be greater than %s (got %s)", ratString(k.Want), ratString(k.Got))
	case *kind.ExclusiveMaximum:
		return fmt.Sprintf("must be less than %s (got %s)", ratString(k.Want), ratString(k.Got))
	case *kind.MinLength:
		return fmt.Sprintf("must be at least %d characters long (got %d)", k.Want, k.Got)
	case *kind.MaxLength:
		return fmt.Sprintf("must be at most %d characters long (got %d)", k.Want, k.Got)
	case *kind.MinItems:
		return fmt.Sprintf("must have at least %d items (got %d)", k.Want, k.Got)
	case *kind.MaxItems:
		return fmt.Sprintf("must have at most %d items (got %d)", k.Want, k.Got)
	case *kind.Pattern:
		return fmt.Sprintf("must match the pattern %s", k.Want)
	}
	return k.LocalizedString(printer)
}

func ratString(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	return r.FloatString(6)
}

func appendLoc(loc []any, key string) []any {
	return append(append(make([]any, 0, len(loc)+1), loc...), key)
}

func kindName(k jsonschema.ErrorKind) string {
	if p := k.KeywordPath(); len(p) > 0 {
		return p[len(p)-1]
	}
	name := fmt.Sprintf("%T", k)
	name = name[strings.LastIndex(name, ".")+1:]
	return strings.ToLower(name)
}

// location turns a JSON pointer's tokens into a path whose array indexes
// are integers, by walking the instance.
func location(root any, tokens []string) []any {
	loc := make([]any, 0, len(tokens))
	cur := root
	for _, tok := range tokens {
		switch c := cur.(type) {
		case []any:
			if i, err := strconv.Atoi(tok); err == nil {
				loc = append(loc, i)
				if i >= 0 && i < len(c) {
					cur = c[i]
				} else {
					cur = nil
				}
				continue
			}
			loc = append(loc, tok)
			cur = nil
		case map[string]any:
			loc = append(loc, tok)
			cur = c[tok]
		default:
			loc = append(loc, tok)
			cur = nil
		}
	}
	return loc
}

func dedupe(errs []wire.ValidationError) []wire.ValidationError {
	seen := map[string]bool{}
	out := errs[:0]
	for _, e := range errs {
		k := fmt.Sprint(e.Location, e.Type, e.Message)
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}
