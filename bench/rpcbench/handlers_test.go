package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The Python handlers of bench/python-echo, run as the consumer runs them:
// the persistent ones speak the protocol, the one-shot one answers its
// stdin.
func TestPythonHandlers(t *testing.T) {
	const request = `{"correlation_id":"c1","exchange":"x","virtual_host":"v","redelivered":false,"deadline":null,"request":{"n":1,"payload":"p"}}` + "\n"
	const echoed = `{"correlation_id":"c1","response":{"success":true,"message":"echo","data":{"n":1,"payload":"p"}}}` + "\n"
	for _, tc := range []struct{ program, in, want string }{
		{"handler", request, `{"protocol":"rabbitmq-consumer/1"}` + "\n" + echoed},
		{"heavy-handler", request, `{"protocol":"rabbitmq-consumer/1"}` + "\n" + echoed},
		{"oneshot-handler", `{"n":1,"payload":"p"}`, `{"success":true,"message":"echo","data":{"n":1,"payload":"p"}}`},
	} {
		t.Run(tc.program, func(t *testing.T) {
			dir := filepath.Join("..", "python-echo")
			cmd := exec.Command("./" + tc.program)
			cmd.Dir = dir
			helper, err := filepath.Abs(filepath.Dir(filepath.Join("..", "..", pythonHelper)))
			if err != nil {
				t.Fatal(err)
			}
			cmd.Env = append(os.Environ(), "PYTHONPATH="+helper) // as the benchmark copies it beside them
			cmd.Stdin = strings.NewReader(tc.in)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s: %v", tc.program, err)
			}
			if string(out) != tc.want {
				t.Fatalf("%s wrote\n%s\nwant\n%s", tc.program, out, tc.want)
			}
		})
	}
}
