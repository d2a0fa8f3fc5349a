package clientgen

import "encoding/json"

// testAction is an action with examples, for the generators' tests.
type testAction struct {
	Action
	Examples []testExample
}

type testExample struct{ Request, Data json.RawMessage }

var testActions = []testAction{
	{Action{Exchange: "dx_example", Description: "Determine whether a favourite food is tolerable.",
		Request: json.RawMessage(`{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
			"properties": {
				"favourite_food": {"type": "string", "enum": ["onion", "orange", "banana"]},
				"chance_percentage": {"type": "integer", "exclusiveMinimum": 0, "default": 20}},
			"required": ["favourite_food"], "additionalProperties": false}`),
		Response: json.RawMessage(`{"type": "object", "properties": {"tolerable": {"type": "boolean"}}, "required": ["tolerable"]}`)},
		[]testExample{
			{json.RawMessage(`{"favourite_food": "onion", "chance_percentage": 100}`), json.RawMessage(`{"tolerable": false}`)},
			{json.RawMessage(`{"favourite_food": "banana"}`), json.RawMessage(`{"tolerable": true}`)},
			{json.RawMessage(`{"favourite_food": "orange", "chance_percentage": 0}`), json.RawMessage(`{"tolerable": true}`)},
		}},
	{Action{Exchange: "dx-create.tree", Description: "Create a tree.",
		Request: json.RawMessage(`{"type": "object",
			"$defs": {"Size": {"type": "object", "description": "How big.", "properties": {"width": {"type": "integer"}, "height_m": {"type": "number"}}, "required": ["width"]}},
			"properties": {
				"name": {"type": "string", "description": "The tree's name."},
				"server_id": {"type": "integer"},
				"password": {"type": "string", "x-fernet": true},
				"size": {"$ref": "#/$defs/Size"},
				"sizes": {"type": "array", "items": {"$ref": "#/$defs/Size"}},
				"note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
				"tags": {"type": "object", "additionalProperties": {"type": "string"}},
				"extra": {},
				"class": {"type": "string"}},
			"required": ["name", "note"]}`),
		Response: json.RawMessage(`{"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}}}}`)},
		[]testExample{
			{json.RawMessage(`{"name": "oak", "note": null, "server_id": 7, "size": {"width": 3}, "sizes": [{"width": 1, "height_m": 2.5}], "tags": {"a": "b"}, "extra": [1, {"x": true}], "class": "def"}`),
				json.RawMessage(`[{"id": "t1"}, {}]`)},
			{json.RawMessage(`{"name": "elm", "note": "tall", "password": "s3cret"}`), json.RawMessage(`[]`)},
		}},
}

func actionsOf(ts []testAction) []Action {
	out := make([]Action, len(ts))
	for i, t := range ts {
		out[i] = t.Action
	}
	return out
}
