// Package clientgen writes client types from the actions' contracts: Go
// request and response types for client.CallTyped, and Python dataclasses
// with no third-party dependency. It is pure: schemas in, source out.
package clientgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Action is what the generators need of one action.
type Action struct {
	// Exchange names the action.
	Exchange string
	// Description says what it does.
	Description string
	// Request and Response are its JSON Schemas (the response's is the
	// schema of a successful response's data).
	Request, Response json.RawMessage
}

// node is a JSON Schema object with its keys in document order.
type node struct {
	keys []string
	vals map[string]json.RawMessage
}

func parseNode(raw json.RawMessage) (*node, error) {
	raw = bytes.TrimSpace(raw)
	n := &node{vals: map[string]json.RawMessage{}}
	if len(raw) == 0 || raw[0] != '{' {
		return n, nil // true, false: no constraint the types can say
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := kt.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if _, dup := n.vals[k]; !dup {
			n.keys = append(n.keys, k)
		}
		n.vals[k] = v
	}
	return n, nil
}

func (n *node) str(key string) string {
	var s string
	_ = json.Unmarshal(n.vals[key], &s)
	return s
}

// types lists the JSON types the schema names ("type": "x" or [...]).
func (n *node) types() []string {
	raw, ok := n.vals["type"]
	if !ok {
		return nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(raw, &many)
	return many
}

func (n *node) required() map[string]bool {
	var req []string
	_ = json.Unmarshal(n.vals["required"], &req)
	out := map[string]bool{}
	for _, r := range req {
		out[r] = true
	}
	return out
}

// props is the node's properties in document order.
func (n *node) props() (*node, error) {
	raw, ok := n.vals["properties"]
	if !ok {
		return nil, nil
	}
	return parseNode(raw)
}

// resolver follows local $refs within one schema document.
type resolver struct {
	root json.RawMessage
}

// resolve returns the schema a $ref names (with the referring schema's
// other keywords added), and the name of the $defs entry when it is one.
func (r resolver) resolve(raw json.RawMessage) (*node, string, error) {
	n, err := parseNode(raw)
	if err != nil {
		return nil, "", err
	}
	ref := n.str("$ref")
	if !strings.HasPrefix(ref, "#") {
		return n, "", nil
	}
	target, err := pointer(r.root, strings.TrimPrefix(ref, "#"))
	if err != nil {
		return nil, "", fmt.Errorf("$ref %s: %w", ref, err)
	}
	t, err := parseNode(target)
	if err != nil {
		return nil, "", err
	}
	for _, k := range n.keys {
		if k == "$ref" {
			continue
		}
		if _, has := t.vals[k]; !has {
			t.keys = append(t.keys, k)
		}
		t.vals[k] = n.vals[k]
	}
	name := ref[strings.LastIndexByte(ref, '/')+1:]
	return t, name, nil
}

func pointer(doc json.RawMessage, ptr string) (json.RawMessage, error) {
	cur := doc
	if ptr == "" {
		return cur, nil
	}
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		var m map[string]json.RawMessage
		if err := json.Unmarshal(cur, &m); err != nil {
			return nil, fmt.Errorf("no %s", ptr)
		}
		next, ok := m[tok]
		if !ok {
			return nil, fmt.Errorf("no %s", ptr)
		}
		cur = next
	}
	return cur, nil
}

// nullable returns the non-null branch of "X or null" (anyOf/oneOf of two,
// or "type": [X, "null"]).
func (r resolver) nullable(n *node) (json.RawMessage, bool) {
	for _, kw := range []string{"anyOf", "oneOf"} {
		var branches []json.RawMessage
		if json.Unmarshal(n.vals[kw], &branches) != nil || len(branches) != 2 {
			continue
		}
		for i, b := range branches {
			bn, _, err := r.resolve(b)
			if err == nil && len(bn.types()) == 1 && bn.types()[0] == "null" {
				return branches[1-i], true
			}
		}
	}
	return nil, false
}

// words splits a JSON name into the words of an identifier.
func words(name string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	prevLower := false
	for _, r := range name {
		isLetter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		isDigit := r >= '0' && r <= '9'
		switch {
		case !isLetter && !isDigit:
			flush()
			prevLower = false
			continue
		case r >= 'A' && r <= 'Z' && prevLower:
			flush()
		}
		cur.WriteRune(r)
		prevLower = r >= 'a' && r <= 'z' || isDigit
	}
	flush()
	return out
}

// objectFields lists an object schema's fields: its properties in document
// order, each made by field, then the fields of every schema in its allOf.
func objectFields[F any](r resolver, n *node, field func(name string, schema json.RawMessage, required bool) (F, error)) ([]F, error) {
	props, err := n.props()
	if err != nil {
		return nil, err
	}
	var out []F
	if props != nil {
		req := n.required()
		for _, p := range props.keys {
			f, err := field(p, props.vals[p], req[p])
			if err != nil {
				return nil, err
			}
			out = append(out, f)
		}
	}
	var all []json.RawMessage
	_ = json.Unmarshal(n.vals["allOf"], &all)
	for _, m := range all {
		mn, _, err := r.resolve(m)
		if err != nil {
			return nil, err
		}
		more, err := objectFields(r, mn, field)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}
