package handler

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// permissiveContract takes any object and answers {"ok": bool}; %s is the
// timeout in seconds.
const permissiveContract = `{"description":"test","lock_attribute":null,"timeout_seconds":%s,
 "request":{"type":"object"},
 "response":{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"],"additionalProperties":false}}`

func mustWrite(t testing.TB, path, body string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
}

// testBackoff waits 10 ms after each failed start, up to 100 ms.
func testBackoff(failures int) time.Duration {
	return min(time.Duration(failures)*10*time.Millisecond, 100*time.Millisecond)
}
