package metrics

import (
	"os/exec"
	"strings"
	"testing"
)

// AlertRules is the example alerting rules file, from this package.
const AlertRules = "../etc/prometheus/rabbitmq-consumer-alerts.yml"

// TestAlertRules checks the example alerting rules with promtool and runs
// their unit tests (testdata/alerts_test.yml): each alert fires on the
// series it is meant for, after its "for", with its annotations.
func TestAlertRules(t *testing.T) {
	tests := []struct {
		name string
		args []string
		dir  string
		want string
	}{
		{"check rules", []string{"check", "rules", AlertRules}, ".", "SUCCESS: 5 rules found"},
		{"test rules", []string{"test", "rules", "alerts_test.yml"}, "testdata", "SUCCESS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command("promtool", tt.args...)
			cmd.Dir = tt.dir
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), tt.want) {
				t.Fatalf("promtool %s: %v\n%s", strings.Join(tt.args, " "), err, out)
			}
		})
	}
}
