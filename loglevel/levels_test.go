package loglevel

import (
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

func TestParse(t *testing.T) {
	tests := []struct {
		spec    string
		want    string // canonical form
		handler zerolog.Level
		amqp    zerolog.Level
		err     string
	}{
		{spec: "info", want: "info", handler: zerolog.InfoLevel, amqp: zerolog.InfoLevel},
		{spec: "info,handler=debug", want: "info,handler=debug", handler: zerolog.DebugLevel, amqp: zerolog.InfoLevel},
		{spec: " handler=trace , warn ", want: "warn,handler=trace", handler: zerolog.TraceLevel, amqp: zerolog.WarnLevel},
		{spec: "handler=debug", want: "info,handler=debug", handler: zerolog.DebugLevel, amqp: zerolog.InfoLevel},
		{spec: "ERROR,amqp=info,handler=error", want: "error,amqp=info", handler: zerolog.ErrorLevel, amqp: zerolog.InfoLevel},
		{spec: "", err: "empty log level"},
		{spec: "loud", err: `"loud" is not a level (trace, debug, info, warn, error)`},
		{spec: "info,debug", err: `"debug": a second default level`},
		{spec: "info,handlers=debug", err: `"handlers" is not a component (amqp, consumer, handler, logship, metrics)`},
		{spec: "handler=debug,handler=info", err: "component handler is given twice"},
		{spec: "handler=", err: `"" is not a level`},
		{spec: "fatal", err: `"fatal" is not a level`},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			l, err := Parse(tt.spec)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Parse(%q) error = %v, want one containing %q", tt.spec, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.spec, err)
			}
			if got := l.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if l.Of(Handler) != tt.handler || l.Of(AMQP) != tt.amqp {
				t.Errorf("handler %v amqp %v, want %v %v", l.Of(Handler), l.Of(AMQP), tt.handler, tt.amqp)
			}
			again, err := Parse(l.String())
			if err != nil || again.String() != l.String() {
				t.Errorf("canonical form %q does not parse back: %v %q", l.String(), err, again.String())
			}
		})
	}
}

func TestMoreVerbose(t *testing.T) {
	tests := []struct{ from, want string }{
		{"info", "debug"},
		{"info,handler=debug", "debug,handler=trace"},
		{"trace", "trace"},
		{"error,amqp=warn", "warn,amqp=info"},
	}
	for _, tt := range tests {
		l, err := Parse(tt.from)
		if err != nil {
			t.Fatal(err)
		}
		if got := l.MoreVerbose().String(); got != tt.want {
			t.Errorf("MoreVerbose(%q) = %q, want %q", tt.from, got, tt.want)
		}
	}
}
