package wire

import (
	"encoding/json"
	"testing"
)

func TestFailureBodies(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"unexpected", UnexpectedFailure(), `{"success":false,"message":"An unexpected error occurred","data":null}`},
		{"validation", ValidationFailure([]ValidationError{{Location: []any{"items", 2, "name"}, Message: "m", Type: "missing"}}),
			`{"success":false,"message":"Request validation failed","data":{"errors":[{"location":["items",2,"name"],"message":"m","type":"missing"}]}}`},
		{"validation empty", ValidationFailure(nil), `{"success":false,"message":"Request validation failed","data":{"errors":[]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("got %s\nwant %s", b, tt.want)
			}
		})
	}
}

func TestIsDirectReplyTo(t *testing.T) {
	for in, want := range map[string]bool{
		"amq.rabbitmq.reply-to":          true,
		"amq.rabbitmq.reply-to.g1h2AA==": true,
		"amq.gen-abc":                    false,
		"":                               false,
	} {
		if got := IsDirectReplyTo(in); got != want {
			t.Errorf("IsDirectReplyTo(%q) = %v", in, got)
		}
	}
}
