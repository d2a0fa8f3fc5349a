package config

import "fmt"

// Error is a configuration problem, located by file, key and line.
type Error struct {
	// Path is the configuration file.
	Path string
	// Key is the dotted key path, e.g. "virtual_hosts.trees.fernet_key".
	Key string
	// Line is the line in the file, or 0 when unknown.
	Line int
	// Msg says what is wrong.
	Msg string
}

func (e *Error) Error() string {
	s := e.Path
	if e.Line > 0 {
		s += fmt.Sprintf(":%d", e.Line)
	}
	if e.Key != "" {
		s += ": " + e.Key
	}
	return s + ": " + e.Msg
}
