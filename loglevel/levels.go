// Package loglevel sets the log level per component of a program, from a
// specification such as "info,handler=debug", and changes it while the
// program runs (a signal, or PUT /log-level on the metrics listener)
// without costing a disabled log line anything.
package loglevel

import (
	"fmt"
	"sort"
	"strings"

	"github.com/rs/zerolog"
)

// The components of the consumer and of the shipper.
const (
	// Consumer: dispatch, requests, locks, recorded outcomes, draining.
	Consumer = "consumer"
	// Handler: handler processes and what they write to stderr.
	Handler = "handler"
	// AMQP: the broker connection, reconnections, queue and exchanges.
	AMQP = "amqp"
	// Logship: the spool and the shipping of records to the log server.
	Logship = "logship"
	// Metrics: the metrics listener and its log-level endpoint.
	Metrics = "metrics"
)

// Components lists the components a specification may name.
var Components = []string{AMQP, Consumer, Handler, Logship, Metrics}

// levelNames are the levels a specification may use, most verbose first.
var levelNames = []string{"trace", "debug", "info", "warn", "error"}

// Levels is a default level and levels for some components.
type Levels struct {
	// Default applies to the components not in Per.
	Default zerolog.Level
	// Per maps a component to its level.
	Per map[string]zerolog.Level
}

// Parse reads a specification: comma-separated items, one bare level (the
// default, info when absent) and component=level items, e.g.
// "info,handler=debug" or "warn,amqp=debug,handler=trace".
func Parse(spec string) (Levels, error) {
	l := Levels{Default: zerolog.InfoLevel, Per: map[string]zerolog.Level{}}
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return l, fmt.Errorf("empty log level: give a level (%s) and optionally component=level items", strings.Join(levelNames, ", "))
	}
	seenDefault := false
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		comp, lv, named := strings.Cut(item, "=")
		if !named {
			lv = comp
		}
		lvl, err := parseLevel(lv)
		if err != nil {
			return Levels{}, fmt.Errorf("%q: %w", item, err)
		}
		if !named {
			if seenDefault {
				return Levels{}, fmt.Errorf("%q: a second default level (give other levels as component=level)", item)
			}
			seenDefault = true
			l.Default = lvl
			continue
		}
		comp = strings.TrimSpace(comp)
		if !known(comp) {
			return Levels{}, fmt.Errorf("%q: %q is not a component (%s)", item, comp, strings.Join(Components, ", "))
		}
		if _, dup := l.Per[comp]; dup {
			return Levels{}, fmt.Errorf("%q: component %s is given twice", item, comp)
		}
		l.Per[comp] = lvl
	}
	return l, nil
}

func parseLevel(s string) (zerolog.Level, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, n := range levelNames {
		if s == n {
			return zerolog.ParseLevel(s)
		}
	}
	return zerolog.NoLevel, fmt.Errorf("%q is not a level (%s)", s, strings.Join(levelNames, ", "))
}

func known(comp string) bool {
	for _, c := range Components {
		if c == comp {
			return true
		}
	}
	return false
}

// Of is the level of a component.
func (l Levels) Of(component string) zerolog.Level {
	if lvl, ok := l.Per[component]; ok {
		return lvl
	}
	return l.Default
}

// String is the specification in its canonical form: the default, then
// the components that differ from it, sorted.
func (l Levels) String() string {
	items := []string{l.Default.String()}
	comps := make([]string, 0, len(l.Per))
	for c, lvl := range l.Per {
		if lvl != l.Default {
			comps = append(comps, c)
		}
	}
	sort.Strings(comps)
	for _, c := range comps {
		items = append(items, c+"="+l.Per[c].String())
	}
	return strings.Join(items, ",")
}

// MoreVerbose is every level one step more verbose, down to trace.
func (l Levels) MoreVerbose() Levels {
	step := func(lvl zerolog.Level) zerolog.Level { return max(lvl-1, zerolog.TraceLevel) }
	out := Levels{Default: step(l.Default), Per: make(map[string]zerolog.Level, len(l.Per))}
	for c, lvl := range l.Per {
		out.Per[c] = step(lvl)
	}
	return out
}
