package handler

import (
	"io"
	"slices"
	"testing"

	"github.com/rs/zerolog"
)

func TestHandlerEnv(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want []string
	}{
		{"the allow-list", []string{"PATH=/bin", "HOME=/root", "LANG=C", "LC_ALL=C.UTF-8", "TZ=UTC", "USER=root", "SHELL=/bin/sh"},
			[]string{"PATH=/bin", "HOME=/root", "LANG=C", "LC_ALL=C.UTF-8", "TZ=UTC"}},
		{"never the consumer's settings", []string{"RABBITMQ_CONSUMER_SERVER_PASSWORD=p", "RABBITMQ_CONSUMER_LOG_SERVER_API_TOKEN=t", "PATH=/bin"},
			[]string{"PATH=/bin"}},
		{"not the consumer's RPC_ variables", []string{"RPC_EXCHANGE=x", "PATH=/bin"}, []string{"PATH=/bin"}},
		{"what the operator lists", []string{EnvVariable + "=A,B  C", "A=1", "B=2", "C=3", "D=4"}, []string{"A=1", "B=2", "C=3"}},
		{"listed, still never a setting", []string{EnvVariable + "=RABBITMQ_CONSUMER_SERVER_PASSWORD", "RABBITMQ_CONSUMER_SERVER_PASSWORD=p"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := handlerEnv(tt.env, zerolog.New(io.Discard)); !slices.Equal(got, tt.want) {
				t.Fatalf("handlerEnv = %q, want %q", got, tt.want)
			}
		})
	}
}
