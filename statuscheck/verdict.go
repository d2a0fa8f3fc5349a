// Package statuscheck is the Nagios-style check over all
// rabbitmq-consume@*.service units: unit discovery over systemd's D-Bus API
// and a pure verdict.
package statuscheck

import (
	"fmt"
	"sort"
	"strings"
)

// Status is a Nagios plugin status; its value is the exit status.
type Status int

// The Nagios statuses.
const (
	OK       Status = 0
	Warning  Status = 1
	Critical Status = 2
	Unknown  Status = 3
)

func (s Status) String() string {
	switch s {
	case OK:
		return "OK"
	case Warning:
		return "WARNING"
	case Critical:
		return "CRITICAL"
	}
	return "UNKNOWN"
}

// MarshalText makes a Status read as its name in JSON.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Unit is what the check needs to know of one consumer unit.
type Unit struct {
	Name          string `json:"name"`
	ActiveState   string `json:"active_state"`    // active, activating, deactivating, inactive, failed, reloading
	SubState      string `json:"sub_state"`       // running, auto-restart, start, dead, failed, ...
	UnitFileState string `json:"unit_file_state"` // enabled, disabled, static, ...
	StatusText    string `json:"status_text,omitempty"`
}

// Verdict is the check's result.
type Verdict struct {
	Status  Status `json:"status"`
	Code    int    `json:"code"`
	Summary string `json:"summary"`
	Units   []Unit `json:"units"`
}

// Line is the one Nagios line: status, summary and performance data.
func (v Verdict) Line() string {
	var active, failed, starting int
	for _, u := range v.Units {
		switch u.ActiveState {
		case "active":
			active++
		case "failed":
			failed++
		case "activating":
			starting++
		}
	}
	return fmt.Sprintf("RABBITMQ-CONSUMER %s - %s | active=%d failed=%d activating=%d total=%d", v.Status, v.Summary, active, failed, starting, len(v.Units))
}

// Judge decides the status of the consumer units: CRITICAL names every
// failed unit; WARNING names units starting or restarting (a consumer that
// cannot reach its broker stays "activating"), and enabled units that are
// not running; OK when every unit is active. No unit at all is a WARNING.
func Judge(units []Unit) Verdict {
	units = append([]Unit(nil), units...)
	sort.Slice(units, func(i, j int) bool { return units[i].Name < units[j].Name })
	var failed, starting, stopped, active []string
	for _, u := range units {
		switch {
		case u.ActiveState == "failed":
			failed = append(failed, u.Name)
		case u.ActiveState == "activating" || u.ActiveState == "deactivating" || u.ActiveState == "reloading":
			what := u.Name + " (" + u.ActiveState
			if u.SubState == "auto-restart" {
				what = u.Name + " (restarting"
			}
			if u.StatusText != "" {
				what += ": " + u.StatusText
			}
			starting = append(starting, what+")")
		case u.ActiveState == "active":
			active = append(active, u.Name)
		case u.UnitFileState == "enabled" || u.UnitFileState == "enabled-runtime":
			stopped = append(stopped, u.Name+" (enabled but "+u.ActiveState+")")
		}
	}
	v := Verdict{Units: units}
	switch {
	case len(failed) > 0:
		v.Status = Critical
		v.Summary = fmt.Sprintf("%d of %d failed: %s", len(failed), len(units), strings.Join(failed, ", "))
		if len(starting)+len(stopped) > 0 {
			v.Summary += "; also " + strings.Join(append(starting, stopped...), ", ")
		}
	case len(starting)+len(stopped) > 0:
		v.Status = Warning
		v.Summary = fmt.Sprintf("%d of %d not running: %s", len(starting)+len(stopped), len(units), strings.Join(append(starting, stopped...), ", "))
	case len(units) == 0:
		v.Status = Warning
		v.Summary = "no rabbitmq-consume@*.service unit is loaded"
	default:
		v.Status = OK
		v.Summary = fmt.Sprintf("%d consumers active: %s", len(active), strings.Join(active, ", "))
	}
	v.Code = int(v.Status)
	return v
}

// Unreachable is the verdict when systemd cannot be asked.
func Unreachable(err error) Verdict {
	return Verdict{Status: Unknown, Code: int(Unknown), Summary: "cannot ask systemd: " + err.Error(), Units: []Unit{}}
}
