package cli

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// uuid4 is the canonical form of a UUID version 4 (RFC 9562 variant), the
// only correlation ids the reference log server accepts.
var uuid4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestCorrelationIDIsUUID4: the handler answers with the correlation id it
// got from rabbitmq-rpc, which must be a UUID4.
func TestCorrelationIDIsUUID4(t *testing.T) {
	cfg, vhost := serve(t)
	for range 5 {
		var stdout, stderr bytes.Buffer
		if code := Main([]string{"--config-file-path", cfg, "--virtual-host-name", vhost, "--exchange", "dx_id", `{}`}, strings.NewReader(""), &stdout, &stderr); code != ExitSuccess {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		var r struct{ Message string }
		if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
			t.Fatalf("output %q: %v", stdout.String(), err)
		}
		if !uuid4.MatchString(r.Message) {
			t.Errorf("correlation id %q is not a UUID4", r.Message)
		}
	}
}
