package contractlint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/contract"
)

// defaults checks every "default" of the request schema against the
// schema it stands in: a default its own schema refuses would make every
// request that omits the field fail.
func (l *linter) defaults(raw json.RawMessage, assertFormat bool) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return
	}
	var ptrs []string
	findDefaults(doc, "", &ptrs)
	if len(ptrs) == 0 {
		return
	}
	comp, err := compiler(doc, assertFormat)
	if err != nil {
		return
	}
	for _, ptr := range ptrs {
		sch, err := comp.Compile(schemaURL + "#" + ptr)
		if err != nil {
			continue // not a schema location (e.g. inside an example)
		}
		def := at(doc, ptr).(map[string]any)["default"]
		if err := sch.Validate(def); err != nil {
			msg := "does not match its schema"
			var ve *jsonschema.ValidationError
			if errors.As(err, &ve) {
				ls := leaves(ve)
				msg += ": " + leafMessage(ls[0])
			}
			l.add("/request"+ptr+"/default", "%s", msg)
		}
	}
}

// schemaKeywords hold schemas (objects of schemas, arrays of schemas, or
// one schema); findDefaults looks for defaults only where a schema can be.
var (
	schemaMaps   = map[string]bool{"properties": true, "$defs": true, "definitions": true, "patternProperties": true, "dependentSchemas": true}
	schemaArrays = map[string]bool{"allOf": true, "anyOf": true, "oneOf": true, "prefixItems": true}
	schemaOne    = map[string]bool{"items": true, "additionalProperties": true, "not": true, "if": true, "then": true, "else": true, "contains": true, "propertyNames": true, "unevaluatedItems": true, "unevaluatedProperties": true, "additionalItems": true}
)

func findDefaults(v any, ptr string, out *[]string) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	if _, has := m["default"]; has {
		*out = append(*out, ptr)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		sub := ptr + "/" + escape(k)
		switch {
		case schemaMaps[k]:
			if mm, ok := m[k].(map[string]any); ok {
				names := make([]string, 0, len(mm))
				for n := range mm {
					names = append(names, n)
				}
				sort.Strings(names)
				for _, n := range names {
					findDefaults(mm[n], sub+"/"+escape(n), out)
				}
			}
		case schemaArrays[k]:
			if arr, ok := m[k].([]any); ok {
				for i, e := range arr {
					findDefaults(e, fmt.Sprintf("%s/%d", sub, i), out)
				}
			}
		case schemaOne[k]:
			findDefaults(m[k], sub, out)
		}
	}
}

func escape(s string) string { return strings.NewReplacer("~", "~0", "/", "~1").Replace(s) }

func at(doc any, ptr string) any {
	cur := doc
	if ptr == "" {
		return cur
	}
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch c := cur.(type) {
		case map[string]any:
			cur = c[tok]
		case []any:
			var i int
			fmt.Sscan(tok, &i)
			cur = c[i]
		}
	}
	return cur
}

// lockAttribute checks that the lock attribute is a required top-level
// string field of the request: the consumer locks on its value, and a
// request without it, or with another type, would share one lock.
func (l *linter) lockAttribute(c *contract.Contract) {
	name := c.LockAttribute
	if name == "" {
		return
	}
	var schema struct {
		Properties map[string]struct {
			Type any `json:"type"`
		} `json:"properties"`
		Required []string `json:"required"`
	}
	if err := json.Unmarshal(c.Request, &schema); err != nil {
		return
	}
	prop, ok := schema.Properties[name]
	switch {
	case !ok:
		l.add("/lock_attribute", "%q is not a property of the request schema", name)
		return
	case prop.Type != "string":
		l.add("/request/properties/"+escape(name)+"/type", "the lock attribute %q must be of type \"string\" (got %v)", name, typeText(prop.Type))
	}
	for _, r := range schema.Required {
		if r == name {
			return
		}
	}
	l.add("/request/required", "the lock attribute %q must be required", name)
}

func typeText(t any) string {
	if t == nil {
		return "no type"
	}
	b, _ := json.Marshal(t)
	return string(b)
}

// fernetFields checks the x-fernet annotations: true or false, on
// top-level string properties only.
func (l *linter) fernetFields(raw json.RawMessage) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return
	}
	top := map[string]bool{}
	if m, ok := doc.(map[string]any); ok {
		if props, ok := m["properties"].(map[string]any); ok {
			for name := range props {
				top["/properties/"+escape(name)] = true
			}
		}
	}
	var walk func(v any, ptr string)
	walk = func(v any, ptr string) {
		switch t := v.(type) {
		case map[string]any:
			if f, has := t[contract.FernetAnnotation]; has {
				switch {
				case f != true && f != false:
					l.add("/request"+ptr+"/"+contract.FernetAnnotation, "must be true or false")
				case f == true && !top[ptr]:
					l.add("/request"+ptr+"/"+contract.FernetAnnotation, "only top-level request properties are decrypted by the consumer")
				case f == true && t["type"] != "string":
					l.add("/request"+ptr+"/"+contract.FernetAnnotation, "only string properties can be Fernet-encrypted")
				}
			}
			for k, e := range t {
				walk(e, ptr+"/"+escape(k))
			}
		case []any:
			for i, e := range t {
				walk(e, fmt.Sprintf("%s/%d", ptr, i))
			}
		}
	}
	walk(doc, "")
}
