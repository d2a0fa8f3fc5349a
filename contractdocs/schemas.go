package contractdocs

import (
	"encoding/json"
	"fmt"
	"sort"
)

// Draft2020 is the JSON Schema dialect of every schema the docs serve.
const Draft2020 = "https://json-schema.org/draft/2020-12/schema"

// HeadSchema is the name of the schema that references every action's.
const HeadSchema = "head.json"

// SchemaFile is the name of an action's schema under /schemas/.
func SchemaFile(exchange string) string { return exchange + ".json" }

// ActionSchema is the document served at /schemas/<exchange>.json, in the
// layout of the reference documentation server: an object with the
// properties request_model (the request) and response_model (the whole
// response: success, message, data), titled with the exchange's name.
// The contract's two schemas are embedded unchanged under $defs, each a
// resource of its own ($id <exchange>.request.json and
// <exchange>.response.json, relative to the document), so their local
// $refs keep their meaning.
func ActionSchema(a Action) (json.RawMessage, error) {
	req, err := embedded(a.Request, a.Exchange+".request.json")
	if err != nil {
		return nil, fmt.Errorf("%s: request schema: %w", a.Exchange, err)
	}
	resp, err := embedded(a.Response, a.Exchange+".response.json")
	if err != nil {
		return nil, fmt.Errorf("%s: response schema: %w", a.Exchange, err)
	}
	doc := map[string]any{
		"$schema":     Draft2020,
		"title":       a.Exchange,
		"description": a.Description,
		"type":        "object",
		"properties": map[string]any{
			"request_model":  map[string]any{"$ref": a.Exchange + ".request.json"},
			"response_model": envelope(a.Exchange + ".response.json"),
		},
		"required": []string{"request_model", "response_model"},
		"$defs":    map[string]any{"request": req, "response": resp},
	}
	return json.MarshalIndent(doc, "", "  ")
}

// embedded is a contract schema as an embedded resource with its own $id
// (kept when it names one).
func embedded(schema json.RawMessage, id string) (any, error) {
	var v any
	if err := json.Unmarshal(schema, &v); err != nil {
		return nil, err
	}
	if m, ok := v.(map[string]any); ok {
		if _, has := m["$id"]; !has {
			m["$id"] = id
		}
		return m, nil
	}
	// A boolean schema cannot carry an $id: wrap it.
	return map[string]any{"$id": id, "allOf": []any{v}}, nil
}

// envelope is the schema of a whole response: data matches the response
// schema when success is true; a failure's data is null or the validation
// errors.
func envelope(dataRef string) map[string]any {
	return map[string]any{
		"type": "object",
		"properties": map[string]any{
			"success": map[string]any{"type": "boolean"},
			"message": map[string]any{"type": "string"},
			"data":    true,
		},
		"required":             []string{"success", "message", "data"},
		"additionalProperties": false,
		"if":                   map[string]any{"properties": map[string]any{"success": map[string]any{"const": true}}},
		"then":                 map[string]any{"properties": map[string]any{"data": map[string]any{"$ref": dataRef}}},
		"else": map[string]any{"properties": map[string]any{"data": map[string]any{"anyOf": []any{
			map[string]any{"type": "null"},
			validationErrorsSchema,
		}}}},
	}
}

// validationErrorsSchema is the data of a validation failure (wire.ValidationErrors).
var validationErrorsSchema = map[string]any{
	"type":     "object",
	"required": []string{"errors"},
	"properties": map[string]any{"errors": map[string]any{
		"type": "array",
		"items": map[string]any{
			"type":     "object",
			"required": []string{"location", "message", "type"},
			"properties": map[string]any{
				"location": map[string]any{"type": "array", "items": map[string]any{"type": []string{"string", "integer"}}},
				"message":  map[string]any{"type": "string"},
				"type":     map[string]any{"type": "string"},
			},
		},
	}},
}

// HeadSchemaDoc is /schemas/head.json: every action's schema, by reference.
func HeadSchemaDoc(actions []Action) json.RawMessage {
	refs := make([]any, 0, len(actions))
	for _, a := range actions {
		refs = append(refs, map[string]any{"$ref": SchemaFile(a.Exchange)})
	}
	b, _ := json.MarshalIndent(map[string]any{
		"$schema": Draft2020,
		"title":   "every action",
		"allOf":   refs,
	}, "", "  ")
	return b
}

// SchemaList is /schemas: the names of the schema files, sorted.
func SchemaList(actions []Action) json.RawMessage {
	names := []string{HeadSchema}
	for _, a := range actions {
		names = append(names, SchemaFile(a.Exchange))
	}
	sort.Strings(names)
	b, _ := json.Marshal(names)
	return b
}
