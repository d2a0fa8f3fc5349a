package handler

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkExecHandle runs a minimal executable handler: what one request
// costs around the process itself (pipes, environment, reaping leftovers).
func BenchmarkExecHandle(b *testing.B) {
	dir := b.TempDir()
	mustWrite(b, filepath.Join(dir, "handler"), "#!/bin/sh\nexec cat\n", 0o755)
	mustWrite(b, filepath.Join(dir, "contract.json"), strings.Replace(permissiveContract, "%s", "30", 1), 0o644)
	h, err := LoadExec(dir, true)
	if err != nil {
		b.Fatal(err)
	}
	call := &Call{Exchange: "dx_bench", CorrelationID: "c", VirtualHost: "bench", Body: []byte(`{"success":true,"message":"m","data":{"ok":true}}`)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Handle(context.Background(), call); err != nil {
			b.Fatal(err)
		}
	}
}
