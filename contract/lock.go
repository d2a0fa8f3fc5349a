package contract

import (
	"bytes"
	"encoding/json"
)

// LockValue is the value of a decoded request's lock attribute as JSON
// ("null" when the request lacks it), or "" when the contract has no lock
// attribute: requests with the same lock value run one at a time.
func (c *Compiled) LockValue(obj map[string]any) string {
	if c.contract.LockAttribute == "" {
		return ""
	}
	v, _ := json.Marshal(obj[c.contract.LockAttribute])
	return string(v)
}

// ProveRequest proves a request valid straight from its bytes, when
// nothing needs its decoded form: no defaults to apply, no top-level
// string that may be a Fernet token (checked only with fernetKeys), and a
// lock value whose bytes are what LockValue makes of it. It returns the
// request's lock value, as LockValue would. When it proves nothing, the
// request must be decoded and checked with CheckRequest.
func (c *Compiled) ProveRequest(body []byte, fernetKeys bool) (lockValue string, proven bool) {
	if c.defaults != nil {
		return "", false
	}
	top := rawTop{lockAttribute: c.contract.LockAttribute, tokens: fernetKeys}
	if !c.request.quick.proveObject(body, &top) || top.maybeToken {
		return "", false
	}
	if c.contract.LockAttribute == "" {
		return "", true
	}
	v := top.lockValue
	if v == nil {
		v = []byte("null")
	}
	if !encodesAsItself(v) {
		return "", false
	}
	return string(v), true
}

// encodesAsItself is true for a JSON scalar that encoding/json, decoding
// and encoding it again, writes back byte for byte: a number, true, false,
// null, or a string without escapes or the characters it escapes.
func encodesAsItself(v []byte) bool {
	switch v[0] {
	case '{', '[':
		return false
	case '"':
		s, _, plain := rawString(v, 0)
		return plain && !bytes.ContainsAny(s, "<>&\u2028\u2029")
	}
	return true
}
