package handler

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// persistentEchoes are minimal persistent handlers: what one request costs
// around the handler's own work, to compare with BenchmarkExecHandle.
var persistentEchoes = map[string]string{
	"python3": `#!/usr/bin/env python3
import json, sys
print(json.dumps({"protocol": "rabbitmq-consumer/1"}), flush=True)
for line in sys.stdin:
    m = json.loads(line)
    print(json.dumps({"correlation_id": m["correlation_id"], "response": {"success": True, "message": "m", "data": m["request"]}}), flush=True)
`,
	"sh": `#!/bin/sh
echo '{"protocol": "rabbitmq-consumer/1"}'
while IFS= read -r line; do
  cid=${line#*\"correlation_id\":\"}; cid=${cid%%\"*}
  printf '{"correlation_id":"%s","response":{"success":true,"message":"m","data":{"ok":true}}}\n' "$cid"
done
`,
}

// BenchmarkPersistentHandle sends requests one after another to a
// persistent echo's warm process.
func BenchmarkPersistentHandle(b *testing.B) {
	for _, lang := range []string{"python3", "sh"} {
		b.Run(lang, func(b *testing.B) {
			dir := b.TempDir()
			mustWrite(b, filepath.Join(dir, "handler"), persistentEchoes[lang], 0o755)
			contract := strings.Replace(permissiveContract, `"timeout_seconds":%s,`, `"timeout_seconds":30,"mode":"persistent",`, 1)
			mustWrite(b, filepath.Join(dir, "contract.json"), contract, 0o644)
			e, err := LoadExec(dir, true)
			if err != nil {
				b.Fatal(err)
			}
			pl := NewPool(e, "bench", "dx_bench", 1, testBackoff, zerolog.Nop())
			if err := pl.Open(); err != nil {
				b.Fatal(err)
			}
			defer pl.Close()
			call := &Call{Exchange: "dx_bench", CorrelationID: "0f8fad5b-d9cb-469f-a165-70867728950e", VirtualHost: "bench", Body: []byte(`{"ok":true}`)}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := pl.Handle(context.Background(), call); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkExecHandlePython is BenchmarkExecHandle with a one-shot Python
// echo, to compare with BenchmarkPersistentHandle/python3.
func BenchmarkExecHandlePython(b *testing.B) {
	dir := b.TempDir()
	mustWrite(b, filepath.Join(dir, "handler"), "#!/usr/bin/env python3\nimport json, sys\nprint(json.dumps({\"success\": True, \"message\": \"m\", \"data\": json.load(sys.stdin)}))\n", 0o755)
	mustWrite(b, filepath.Join(dir, "contract.json"), strings.Replace(permissiveContract, "%s", "30", 1), 0o644)
	h, err := LoadExec(dir, true)
	if err != nil {
		b.Fatal(err)
	}
	call := &Call{Exchange: "dx_bench", CorrelationID: "c", VirtualHost: "bench", Body: []byte(`{"ok":true}`)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Handle(context.Background(), call); err != nil {
			b.Fatal(err)
		}
	}
}
