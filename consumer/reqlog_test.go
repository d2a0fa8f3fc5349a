package consumer

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/handler"
)

// TestLoggerOfARequest: a Go handler's handler.Logger(ctx) writes lines
// that carry the request's exchange and correlation id.
func TestLoggerOfARequest(t *testing.T) {
	var buf bytes.Buffer
	base := zerolog.New(&buf).With().Str("vhost", "v").Logger()
	ctx := handler.WithRequestLog(context.Background(), &requestLog{base: &base, exchange: "dx_a", cid: "c-1"})
	l := handler.Logger(ctx)
	l.Info().Msg("from the handler")
	if got := buf.String(); !strings.Contains(got, `"vhost":"v","exchange":"dx_a","correlation_id":"c-1"`) || !strings.Contains(got, "from the handler") {
		t.Errorf("line = %s", got)
	}
}
