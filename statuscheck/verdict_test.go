package statuscheck

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestJudge(t *testing.T) {
	active := func(n string) Unit {
		return Unit{Name: n, ActiveState: "active", SubState: "running", UnitFileState: "enabled"}
	}
	tests := []struct {
		name    string
		units   []Unit
		status  Status
		summary []string
	}{
		{"all active", []Unit{active("rabbitmq-consume@b.service"), active("rabbitmq-consume@a.service")}, OK, []string{"2 consumers active: rabbitmq-consume@a.service, rabbitmq-consume@b.service"}},
		{"none", nil, Warning, []string{"no rabbitmq-consume@*.service unit"}},
		{"failed", []Unit{active("rabbitmq-consume@a.service"), {Name: "rabbitmq-consume@x.service", ActiveState: "failed", SubState: "failed"}, {Name: "rabbitmq-consume@y.service", ActiveState: "failed"}}, Critical,
			[]string{"2 of 3 failed: rabbitmq-consume@x.service, rabbitmq-consume@y.service"}},
		{"restarting", []Unit{{Name: "rabbitmq-consume@a.service", ActiveState: "activating", SubState: "auto-restart"}}, Warning, []string{"rabbitmq-consume@a.service (restarting)"}},
		{"waiting for the broker", []Unit{{Name: "rabbitmq-consume@a.service", ActiveState: "activating", SubState: "start", StatusText: "reconnecting, attempt 3"}}, Warning, []string{"(activating: reconnecting, attempt 3)"}},
		{"enabled but stopped", []Unit{{Name: "rabbitmq-consume@a.service", ActiveState: "inactive", SubState: "dead", UnitFileState: "enabled"}}, Warning, []string{"enabled but inactive"}},
		{"disabled and stopped", []Unit{active("rabbitmq-consume@a.service"), {Name: "rabbitmq-consume@old.service", ActiveState: "inactive", UnitFileState: "disabled"}}, OK, []string{"1 consumers active"}},
		{"failed wins over restarting", []Unit{{Name: "rabbitmq-consume@a.service", ActiveState: "failed"}, {Name: "rabbitmq-consume@b.service", ActiveState: "activating", SubState: "auto-restart"}}, Critical, []string{"failed: rabbitmq-consume@a.service", "also rabbitmq-consume@b.service (restarting)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Judge(tt.units)
			if v.Status != tt.status || v.Code != int(tt.status) {
				t.Errorf("status = %v, want %v (%s)", v.Status, tt.status, v.Summary)
			}
			for _, s := range tt.summary {
				if !strings.Contains(v.Summary, s) {
					t.Errorf("summary %q lacks %q", v.Summary, s)
				}
			}
			if !strings.HasPrefix(v.Line(), "RABBITMQ-CONSUMER "+tt.status.String()+" - ") || strings.Contains(v.Line(), "\n") {
				t.Errorf("line = %q", v.Line())
			}
		})
	}
}

func TestUnreachableAndJSON(t *testing.T) {
	v := Unreachable(errors.New("no bus"))
	if v.Status != Unknown || v.Code != 3 || !strings.Contains(v.Line(), "UNKNOWN - cannot ask systemd: no bus") {
		t.Errorf("%+v %s", v, v.Line())
	}
	b, _ := json.Marshal(Judge([]Unit{{Name: "rabbitmq-consume@a.service", ActiveState: "failed"}}))
	if !strings.Contains(string(b), `"status":"CRITICAL","code":2`) {
		t.Errorf("json = %s", b)
	}
}
