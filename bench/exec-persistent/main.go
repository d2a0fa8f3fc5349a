// Command exec-persistent is the benchmark's persistent compiled echo: an
// executable handler speaking the persistent handler protocol, version 1
// (docs/handlers.md). It writes the handshake line, then answers each
// request line with its request as the response's data, one line each,
// until its stdin closes.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// maxLine bounds a request line: the consumer's requests are far smaller.
const maxLine = 16 << 20

// request is the part of a request line the echo reads.
type request struct {
	CorrelationID string          `json:"correlation_id"`
	Request       json.RawMessage `json:"request"`
}

// response is a response line.
type response struct {
	CorrelationID string `json:"correlation_id"`
	Response      reply  `json:"response"`
}

// reply is the response object: the request as its data.
type reply struct {
	Success bool            `json:"success"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

func main() {
	if err := serve(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "exec-persistent:", err)
		os.Exit(1)
	}
}

// serve runs the protocol over in and out until in ends.
func serve(in io.Reader, out io.Writer) error {
	w := bufio.NewWriter(out)
	if _, err := w.WriteString(`{"protocol":"rabbitmq-consumer/1"}` + "\n"); err != nil {
		return fmt.Errorf("write the handshake: %w", err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write the handshake: %w", err)
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	enc := json.NewEncoder(w) // compact, one line, ended by "\n"
	for sc.Scan() {
		var req request
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			return fmt.Errorf("read a request: %w", err)
		}
		if err := enc.Encode(response{CorrelationID: req.CorrelationID, Response: reply{Success: true, Message: "echo", Data: req.Request}}); err != nil {
			return fmt.Errorf("write a response: %w", err)
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("write a response: %w", err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read a request: %w", err)
	}
	return nil
}
