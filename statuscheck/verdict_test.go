package statuscheck

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

const name = "rabbitmq-consume@"

func active(n string) Unit {
	return Unit{Name: name + n + ".service", ActiveState: "active", SubState: "running", UnitFileState: "enabled", MainStarted: now.Add(-48 * time.Hour)}
}

func restartedAgo(n string, d time.Duration, restarts uint32) Unit {
	u := active(n)
	u.MainStarted, u.Restarts = now.Add(-d), restarts
	return u
}

func TestJudge(t *testing.T) {
	th := Thresholds{RestartWindow: time.Hour, BacklogWarning: 1 << 20, BacklogCritical: 1 << 30}
	tests := []struct {
		name    string
		units   []Unit
		backlog *Backlog
		th      *Thresholds // nil: th
		line    string
		code    int
	}{
		{name: "all active", units: []Unit{active("b"), active("a")},
			line: "RABBITMQ-CONSUMER OK - 2 consumers active: rabbitmq-consume@a.service, rabbitmq-consume@b.service | total=2;;;0 active=2;;;0 failed=0;;;0 activating=0;;;0 restarting=0;;;0 restarts=0c;;;0", code: 0},
		{name: "none", units: nil,
			line: "RABBITMQ-CONSUMER WARNING - no rabbitmq-consume@*.service unit is loaded | total=0;;;0 active=0;;;0 failed=0;;;0 activating=0;;;0 restarting=0;;;0 restarts=0c;;;0", code: 1},
		{name: "failed", units: []Unit{active("a"), {Name: name + "x.service", ActiveState: "failed", SubState: "failed", Restarts: 5}, {Name: name + "y.service", ActiveState: "failed"}},
			line: "RABBITMQ-CONSUMER CRITICAL - rabbitmq-consume@x.service failed, rabbitmq-consume@y.service failed | total=3;;;0 active=1;;;0 failed=2;;;0 activating=0;;;0 restarting=0;;;0 restarts=5c;;;0", code: 2},
		{name: "restarting", units: []Unit{{Name: name + "a.service", ActiveState: "activating", SubState: "auto-restart", Restarts: 2}},
			line: "RABBITMQ-CONSUMER WARNING - rabbitmq-consume@a.service (restarting) | total=1;;;0 active=0;;;0 failed=0;;;0 activating=1;;;0 restarting=1;;;0 restarts=2c;;;0", code: 1},
		{name: "waiting for the broker", units: []Unit{{Name: name + "a.service", ActiveState: "activating", SubState: "start", StatusText: "reconnecting, attempt 3"}},
			line: "RABBITMQ-CONSUMER WARNING - rabbitmq-consume@a.service (activating: reconnecting, attempt 3) | total=1;;;0 active=0;;;0 failed=0;;;0 activating=1;;;0 restarting=0;;;0 restarts=0c;;;0", code: 1},
		{name: "enabled but stopped", units: []Unit{{Name: name + "a.service", ActiveState: "inactive", SubState: "dead", UnitFileState: "enabled"}},
			line: "RABBITMQ-CONSUMER WARNING - rabbitmq-consume@a.service (enabled but inactive) | total=1;;;0 active=0;;;0 failed=0;;;0 activating=0;;;0 restarting=0;;;0 restarts=0c;;;0", code: 1},
		{name: "disabled and stopped", units: []Unit{active("a"), {Name: name + "old.service", ActiveState: "inactive", UnitFileState: "disabled"}},
			line: "RABBITMQ-CONSUMER OK - 1 consumers active: rabbitmq-consume@a.service | total=2;;;0 active=1;;;0 failed=0;;;0 activating=0;;;0 restarting=0;;;0 restarts=0c;;;0", code: 0},
		{name: "failed wins over restarting", units: []Unit{{Name: name + "a.service", ActiveState: "failed"}, {Name: name + "b.service", ActiveState: "activating", SubState: "auto-restart", Restarts: 1}},
			line: "RABBITMQ-CONSUMER CRITICAL - rabbitmq-consume@a.service failed; also rabbitmq-consume@b.service (restarting) | total=2;;;0 active=0;;;0 failed=1;;;0 activating=1;;;0 restarting=1;;;0 restarts=1c;;;0", code: 2},
		{name: "restarted within the window", units: []Unit{active("a"), restartedAgo("b", 10*time.Minute, 3)},
			line: "RABBITMQ-CONSUMER WARNING - rabbitmq-consume@b.service restarted 10m0s ago (3 restarts) | total=2;;;0 active=2;;;0 failed=0;;;0 activating=0;;;0 restarting=0;;;0 restarts=3c;;;0", code: 1},
		{name: "restarted before the window", units: []Unit{restartedAgo("b", 2*time.Hour, 3)},
			line: "RABBITMQ-CONSUMER OK - 1 consumers active: rabbitmq-consume@b.service | total=1;;;0 active=1;;;0 failed=0;;;0 activating=0;;;0 restarting=0;;;0 restarts=3c;;;0", code: 0},
		{name: "started by hand recently", units: []Unit{restartedAgo("b", time.Minute, 0)},
			line: "RABBITMQ-CONSUMER OK - 1 consumers active: rabbitmq-consume@b.service | total=1;;;0 active=1;;;0 failed=0;;;0 activating=0;;;0 restarting=0;;;0 restarts=0c;;;0", code: 0},
		{name: "restart window disabled", units: []Unit{restartedAgo("b", time.Minute, 1)}, th: &Thresholds{},
			line: "RABBITMQ-CONSUMER OK - 1 consumers active: rabbitmq-consume@b.service | total=1;;;0 active=1;;;0 failed=0;;;0 activating=0;;;0 restarting=0;;;0 restarts=1c;;;0", code: 0},
		{name: "backlog under the threshold", units: []Unit{active("a")}, backlog: &Backlog{Bytes: 4096, Largest: "a"},
			line: "RABBITMQ-CONSUMER OK - 1 consumers active: rabbitmq-consume@a.service | total=1;;;0 active=1;;;0 failed=0;;;0 activating=0;;;0 restarting=0;;;0 restarts=0c;;;0 backlog=4096B;1048576;1073741824;0", code: 0},
		{name: "backlog over the warning threshold", units: []Unit{active("a")}, backlog: &Backlog{Bytes: 3 << 20, Largest: "a"},
			line: "RABBITMQ-CONSUMER WARNING - log-shipping backlog 3.0 MiB (threshold 1.0 MiB), most in a | total=1;;;0 active=1;;;0 failed=0;;;0 activating=0;;;0 restarting=0;;;0 restarts=0c;;;0 backlog=3145728B;1048576;1073741824;0", code: 1},
		{name: "backlog over the critical threshold", units: []Unit{active("a")}, backlog: &Backlog{Bytes: 2 << 30},
			line: "RABBITMQ-CONSUMER CRITICAL - log-shipping backlog 2.0 GiB (threshold 1.0 GiB) | total=1;;;0 active=1;;;0 failed=0;;;0 activating=0;;;0 restarting=0;;;0 restarts=0c;;;0 backlog=2147483648B;1048576;1073741824;0", code: 2},
		{name: "backlog unreadable", units: []Unit{active("a")}, backlog: &Backlog{Err: "connection refused", Source: "http://127.0.0.1:9419/metrics"},
			line: "RABBITMQ-CONSUMER WARNING - cannot read the log-shipping backlog: connection refused | total=1;;;0 active=1;;;0 failed=0;;;0 activating=0;;;0 restarting=0;;;0 restarts=0c;;;0", code: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			thr := th
			if tt.th != nil {
				thr = *tt.th
			}
			v := Judge(Facts{Now: now, Units: tt.units, Backlog: tt.backlog}, thr)
			if got := v.Line(); got != tt.line {
				t.Errorf("line\n got %s\nwant %s", got, tt.line)
			}
			if v.Code != tt.code || int(v.Status) != tt.code {
				t.Errorf("code = %d (%v), want %d", v.Code, v.Status, tt.code)
			}
		})
	}
}

func TestUnreachableAndJSON(t *testing.T) {
	v := Unreachable(errors.New("no bus"))
	if v.Status != Unknown || v.Code != 3 || v.Line() != "RABBITMQ-CONSUMER UNKNOWN - cannot ask systemd: no bus" {
		t.Errorf("%+v %s", v, v.Line())
	}
	b, _ := json.Marshal(Judge(Facts{Now: now, Units: []Unit{{Name: name + "a.service", ActiveState: "failed", Restarts: 4}}, Backlog: &Backlog{Bytes: 7, Source: "http://x/metrics"}}, Thresholds{RestartWindow: time.Hour}))
	for _, want := range []string{`"status":"CRITICAL","code":2`, `"counts":{"total":1,"active":0,"failed":1,"activating":0,"restarting":0,"restarts":4}`, `"backlog":{"bytes":7,"source":"http://x/metrics"}`, `"thresholds":{"restart_window_seconds":3600,"backlog_warning_bytes":0,"backlog_critical_bytes":0}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("json lacks %s: %s", want, b)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"0", 0, false}, {"4096", 4096, false}, {"100M", 100 << 20, false}, {"100MiB", 100 << 20, false},
		{"1G", 1 << 30, false}, {"2k", 2048, false}, {"64 MB", 64 << 20, false},
		{"", 0, true}, {"-1", 0, true}, {"10X", 0, true}, {"M", 0, true}, {"1.5G", 0, true}, {"9999999999T", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}
