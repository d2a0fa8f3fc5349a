package contractdocs

import (
	"fmt"
	"strings"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/contract"
)

// Field is one row of a schema's field table.
type Field struct {
	// Path is the field's place in the document: "a", "a.b", "items[].name".
	Path string
	// Name is the last element of Path.
	Name string
	// Depth is how deep the field is nested (0 at the top).
	Depth int
	// Type says what the value is, e.g. "string", "array of integer",
	// "object", "string or null".
	Type string
	// Required is true when the enclosing object requires the field.
	Required bool
	// Default is the schema's default as JSON text, empty when none.
	Default string
	// Constraints are the schema's checks, each for people: "> 0",
	// "one of: \"a\", \"b\"", "at most 64 characters".
	Constraints []string
	// Description is the schema's title and description.
	Description string
	// Encrypted is true when the caller is expected to Fernet-encrypt it.
	Encrypted bool
}

// Closed reports whether an object schema refuses fields it does not
// list ("additionalProperties": false at its top).
func Closed(schema []byte) bool {
	root, err := decodeOrdered(schema)
	if err != nil {
		return false
	}
	w := walker{root: root, active: map[string]bool{}}
	o, _ := w.resolve(root).(*object)
	return o.get("additionalProperties") == false
}

// Fields lists the fields of a schema document (the contract's request or
// response schema) for a table: every property, nested objects and array
// elements expanded, local $refs followed. A schema that is not an object
// gives one row describing the whole value, named "(value)".
func Fields(schema []byte) ([]Field, error) {
	root, err := decodeOrdered(schema)
	if err != nil {
		return nil, err
	}
	w := walker{root: root, active: map[string]bool{}}
	s := w.resolve(root)
	if !w.isObject(s) {
		f := w.describe(s, Field{Path: "(value)", Name: "(value)"})
		return []Field{f}, nil
	}
	w.properties(s, "", 0)
	return w.out, nil
}

type walker struct {
	root   any
	out    []Field
	active map[string]bool // $refs being expanded: a recursive schema stops there
}

// resolve follows a local $ref ("#/$defs/X") to the schema it names,
// merging the referring schema's own keywords (draft 2020-12 allows both).
func (w *walker) resolve(s any) any {
	o, ok := s.(*object)
	if !ok {
		return s
	}
	ref, _ := o.get("$ref").(string)
	if ref == "" || !strings.HasPrefix(ref, "#") {
		return s
	}
	target := pointer(w.root, strings.TrimPrefix(ref, "#"))
	to, ok := target.(*object)
	if !ok {
		return s
	}
	merged := &object{vals: map[string]any{}}
	for _, src := range []*object{to, o} {
		for _, k := range src.keys {
			if k == "$ref" {
				continue
			}
			if _, dup := merged.vals[k]; !dup {
				merged.keys = append(merged.keys, k)
			}
			merged.vals[k] = src.vals[k]
		}
	}
	return merged
}

// pointer evaluates a JSON pointer in doc.
func pointer(doc any, ptr string) any {
	if ptr == "" {
		return doc
	}
	cur := doc
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch c := cur.(type) {
		case *object:
			cur = c.get(tok)
		case []any:
			var i int
			if _, err := fmt.Sscan(tok, &i); err != nil || i < 0 || i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

// nonNull returns the branch of an anyOf/oneOf "X or null" that is not
// null, and whether the schema is such a pair.
func (w *walker) nonNull(s *object) (any, bool) {
	for _, kw := range []string{"anyOf", "oneOf"} {
		branches, _ := s.get(kw).([]any)
		if len(branches) != 2 {
			continue
		}
		for i, b := range branches {
			bo, _ := w.resolve(b).(*object)
			if t, _ := bo.get("type").(string); t == "null" {
				return branches[1-i], true
			}
		}
	}
	return nil, false
}

func (w *walker) isObject(s any) bool {
	o, ok := s.(*object)
	if !ok {
		return false
	}
	if t, _ := o.get("type").(string); t == "object" {
		return true
	}
	_, hasProps := o.get("properties").(*object)
	return hasProps
}

// properties appends the rows of an object schema's properties, and those
// of its allOf members.
func (w *walker) properties(s any, prefix string, depth int) {
	o, ok := s.(*object)
	if !ok {
		return
	}
	required := map[string]bool{}
	if req, ok := o.get("required").([]any); ok {
		for _, r := range req {
			if name, ok := r.(string); ok {
				required[name] = true
			}
		}
	}
	if props, ok := o.get("properties").(*object); ok {
		for _, name := range props.keys {
			path := name
			if prefix != "" {
				path = prefix + "." + name
			}
			f := Field{Path: path, Name: name, Depth: depth, Required: required[name]}
			if depth == 0 && prefix == "" {
				if p, ok := props.get(name).(*object); ok && p.get(contract.FernetAnnotation) == true {
					f.Encrypted = true
				}
			}
			w.field(props.get(name), f)
		}
	}
	if all, ok := o.get("allOf").([]any); ok {
		for _, m := range all {
			w.properties(w.resolve(m), prefix, depth)
		}
	}
}

// field appends a property's row, then the rows of what it contains.
func (w *walker) field(raw any, f Field) {
	ro, _ := raw.(*object)
	ref, _ := ro.get("$ref").(string)
	if ref != "" {
		if w.active[ref] {
			f.Type = "recursive: see above"
			w.out = append(w.out, f)
			return
		}
		w.active[ref] = true
		defer delete(w.active, ref)
	}
	s := w.resolve(raw)
	w.out = append(w.out, w.describe(s, f))
	w.children(s, f.Path, f.Depth+1)
}

// children expands an object's properties and an array's elements.
func (w *walker) children(s any, path string, depth int) {
	o, ok := s.(*object)
	if !ok {
		return
	}
	if inner, ok := w.nonNull(o); ok {
		w.children(w.resolve(inner), path, depth)
		return
	}
	if w.isObject(o) {
		w.properties(o, path, depth)
		return
	}
	if items := w.resolve(o.get("items")); w.isObject(items) {
		w.properties(items, path+"[]", depth)
	}
}

// describe fills a row's type, default, constraints and description.
func (w *walker) describe(s any, f Field) Field {
	o, _ := s.(*object)
	f.Type = w.typeOf(s)
	if d, ok := o.vals["default"]; ok && o != nil {
		f.Default = jsonText(d)
	}
	f.Constraints = w.constraints(o)
	var desc []string
	for _, k := range []string{"title", "description"} {
		if t, ok := o.get(k).(string); ok && t != "" {
			desc = append(desc, t)
		}
	}
	f.Description = strings.Join(desc, ": ")
	return f
}

// typeOf says what a schema accepts, in a few words.
func (w *walker) typeOf(s any) string {
	o, ok := s.(*object)
	if !ok {
		if s == true {
			return "any"
		}
		return "nothing"
	}
	if inner, ok := w.nonNull(o); ok {
		return w.typeOf(w.resolve(inner)) + " or null"
	}
	var t string
	switch v := o.get("type").(type) {
	case string:
		t = v
	case []any:
		parts := make([]string, 0, len(v))
		for _, p := range v {
			parts = append(parts, fmt.Sprint(p))
		}
		t = strings.Join(parts, " or ")
	}
	if t == "array" {
		if items := o.get("items"); items != nil {
			t = "array of " + w.typeOf(w.resolve(items))
		}
	}
	if t == "" {
		for _, kw := range []string{"anyOf", "oneOf"} {
			if branches, ok := o.get(kw).([]any); ok {
				parts := make([]string, 0, len(branches))
				for _, b := range branches {
					parts = append(parts, w.typeOf(w.resolve(b)))
				}
				t = strings.Join(parts, " or ")
			}
		}
	}
	if t == "" {
		switch {
		case w.isObject(o):
			t = "object"
		case o.get("enum") != nil || o.get("const") != nil:
			t = "value"
		default:
			t = "any"
		}
	}
	return t
}

// constraintWords say what each keyword checks.
var constraintWords = []struct{ keyword, format string }{
	{"const", "exactly %s"},
	{"minimum", "≥ %s"},
	{"exclusiveMinimum", "> %s"},
	{"maximum", "≤ %s"},
	{"exclusiveMaximum", "< %s"},
	{"multipleOf", "a multiple of %s"},
	{"minLength", "at least %s characters"},
	{"maxLength", "at most %s characters"},
	{"pattern", "matches %s"},
	{"format", "format %s"},
	{"minItems", "at least %s elements"},
	{"maxItems", "at most %s elements"},
	{"minProperties", "at least %s fields"},
	{"maxProperties", "at most %s fields"},
}

func (w *walker) constraints(o *object) []string {
	if o == nil {
		return nil
	}
	if inner, ok := w.nonNull(o); ok {
		o, _ = w.resolve(inner).(*object)
		if o == nil {
			return nil
		}
	}
	var out []string
	if enum, ok := o.get("enum").([]any); ok {
		vals := make([]string, len(enum))
		for i, e := range enum {
			vals[i] = jsonText(e)
		}
		out = append(out, "one of: "+strings.Join(vals, ", "))
	}
	for _, c := range constraintWords {
		v, ok := o.vals[c.keyword]
		if !ok {
			continue
		}
		text := jsonText(v)
		if s, isStr := v.(string); isStr && c.keyword != "const" {
			text = s
		}
		out = append(out, fmt.Sprintf(c.format, text))
	}
	if o.get("uniqueItems") == true {
		out = append(out, "elements unique")
	}
	if o.get("additionalProperties") == false {
		out = append(out, "no other fields")
	}
	return out
}
