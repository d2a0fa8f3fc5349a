package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// persistentSupport asks the consumer under test whether it has the
// persistent handler mode: its --check on a handler directory holding the
// compiled persistent echo with "mode": "persistent" in its contract. nil
// when the check passes; otherwise the check's last line (a consumer
// without the mode refuses the contract's unknown key "mode").
func persistentSupport(b *binaries) error {
	dir, err := os.MkdirTemp("", "rpcbench-check-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	contract, err := setContract([]byte(execContract), "persistent", "n")
	if err != nil {
		return err
	}
	if err := writeHandler(dir, handlerFiles{"handler": b.execPersistent}, contract); err != nil {
		return err
	}
	const vhost = "rpcbench-check"
	cfg, err := consumerConfig(dir, vhost, "q", 5, "")
	if err != nil {
		return err
	}
	out, err := exec.Command(b.consumer, "--check", "--virtual-host-name", vhost, "--config-file-path", cfg, "--log-format", "json").CombinedOutput()
	if err == nil {
		return nil
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return fmt.Errorf("run rabbitmq-consumer --check: %w", err)
	}
	return fmt.Errorf("rabbitmq-consumer --check on a persistent contract: exit %d: %s", exit.ExitCode(), lastMessage(out))
}

// lastMessage is the last line of a consumer's output: the message of a
// JSON log line, or the line as it is.
func lastMessage(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := lines[len(lines)-1]
	var rec struct {
		Message string `json:"message"`
	}
	if json.Unmarshal([]byte(last), &rec) == nil && rec.Message != "" {
		return rec.Message
	}
	return last
}
