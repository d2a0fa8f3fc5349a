package handler

import "github.com/rabbitmq-consumer/rabbitmq-consumer/contract"

// truncate cuts s to n bytes, marking the cut, for messages that quote a
// handler's output.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// compact elides the insignificant spaces of valid JSON.
func compact(valid []byte) []byte { return contract.Compact(valid) }

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte { return contract.AppendJSONString(b, s) }
