package consumer

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/handler"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// TestRelaysOnly checks which consumers only relay requests to
// persistent handler processes (the runner then gives them fewer threads).
func TestRelaysOnly(t *testing.T) {
	oneShot := `{"description":"test","timeout_seconds":30,"request":{"type":"object"},"response":{"type":"object"}}`
	echo := handler.Typed("echo", func(_ context.Context, _ *handler.Call, r map[string]any) (wire.Reply[map[string]any], error) {
		return wire.Reply[map[string]any]{Success: true, Message: "echo", Data: r}, nil
	})
	tests := []struct {
		name      string
		exchanges []string                   // dx_p: the persistent handler; dx_o: a one-shot one; dx_go: a Go handler
		goOnes    map[string]handler.Handler // Go handlers
		mock      bool
		want      bool
	}{
		{"persistent only", []string{"dx_p"}, nil, false, true},
		{"persistent and one-shot", []string{"dx_p", "dx_o"}, nil, false, false},
		{"persistent and Go", []string{"dx_p", "dx_go"}, map[string]handler.Handler{"dx_go": echo}, false, false},
		{"Go only", []string{"dx_go"}, map[string]handler.Handler{"dx_go": echo}, false, false},
		{"persistent in mock mode", []string{"dx_p"}, nil, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handlers, _ := persistentWorld(t, "30", "")
			mustWrite(t, filepath.Join(handlers, "dx_o", "handler"), "#!/bin/sh\ncat >/dev/null\necho '{\"success\": true, \"message\": \"ok\", \"data\": {}}'\n", 0o755)
			mustWrite(t, filepath.Join(handlers, "dx_o", "contract.json"), oneShot, 0o644)
			exchanges := map[string]config.Exchange{}
			for _, ex := range tt.exchanges {
				exchanges[ex] = config.Exchange{Type: "direct"}
			}
			cfg := &config.Config{
				Path: "test.yml", HandlersDirectory: handlers, Mock: tt.mock,
				Server:       config.Server{Host: "127.0.0.1", Port: 5672, Username: "guest", Password: "guest"},
				VirtualHosts: map[string]config.VirtualHost{"v": {Name: "v", Queue: "q", MaxSimultaneousRequests: 2, Exchanges: exchanges}},
			}
			c, err := New(Options{Config: cfg, VirtualHost: "v", Handlers: tt.goOnes, Logger: zerolog.Nop()})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got := c.RelaysOnly(); got != tt.want {
				t.Errorf("RelaysOnly() with %s = %v, want %v", strings.Join(tt.exchanges, ", "), got, tt.want)
			}
		})
	}
}
