package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"

	"github.com/invopop/jsonschema"
)

// SchemaOf derives a JSON Schema (draft 2020-12) from the Go type T, as a
// Go handler's request or response schema: struct tags `json` and
// `jsonschema` (see github.com/invopop/jsonschema) shape it, and integer
// fields are bounded by their Go type's range.
func SchemaOf[T any]() json.RawMessage {
	r := &jsonschema.Reflector{DoNotReference: true, ExpandedStruct: true, Mapper: numberBounds}
	var zero T
	s := r.Reflect(zero)
	s.ID = ""
	b, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("contract: cannot derive a JSON Schema from %T: %v", zero, err))
	}
	return b
}

// Go numbers and the JSON Schema derived from them agree in two ways: an
// integer field's schema bounds it to its Go type's range, so a number out
// of range is a validation failure; and an integral number written with a
// fraction or an exponent (1.0, 1e0), which "type": "integer" accepts, is
// decoded into an integer field as encoding/json alone would not.

// numberBounds maps Go's integer types, and float32, without methods of
// their own to a schema bounded by their range; nil leaves a type to the
// reflector.
func numberBounds(t reflect.Type) *jsonschema.Schema {
	if t.NumMethod() > 0 || reflect.PointerTo(t).NumMethod() > 0 {
		return nil
	}
	var lo, hi string
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n := t.Bits()
		lo = new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), uint(n-1))).String()
		hi = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(n-1)), big.NewInt(1)).String()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		lo = "0"
		hi = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(t.Bits())), big.NewInt(1)).String()
	case reflect.Float32:
		max, _ := new(big.Float).SetFloat64(math.MaxFloat32).Int(nil)
		return &jsonschema.Schema{Type: "number", Minimum: json.Number(new(big.Int).Neg(max).String()), Maximum: json.Number(max.String())}
	default:
		return nil
	}
	return &jsonschema.Schema{Type: "integer", Minimum: json.Number(lo), Maximum: json.Number(hi)}
}

// DecodeInto decodes a validated request into v, a pointer to a Go value; a number that
// encoding/json cannot put into an integer field is written as a plain
// integer first, when it is one.
func DecodeInto(body []byte, v any) error {
	err := json.Unmarshal(body, v)
	if err == nil || !numberTypeError(err) {
		return err
	}
	return json.Unmarshal(integralNumbers(body), v)
}

// numberTypeError says whether err is a number that encoding/json could
// not put into a field (declared apart: the successful decoding then
// allocates nothing more).
func numberTypeError(err error) bool {
	var te *json.UnmarshalTypeError
	return errors.As(err, &te) && strings.HasPrefix(te.Value, "number")
}

// integralNumbers rewrites the numbers of valid JSON that are integers of
// at most 64 bits written with a fraction or an exponent (1.0, 2.5e2) as
// plain integers (1, 250).
func integralNumbers(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '"':
			_, end, _ := rawString(b, i)
			out = append(out, b[i:end]...)
			i = end
		case c == '-' || (c >= '0' && c <= '9'):
			end := skipNumber(b, i)
			out = append(out, plainInteger(b[i:end])...)
			i = end
		default:
			out = append(out, c)
			i++
		}
	}
	return out
}

// plainInteger is n as a plain integer when it is one of at most 64 bits,
// else n.
func plainInteger(n []byte) []byte {
	if !bytes.ContainsAny(n, ".eE") || len(n) > 64 {
		return n
	}
	if e := bytes.IndexAny(n, "eE"); e >= 0 {
		if exp, err := strconv.Atoi(string(bytes.TrimPrefix(n[e+1:], []byte("+")))); err != nil || exp > 40 || exp < -40 {
			return n // far from a 64-bit integer, and costly to expand
		}
	}
	r, ok := new(big.Rat).SetString(string(n))
	if !ok || !r.IsInt() || r.Num().BitLen() > 64 {
		return n
	}
	return []byte(r.Num().String())
}
