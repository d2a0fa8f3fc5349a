package consumer

import (
	"encoding/json"
	"sort"

	"github.com/fernet/fernet-go"
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
		if !ok || len(s) < 50 || s[0] != 'g' { // every token starts with version 0x80: "gAAAA"
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
