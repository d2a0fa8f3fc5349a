package consumer

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// helperPy is a persistent handler written with the repository's Python
// helper (python/rabbitmq_consumer_handler.py), steered by the request's
// "do"; it answers with its pid and the metadata it was given.
const helperPy = `#!/usr/bin/env python3
import os, sys
sys.path.insert(0, "PYTHONDIR")
from rabbitmq_consumer_handler import reply, serve

def handle(request, meta):
    do = request.get("do", "echo")
    if do == "raise":
        raise RuntimeError("raised-by-the-handler")
    if do == "print":
        print("printed-by-the-handler", request)
        sys.stdout.write("written-to-sys.stdout\n")
        os.system("echo echoed-by-a-child")
    return reply(True, str(os.getpid()), {"correlation_id": meta.correlation_id, "exchange": meta.exchange,
                                          "virtual_host": meta.virtual_host, "redelivered": meta.redelivered})

serve(handle)
`

// TestPythonHelperThroughTheBroker: a handler written with the Python
// helper answers through the consumer; an exception in its function gets
// the unexpected-error reply (traceback in the log) and the same process
// serves the next request; a print() in its function goes to the log, not
// into the protocol.
func TestPythonHelperThroughTheBroker(t *testing.T) {
	pythonDir, err := filepath.Abs("../python")
	if err != nil {
		t.Fatal(err)
	}
	handlers := t.TempDir()
	mustWrite(t, filepath.Join(handlers, "dx_h", "handler"), strings.ReplaceAll(helperPy, "PYTHONDIR", pythonDir), 0o755)
	mustWrite(t, filepath.Join(handlers, "dx_h", "contract.json"), `{"description":"helper","mode":"persistent","timeout_seconds":30,"request":{"type":"object"},"response":{"type":"object"}}`, 0o644)
	h := start(t, setup{exchanges: []string{"dx_h"}, handlersDir: handlers, prefetch: 1})
	c := h.caller(false)

	r := h.call(c, "dx_h", map[string]any{"n": 1})
	pid := pidOf(t, r)
	var meta struct {
		CorrelationID string `json:"correlation_id"`
		Exchange      string `json:"exchange"`
		VirtualHost   string `json:"virtual_host"`
		Redelivered   bool   `json:"redelivered"`
	}
	if err := json.Unmarshal(r.Data, &meta); err != nil || meta.CorrelationID == "" || meta.Exchange != "dx_h" || meta.VirtualHost != h.vh.Name || meta.Redelivered {
		t.Errorf("metadata = %s (%v), want a correlation id, dx_h, %s, not redelivered", r.Data, err, h.vh.Name)
	}

	r = h.call(c, "dx_h", map[string]any{"do": "raise"})
	if r.Success || r.Message != wire.MessageUnexpectedError || string(r.Data) != "null" {
		t.Fatalf("reply to an exception = %+v %s, want the unexpected error", r, r.Data)
	}
	testutil.WaitFor(t, "the traceback in the log", 30*time.Second, func() bool {
		return strings.Contains(h.logs.String(), "RuntimeError: raised-by-the-handler")
	})
	if got := pidOf(t, h.call(c, "dx_h", map[string]any{})); got != pid {
		t.Errorf("after an exception served by %d, want the same process %d", got, pid)
	}

	if got := pidOf(t, h.call(c, "dx_h", map[string]any{"do": "print"})); got != pid {
		t.Errorf("a request that prints served by %d, want the same process %d", got, pid)
	}
	for _, s := range []string{"printed-by-the-handler", "written-to-sys.stdout", "echoed-by-a-child"} {
		testutil.WaitFor(t, s+" in the log", 30*time.Second, func() bool { return strings.Contains(h.logs.String(), s) })
	}
	if got := pidOf(t, h.call(c, "dx_h", map[string]any{})); got != pid {
		t.Errorf("after a print served by %d, want the same process %d", got, pid)
	}
	if strings.Contains(h.logs.String(), "broke the protocol") {
		t.Errorf("the handler broke the protocol:\n%s", h.logs.String())
	}
}
