package contractdocs

import (
	"reflect"
	"testing"
)

func TestFields(t *testing.T) {
	cases := []struct {
		name   string
		schema string
		want   []Field
	}{
		{"example handler", `{"type": "object",
			"properties": {
				"favourite_food": {"type": "string", "enum": ["onion", "orange", "banana"], "description": "What you like"},
				"chance_percentage": {"type": "integer", "exclusiveMinimum": 0, "default": 20}},
			"required": ["favourite_food"], "additionalProperties": false}`,
			[]Field{
				{Path: "favourite_food", Name: "favourite_food", Type: "string", Required: true, Constraints: []string{`one of: "onion", "orange", "banana"`}, Description: "What you like"},
				{Path: "chance_percentage", Name: "chance_percentage", Type: "integer", Default: "20", Constraints: []string{"> 0"}},
			}},
		{"nested objects, arrays, refs, nullable, fernet", `{"type": "object",
			"$defs": {"Size": {"type": "object", "properties": {"width": {"type": "integer", "minimum": 1, "default": 1}}, "required": ["width"]}},
			"properties": {
				"password": {"type": "string", "x-fernet": true, "minLength": 8},
				"size": {"$ref": "#/$defs/Size"},
				"sizes": {"type": "array", "items": {"$ref": "#/$defs/Size"}, "maxItems": 3},
				"note": {"anyOf": [{"type": "string", "maxLength": 10}, {"type": "null"}], "default": null}}}`,
			[]Field{
				{Path: "password", Name: "password", Type: "string", Constraints: []string{"at least 8 characters"}, Encrypted: true},
				{Path: "size", Name: "size", Type: "object"},
				{Path: "size.width", Name: "width", Depth: 1, Type: "integer", Required: true, Default: "1", Constraints: []string{"≥ 1"}},
				{Path: "sizes", Name: "sizes", Type: "array of object", Constraints: []string{"at most 3 elements"}},
				{Path: "sizes[].width", Name: "width", Depth: 1, Type: "integer", Required: true, Default: "1", Constraints: []string{"≥ 1"}},
				{Path: "note", Name: "note", Type: "string or null", Default: "null", Constraints: []string{"at most 10 characters"}},
			}},
		{"recursive", `{"$defs": {"Node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/Node"}}}}, "$ref": "#/$defs/Node"}`,
			[]Field{
				{Path: "child", Name: "child", Type: "object"},
				{Path: "child.child", Name: "child", Depth: 1, Type: "recursive: see above"},
			}},
		{"not an object", `{"type": "array", "items": {"type": "string"}}`,
			[]Field{{Path: "(value)", Name: "(value)", Type: "array of string"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Fields([]byte(c.schema))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got\n%#v\nwant\n%#v", got, c.want)
			}
		})
	}
}
