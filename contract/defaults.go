package contract

import (
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// defaults are the "default" values that a request schema gives to absent
// object properties, applied to a request before validation, as the
// reference consumer's Pydantic models do. They are found wherever the
// schema says so unambiguously: under properties, through items, local
// $ref (also at the root), allOf, and the one branch of an anyOf or oneOf
// that may be an object or an array (Pydantic's Optional[Model]). A
// property given two different defaults gets none.
type defaults struct {
	props map[string]any       // an absent property's default
	sub   map[string]*defaults // the defaults inside a property's value
	items *defaults            // the defaults inside each element of an array
}

// apply fills the absent properties of v and of the values inside it with
// their defaults; it reports whether it changed anything.
func (d *defaults) apply(v any) bool {
	if d == nil {
		return false
	}
	changed := false
	switch t := v.(type) {
	case map[string]any:
		for k, def := range d.props {
			if _, ok := t[k]; !ok {
				t[k] = deepCopy(def)
				changed = true
			}
		}
		for k, sd := range d.sub {
			if child, ok := t[k]; ok && sd.apply(child) {
				changed = true
			}
		}
	case []any:
		for _, e := range t {
			if d.items.apply(e) {
				changed = true
			}
		}
	}
	return changed
}

// defaultCheck is a default to check against the schemas of its property.
type defaultCheck struct {
	value   any
	at      string   // JSON pointer of the schema holding the default
	against []string // JSON pointers of the schemas the value must match
}

// part is a schema object with its JSON pointer in the document.
type part struct {
	node map[string]any
	ptr  string
}

type defaultsBuilder struct {
	root   any
	memo   map[string]*defaults
	all    []*defaults
	checks []defaultCheck
}

// defaultsOf finds the defaults of a schema document; nil when it has
// none. It also lists the defaults found, to check against their schemas.
func defaultsOf(doc any) (*defaults, []defaultCheck) {
	root, ok := doc.(map[string]any)
	if !ok {
		return nil, nil
	}
	b := &defaultsBuilder{root: doc, memo: map[string]*defaults{}}
	d := b.build([]part{{root, ""}})
	// Keep only what leads to a default.
	live := map[*defaults]bool{}
	for grew := true; grew; {
		grew = false
		for _, n := range b.all {
			if live[n] {
				continue
			}
			if len(n.props) > 0 || live[n.items] {
				live[n], grew = true, true
				continue
			}
			for _, s := range n.sub {
				if live[s] {
					live[n], grew = true, true
					break
				}
			}
		}
	}
	for _, n := range b.all {
		for k, s := range n.sub {
			if !live[s] {
				delete(n.sub, k)
			}
		}
		if !live[n.items] {
			n.items = nil
		}
	}
	if !live[d] {
		return nil, b.checks
	}
	return d, b.checks
}

func (b *defaultsBuilder) build(parts []part) *defaults {
	flat := b.flatten(parts, nil, map[string]bool{})
	ptrs := make([]string, len(flat))
	for i, p := range flat {
		ptrs[i] = p.ptr
	}
	sort.Strings(ptrs)
	key := strings.Join(ptrs, "\x00")
	if d, ok := b.memo[key]; ok {
		return d
	}
	d := &defaults{props: map[string]any{}, sub: map[string]*defaults{}}
	b.memo[key] = d
	b.all = append(b.all, d)
	children := map[string][]part{}
	var names []string
	var items []part
	for _, p := range flat {
		if props, ok := p.node["properties"].(map[string]any); ok {
			for name, s := range props {
				if m, ok := s.(map[string]any); ok {
					if children[name] == nil {
						names = append(names, name)
					}
					children[name] = append(children[name], part{m, p.ptr + "/properties/" + escapePointer(name)})
				}
			}
		}
		if m, ok := p.node["items"].(map[string]any); ok {
			items = append(items, part{m, p.ptr + "/items"})
		}
	}
	sort.Strings(names)
	for _, name := range names {
		if v, at, ok := b.defaultOf(children[name]); ok {
			d.props[name] = v
			against := make([]string, len(children[name]))
			for i, c := range children[name] {
				against[i] = c.ptr
			}
			b.checks = append(b.checks, defaultCheck{value: v, at: at, against: against})
		}
		d.sub[name] = b.build(children[name])
	}
	if len(items) > 0 {
		d.items = b.build(items)
	}
	return d
}

// defaultOf is the one default the schemas of a property give it.
func (b *defaultsBuilder) defaultOf(parts []part) (v any, at string, ok bool) {
	for _, p := range b.flatten(parts, nil, map[string]bool{}) {
		dv, has := p.node["default"]
		switch {
		case !has:
		case !ok:
			v, at, ok = dv, p.ptr, true
		case !reflect.DeepEqual(v, dv):
			return nil, "", false // two different defaults: none
		}
	}
	return v, at, ok
}

// flatten lists the schema objects that apply to the same instance as
// parts: themselves, what their local $ref, their allOf members and the
// only branch of their anyOf or oneOf that may be an object or an array
// lead to.
func (b *defaultsBuilder) flatten(parts []part, out []part, seen map[string]bool) []part {
	for _, p := range parts {
		if seen[p.ptr] {
			continue
		}
		seen[p.ptr] = true
		out = append(out, p)
		if ref, ok := p.node["$ref"].(string); ok {
			if target, ok := b.resolve(ref); ok {
				out = b.flatten([]part{target}, out, seen)
			}
		}
		if all, ok := p.node["allOf"].([]any); ok {
			out = b.flatten(subParts(all, p.ptr+"/allOf"), out, seen)
		}
		for _, kw := range []string{"anyOf", "oneOf"} {
			branches, ok := p.node[kw].([]any)
			if !ok {
				continue
			}
			var structured []part
			for _, br := range subParts(branches, p.ptr+"/"+kw) {
				if b.mayBeStructured(br) {
					structured = append(structured, br)
				}
			}
			if len(structured) == 1 {
				out = b.flatten(structured, out, seen)
			}
		}
	}
	return out
}

func subParts(list []any, ptr string) []part {
	var out []part
	for i, s := range list {
		if m, ok := s.(map[string]any); ok {
			out = append(out, part{m, ptr + "/" + strconv.Itoa(i)})
		}
	}
	return out
}

// mayBeStructured is false for a branch whose type (through $ref) admits
// neither an object nor an array.
func (b *defaultsBuilder) mayBeStructured(p part) bool {
	for hops := 0; hops < 32; hops++ {
		switch t := p.node["type"].(type) {
		case string:
			return t == "object" || t == "array"
		case []any:
			for _, e := range t {
				if e == "object" || e == "array" {
					return true
				}
			}
			return false
		}
		ref, ok := p.node["$ref"].(string)
		if !ok {
			return true
		}
		if p, ok = b.resolve(ref); !ok {
			return true
		}
	}
	return true
}

// resolve finds the schema object a local $ref ("#", "#/$defs/X") names.
func (b *defaultsBuilder) resolve(ref string) (part, bool) {
	frag, ok := strings.CutPrefix(ref, "#")
	if !ok || (frag != "" && !strings.HasPrefix(frag, "/")) {
		return part{}, false
	}
	cur := b.root
	ptr := ""
	if frag != "" {
		for _, tok := range strings.Split(frag[1:], "/") {
			if t, err := url.PathUnescape(tok); err == nil {
				tok = t
			}
			tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
			switch c := cur.(type) {
			case map[string]any:
				cur = c[tok]
			case []any:
				i, err := strconv.Atoi(tok)
				if err != nil || i < 0 || i >= len(c) {
					return part{}, false
				}
				cur = c[i]
			default:
				return part{}, false
			}
			ptr += "/" + escapePointer(tok)
		}
	}
	m, ok := cur.(map[string]any)
	return part{m, ptr}, ok
}

func escapePointer(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}

// checkDefaults checks every default against the schemas of its property:
// a default its own schema refuses would make every request that omits
// the property fail.
func checkDefaults(name string, doc any, assertFormat bool, checks []defaultCheck) error {
	if len(checks) == 0 {
		return nil
	}
	comp, base, err := newCompiler(name, doc, assertFormat)
	if err != nil {
		return err
	}
	for _, c := range checks {
		for _, ptr := range c.against {
			sch, err := comp.Compile(base + "#" + (&url.URL{Fragment: ptr}).EscapedFragment())
			if err != nil {
				return fmt.Errorf("the default at %s: %s", c.at, oneLine(err.Error()))
			}
			if errs := validate(sch, deepCopy(c.value)); len(errs) > 0 {
				where := "its schema"
				if ptr != c.at {
					where = "the schema at " + ptr
				}
				if len(errs[0].Location) > 0 {
					where += fmt.Sprintf(", at %v", errs[0].Location)
				}
				return fmt.Errorf("the default at %s does not match %s: %s", c.at, where, errs[0].Message)
			}
		}
	}
	return nil
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, x := range t {
			s[i] = deepCopy(x)
		}
		return s
	default:
		return v
	}
}
