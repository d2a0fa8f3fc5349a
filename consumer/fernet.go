package consumer

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"

	"github.com/fernet/fernet-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/contract"
)

// Mask replaces the values of decrypted fields in everything logged or shipped.
const Mask = "*****"

// decryptFields replaces every top-level string value that is a valid
// Fernet token for one of keys by its plaintext, and returns the names of
// the fields it decrypted, sorted.
func decryptFields(obj map[string]any, keys []*fernet.Key) []string {
	if len(keys) == 0 {
		return nil
	}
	var names []string
	for k, v := range obj {
		s, ok := v.(string)
		if !ok || !contract.MayBeFernetToken(s) {
			continue
		}
		if msg := fernet.VerifyAndDecrypt([]byte(s), 0, keys); msg != nil {
			obj[k] = string(msg)
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return names
}

// masked renders obj as JSON with the named fields replaced by Mask.
func masked(obj map[string]any, fields []string) json.RawMessage {
	if len(fields) == 0 {
		b, _ := json.Marshal(obj)
		return b
	}
	c := make(map[string]any, len(obj))
	for k, v := range obj {
		c[k] = v
	}
	for _, f := range fields {
		c[f] = Mask
	}
	b, _ := json.Marshal(c)
	return b
}

// secretsOf lists the decrypted values of the named fields.
func secretsOf(obj map[string]any, fields []string) []string {
	var out []string
	for _, f := range fields {
		if s, ok := obj[f].(string); ok && s != "" {
			out = append(out, s)
		}
	}
	return out
}

// maskSecrets replaces every occurrence of a secret inside the string values
// of a JSON document by Mask, so a handler that echoes a decrypted value
// does not leak it into the log or the log server.
func maskSecrets(doc []byte, secrets []string) []byte {
	if len(secrets) == 0 {
		return doc
	}
	found := false
	for _, s := range secrets {
		if bytes.Contains(doc, []byte(jsonEscape(s))) {
			found = true
		}
	}
	if !found {
		return doc
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber() // numbers as they are
	var v any
	if err := dec.Decode(&v); err != nil {
		return doc
	}
	out, err := json.Marshal(maskValue(v, secrets))
	if err != nil {
		return doc
	}
	return out
}

func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

func maskValue(v any, secrets []string) any {
	switch t := v.(type) {
	case string:
		for _, s := range secrets {
			t = strings.ReplaceAll(t, s, Mask)
		}
		return t
	case map[string]any:
		for k, x := range t {
			t[k] = maskValue(x, secrets)
		}
		return t
	case []any:
		for i, x := range t {
			t[i] = maskValue(x, secrets)
		}
		return t
	}
	return v
}
