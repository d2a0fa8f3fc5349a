package consumer

import (
	"encoding/json"
	"fmt"
	"testing"
)

// TestErrorsSortedByLocation: errors come sorted by location element by
// element, array indexes as numbers.
func TestErrorsSortedByLocation(t *testing.T) {
	c, err := compile("x", &Contract{Request: json.RawMessage(`{"type":"object","properties":{
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
