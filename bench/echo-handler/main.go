// Command echo-handler is an executable handler that answers with its
// request: the benchmark's executable handler.
package main

import (
	"io"
	"os"
)

func main() {
	body, err := io.ReadAll(os.Stdin)
	if err != nil {
		os.Exit(1)
	}
	out := append([]byte(`{"success":true,"message":"echo","data":`), body...)
	out = append(out, '}')
	if _, err := os.Stdout.Write(out); err != nil {
		os.Exit(1)
	}
}
