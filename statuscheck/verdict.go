// Package statuscheck is the Nagios-style check over all
// rabbitmq-consume@*.service units: unit discovery over systemd's D-Bus API,
// the log-shipping backlog read from the shipper's metrics, and a pure
// verdict.
package statuscheck

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
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
	// Restarts is systemd's NRestarts: the automatic restarts since the
	// unit was last started by hand (or since boot).
	Restarts uint32 `json:"restarts"`
	// MainStarted is when the unit's main process last started (systemd's
	// ExecMainStartTimestamp); zero when it never did.
	MainStarted time.Time `json:"main_started,omitzero"`
}

// Backlog is the log-shipping backlog, as the shipper reports it.
type Backlog struct {
	// Bytes not yet shipped, over all virtual hosts.
	Bytes int64 `json:"bytes"`
	// Largest is the virtual host with the most bytes waiting.
	Largest string `json:"largest,omitempty"`
	// Source is where it was read (the shipper's metrics URL).
	Source string `json:"source"`
	// Err says why it could not be read; then Bytes is meaningless.
	Err string `json:"error,omitempty"`
}

// Thresholds are the limits the verdict applies.
type Thresholds struct {
	// RestartWindow: a unit restarted automatically whose main process
	// started less than this ago is a WARNING. 0 disables.
	RestartWindow time.Duration `json:"-"`
	// BacklogWarning and BacklogCritical are backlog sizes in bytes from
	// which the verdict is WARNING or CRITICAL. 0 disables either.
	BacklogWarning  int64 `json:"backlog_warning_bytes"`
	BacklogCritical int64 `json:"backlog_critical_bytes"`
}

// MarshalJSON writes the restart window in seconds.
func (t Thresholds) MarshalJSON() ([]byte, error) {
	type plain Thresholds
	return json.Marshal(struct {
		RestartWindow float64 `json:"restart_window_seconds"`
		plain
	}{t.RestartWindow.Seconds(), plain(t)})
}

// Facts are everything the verdict is made of.
type Facts struct {
	// Now is the time of the check.
	Now   time.Time `json:"now"`
	Units []Unit    `json:"units"`
	// Backlog is nil when the shipper's backlog is not checked.
	Backlog *Backlog `json:"backlog,omitempty"`
}

// Counts are the performance data.
type Counts struct {
	Total      int    `json:"total"`
	Active     int    `json:"active"`
	Failed     int    `json:"failed"`
	Activating int    `json:"activating"`
	Restarting int    `json:"restarting"`
	Restarts   uint64 `json:"restarts"`
}

// Verdict is the check's result.
type Verdict struct {
	Status     Status     `json:"status"`
	Code       int        `json:"code"`
	Summary    string     `json:"summary"`
	Counts     Counts     `json:"counts"`
	Thresholds Thresholds `json:"thresholds"`
	Facts
}

// Perfdata is the performance data, in Nagios's
// 'label'=value[UOM];[warn];[crit];[min];[max] form.
func (v Verdict) Perfdata() string {
	c := v.Counts
	p := fmt.Sprintf("total=%d;;;0 active=%d;;;0 failed=%d;;;0 activating=%d;;;0 restarting=%d;;;0 restarts=%dc;;;0",
		c.Total, c.Active, c.Failed, c.Activating, c.Restarting, c.Restarts)
	if b := v.Backlog; b != nil && b.Err == "" {
		p += fmt.Sprintf(" backlog=%dB;%s;%s;0", b.Bytes, threshold(v.Thresholds.BacklogWarning), threshold(v.Thresholds.BacklogCritical))
	}
	return p
}

func threshold(n int64) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprint(n)
}

// Line is the one Nagios line: status, summary and performance data (none
// when the units are not known).
func (v Verdict) Line() string {
	line := "RABBITMQ-CONSUMER " + v.Status.String() + " - " + v.Summary
	if v.Status == Unknown {
		return line
	}
	return line + " | " + v.Perfdata()
}

// Judge decides the status of the consumer units: CRITICAL names every
// failed unit, and a backlog over its critical threshold; WARNING names
// units starting or restarting (a consumer that cannot reach its broker
// stays "activating"), enabled units that are not running, units that
// restarted within the restart window, a backlog over its warning
// threshold or one that cannot be read; OK otherwise. No unit at all is a
// WARNING.
func Judge(f Facts, th Thresholds) Verdict {
	f.Units = append([]Unit(nil), f.Units...)
	sort.Slice(f.Units, func(i, j int) bool { return f.Units[i].Name < f.Units[j].Name })
	v := Verdict{Facts: f, Thresholds: th}
	var critical, warning, active []string
	for _, u := range f.Units {
		v.Counts.Total++
		v.Counts.Restarts += uint64(u.Restarts)
		switch u.ActiveState {
		case "active":
			v.Counts.Active++
		case "failed":
			v.Counts.Failed++
		case "activating":
			v.Counts.Activating++
		}
		if u.SubState == "auto-restart" {
			v.Counts.Restarting++
		}
		switch {
		case u.ActiveState == "failed":
			critical = append(critical, u.Name+" failed")
		case u.ActiveState == "activating" || u.ActiveState == "deactivating" || u.ActiveState == "reloading":
			what := u.Name + " (" + u.ActiveState
			if u.SubState == "auto-restart" {
				what = u.Name + " (restarting"
			}
			if u.StatusText != "" {
				what += ": " + u.StatusText
			}
			warning = append(warning, what+")")
		case u.ActiveState == "active":
			active = append(active, u.Name)
			if recent(u, f.Now, th.RestartWindow) {
				warning = append(warning, fmt.Sprintf("%s restarted %s ago (%d restarts)", u.Name, ago(f.Now.Sub(u.MainStarted)), u.Restarts))
			}
		case u.UnitFileState == "enabled" || u.UnitFileState == "enabled-runtime":
			warning = append(warning, u.Name+" (enabled but "+u.ActiveState+")")
		}
	}
	if b := f.Backlog; b != nil {
		switch {
		case b.Err != "":
			warning = append(warning, "cannot read the log-shipping backlog: "+b.Err)
		case th.BacklogCritical > 0 && b.Bytes >= th.BacklogCritical:
			critical = append(critical, backlogText(b, th.BacklogCritical))
		case th.BacklogWarning > 0 && b.Bytes >= th.BacklogWarning:
			warning = append(warning, backlogText(b, th.BacklogWarning))
		}
	}
	switch {
	case len(critical) > 0:
		v.Status = Critical
		v.Summary = strings.Join(critical, ", ")
		if len(warning) > 0 {
			v.Summary += "; also " + strings.Join(warning, ", ")
		}
	case len(warning) > 0:
		v.Status = Warning
		v.Summary = strings.Join(warning, ", ")
	case len(f.Units) == 0:
		v.Status = Warning
		v.Summary = "no rabbitmq-consume@*.service unit is loaded"
	default:
		v.Status = OK
		v.Summary = fmt.Sprintf("%d consumers active: %s", len(active), strings.Join(active, ", "))
	}
	v.Code = int(v.Status)
	if v.Units == nil {
		v.Units = []Unit{}
	}
	return v
}

// recent reports whether u restarted automatically within window of now.
func recent(u Unit, now time.Time, window time.Duration) bool {
	return window > 0 && u.Restarts > 0 && !u.MainStarted.IsZero() && now.Sub(u.MainStarted) < window
}

func backlogText(b *Backlog, limit int64) string {
	s := fmt.Sprintf("log-shipping backlog %s (threshold %s)", size(b.Bytes), size(limit))
	if b.Largest != "" {
		s += ", most in " + b.Largest
	}
	return s
}

// size is a byte count for people: 512 B, 3.2 MiB.
func size(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// ago is a duration for people, to the second.
func ago(d time.Duration) string { return d.Round(time.Second).String() }

// Unreachable is the verdict when systemd cannot be asked.
func Unreachable(err error) Verdict {
	v := Verdict{Status: Unknown, Code: int(Unknown), Summary: "cannot ask systemd: " + err.Error()}
	v.Units = []Unit{}
	return v
}
