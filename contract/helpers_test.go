package contract

import (
	"encoding/json"
	"testing"
)

// mustJSON encodes v for a test message or a literal; it fails the test
// when v cannot be encoded.
func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
