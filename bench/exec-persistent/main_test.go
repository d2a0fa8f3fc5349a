package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestServe(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		fails          bool
	}{
		{"no request", "", `{"protocol":"rabbitmq-consumer/1"}` + "\n", false},
		{"two requests",
			`{"correlation_id":"a","exchange":"x","virtual_host":"v","redelivered":false,"deadline":null,"request":{"n":1,"payload":"p"}}` + "\n" +
				`{"correlation_id":"b","exchange":"x","virtual_host":"v","redelivered":true,"deadline":1767225600000,"request":{"n":2}}` + "\n",
			`{"protocol":"rabbitmq-consumer/1"}` + "\n" +
				`{"correlation_id":"a","response":{"success":true,"message":"echo","data":{"n":1,"payload":"p"}}}` + "\n" +
				`{"correlation_id":"b","response":{"success":true,"message":"echo","data":{"n":2}}}` + "\n", false},
		{"not JSON", "nonsense\n", `{"protocol":"rabbitmq-consumer/1"}` + "\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := serve(strings.NewReader(tc.in), &out)
			if (err != nil) != tc.fails {
				t.Fatalf("serve: err = %v, want failure %v", err, tc.fails)
			}
			if out.String() != tc.want {
				t.Fatalf("serve wrote\n%s\nwant\n%s", out.String(), tc.want)
			}
		})
	}
}
