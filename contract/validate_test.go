package contract

import (
	"encoding/json"
	"fmt"
	"testing"
)

// TestErrorsSortedByLocation: errors come sorted by location element by
// element, array indexes as numbers.
func TestErrorsSortedByLocation(t *testing.T) {
	c, err := Compile("x", &Contract{Request: json.RawMessage(`{"type":"object","properties":{
		"xs":{"type":"array","items":{"type":"integer"}},"b":{"type":"string"},"a":{"type":"object","properties":{"z":{"type":"string"}}}}}`), Response: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	obj, err := decodeObject([]byte(`{"xs":[0,1,"2",3,4,5,6,7,8,9,"10","11"],"b":1,"a":{"z":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range c.request.check(obj) {
		got = append(got, fmt.Sprint(e.Location))
	}
	want := []string{"[a z]", "[b]", "[xs 2]", "[xs 10]", "[xs 11]"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("locations %v, want %v", got, want)
	}
}

// TestFormatAssertion: with "format_assertion": true in contract.json,
// format is asserted, in the request and the response schema; without it,
// format is an annotation (2020-12's default).
func TestFormatAssertion(t *testing.T) {
	const schema = `{"type":"object","properties":{"e":{"type":"string","format":"email"},"t":{"format":"date-time"},"ip":{"type":"string","format":"ipv4"},"u":{"format":"uuid"}}}`
	const bad = `{"e":"nope","t":"yesterday","ip":"1.2.3","u":"x"}`
	const good = `{"e":"a@example.com","t":"2020-01-01T00:00:00Z","ip":"10.0.0.1","u":"123e4567-e89b-12d3-a456-426614174000"}`
	for _, assert := range []bool{false, true} {
		ct, err := Parse(fmt.Appendf(nil, `{"description":"d","format_assertion":%v,"request":%s,"response":%s}`, assert, schema, schema))
		if err != nil {
			t.Fatal(err)
		}
		c, err := Compile("x", ct)
		if err != nil {
			t.Fatal(err)
		}
		obj, _ := decodeObject([]byte(bad))
		errs := c.request.check(obj)
		if want := map[bool]int{false: 0, true: 4}[assert]; len(errs) != want || (want > 0 && (errs[0].Type != "format" || fmt.Sprint(errs[0].Location) != "[e]")) {
			t.Errorf("format_assertion %v: errors %+v, want %d format errors", assert, errs, want)
		}
		if err := c.CheckResponse([]byte(`{"success":true,"message":"m","data":` + bad + `}`)); (err != nil) != assert {
			t.Errorf("format_assertion %v: response check: %v", assert, err)
		}
		if obj, _ := decodeObject([]byte(good)); len(c.request.check(obj)) > 0 {
			t.Errorf("format_assertion %v: valid request refused: %v", assert, c.request.check(obj))
		}
		if proven := c.request.quick.proveObject([]byte(bad), &rawTop{}); proven == assert {
			t.Errorf("format_assertion %v: quick proves %s: %v", assert, bad, proven)
		}
	}
}

func TestIntegralNumbers(t *testing.T) {
	for in, want := range map[string]string{
		`{"n":1.0,"m":-2.50e1,"s":"1.0","k":[1e0,1.5,1e300,0.1e1,12]}`: `{"n":1,"m":-25,"s":"1.0","k":[1,1.5,1e300,1,12]}`,
		`{"big":18446744073709551615.0,"over":18446744073709551616.0}`: `{"big":18446744073709551615,"over":18446744073709551616.0}`,
		`{"a\"1.0":2.0e+0,"e":1e-999999999}`:                           `{"a\"1.0":2,"e":1e-999999999}`,
	} {
		if got := string(integralNumbers([]byte(in))); got != want {
			t.Errorf("integralNumbers(%s) = %s, want %s", in, got, want)
		}
	}
}
