package gui

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"
)

// timeLayout is how the GUI writes a moment.
const timeLayout = "2006-01-02 15:04:05"

// messageLength bounds the response message shown in a list row.
const messageLength = 120

// formatDuration writes a request's duration for people: "850 µs",
// "12 ms", "4.2 s", "3 min 5 s".
func formatDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + formatDuration(-d)
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	}
}

// formatAgo says how long before now t was: "just now", "42 s ago",
// "5 min ago", "3 h ago", "12 d ago".
func formatAgo(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	default:
		return fmt.Sprintf("%d d ago", int(d.Hours()/24))
	}
}

// responseMessage returns the "message" of a response envelope, shortened
// for a list row; "" when there is none.
func responseMessage(payload json.RawMessage) string {
	var env struct {
		Message any `json:"message"`
	}
	if payload == nil || json.Unmarshal(payload, &env) != nil {
		return ""
	}
	s, ok := env.Message.(string)
	if !ok {
		return ""
	}
	return shorten(s, messageLength)
}

// shorten cuts s to at most n runes, marking the cut with an ellipsis.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
