// Package python_test runs the unit tests of the Python handler helper,
// python/rabbitmq_consumer_handler.py, with the system's python3, so that
// go test ./... covers them.
package python_test

import (
	"os/exec"
	"testing"
)

func TestPythonHelperUnitTests(t *testing.T) {
	cmd := exec.Command("python3", "-m", "unittest", "-v", "test_rabbitmq_consumer_handler")
	cmd.Env = append(cmd.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3 -m unittest: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
