package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// The Python side of the benchmark, relative to the repository's root (where
// `make bench` runs rpcbench).
const (
	pythonEcho     = "bench/python-echo"
	pythonHelper   = "python/rabbitmq_consumer_handler.py" // the helper the package ships
	referenceModel = "bench/reference-model/server.py"
	// python is Debian's interpreter, which python3-pika is installed for
	// (the python3 on PATH may be another one, e.g. pyenv's).
	python = "/usr/bin/python3"
)

// pythonScenario reports whether a scenario runs Python: those are measured
// with the reference's prefetch (--python-prefetch), as the reference
// consumer is configured by default.
func pythonScenario(name string) bool {
	return strings.HasPrefix(name, "reference-model") || strings.HasPrefix(name, "python-")
}

// onlyOneCaller are the scenarios measured at 1 caller only.
var onlyOneCaller = map[string]bool{"python-persistent-heavy": true}

// persistentScenario reports whether a scenario needs the consumer's
// persistent handler mode.
func persistentScenario(name string) bool { return strings.Contains(name, "-persistent") }

// referenceModelServer runs the reference model, with the lock attribute
// n or without one.
func referenceModelServer(lockAttribute string) scenario {
	return func(_, vhost, queue string, prefetch int) (*exec.Cmd, error) {
		args := []string{referenceModel, "--url", "amqp://guest:guest@127.0.0.1:5672/" + vhost,
			"--queue", queue, "--exchange", exchange, "--prefetch", strconv.Itoa(prefetch),
			"--handler-directory", pythonEcho, "--handler-module", "echo"}
		if lockAttribute != "" {
			args = append(args, "--lock-attribute", lockAttribute)
		}
		return exec.Command(python, args...), nil
	}
}

// handlerFiles are the files of a handler directory: destination name to
// source path.
type handlerFiles map[string]string

// pythonHandler is the echo of bench/python-echo with the given program as
// the handler (handler, heavy-handler or oneshot-handler) and the given
// mode and lock attribute in its contract.
func pythonHandler(program, mode, lockAttribute string) (handlerFiles, []byte, error) {
	files := handlerFiles{"handler": filepath.Join(pythonEcho, program)}
	for _, f := range []string{"echo.py", "heavy.py"} {
		files[f] = filepath.Join(pythonEcho, f)
	}
	files["rabbitmq_consumer_handler.py"] = pythonHelper
	raw, err := os.ReadFile(filepath.Join(pythonEcho, "contract.json"))
	if err != nil {
		return nil, nil, fmt.Errorf("read the contract: %w", err)
	}
	contract, err := setContract(raw, mode, lockAttribute)
	return files, contract, err
}

// setContract sets a contract's mode ("" for none, that is one-shot) and
// lock attribute ("" for none).
func setContract(raw []byte, mode, lockAttribute string) ([]byte, error) {
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("read the contract: %w", err)
	}
	delete(c, "mode")
	delete(c, "lock_attribute")
	if mode != "" {
		c["mode"] = mode
	}
	if lockAttribute != "" {
		c["lock_attribute"] = lockAttribute
	}
	return json.Marshal(c)
}

// execContract is the contract of the compiled echoes.
const execContract = `{"description":"echo","timeout_seconds":30,"request":{"type":"object","properties":{"n":{"type":"integer"},"payload":{"type":"string"}},"required":["n"]},"response":{"type":"object"}}`

// writeHandler fills the exchange's handler directory under dir.
func writeHandler(dir string, files handlerFiles, contract []byte) error {
	hdir := filepath.Join(dir, "handlers", exchange)
	if err := os.MkdirAll(hdir, 0o755); err != nil {
		return err
	}
	for name, src := range files {
		mode := os.FileMode(0o644)
		if name == "handler" {
			mode = 0o755
		}
		if err := copyFile(src, filepath.Join(hdir, name), mode); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(hdir, "contract.json"), contract, 0o644)
}

// handlerScenarios are the scenarios of the consumer with an executable
// handler other than consumer-exec: the Python echo one-shot and
// persistent (with and without the lock attribute, and behind a 200 ms
// import) and the compiled echo persistent.
func handlerScenarios(b *binaries, consumerCfg func(dir, vhost, queue string, prefetch int, extra string) (string, error)) map[string]scenario {
	withHandler := func(files func() (handlerFiles, []byte, error)) scenario {
		return func(dir, vhost, queue string, prefetch int) (*exec.Cmd, error) {
			fs, contract, err := files()
			if err != nil {
				return nil, err
			}
			if err := writeHandler(dir, fs, contract); err != nil {
				return nil, err
			}
			cfg, err := consumerCfg(dir, vhost, queue, prefetch, "")
			if err != nil {
				return nil, err
			}
			return exec.Command(b.consumer, "--virtual-host-name", vhost, "--config-file-path", cfg, "--log-format", "json"), nil
		}
	}
	py := func(program, mode, lock string) scenario {
		return withHandler(func() (handlerFiles, []byte, error) { return pythonHandler(program, mode, lock) })
	}
	compiled := func(lock string) scenario {
		return withHandler(func() (handlerFiles, []byte, error) {
			contract, err := setContract([]byte(execContract), "persistent", lock)
			return handlerFiles{"handler": b.execPersistent}, contract, err
		})
	}
	return map[string]scenario{
		"python-oneshot":          py("oneshot-handler", "", ""),
		"python-persistent":       py("handler", "persistent", ""),
		"python-persistent-lock":  py("handler", "persistent", "n"),
		"python-persistent-heavy": py("heavy-handler", "persistent", ""),
		"exec-persistent":         compiled("n"),
		"exec-persistent-nolock":  compiled(""),
	}
}

// pythonReady checks that the Python scenarios can run: Debian's python3
// with pika (python3-pika, which `make bench` installs).
func pythonReady() error {
	out, err := exec.Command(python, "-c", "import pika").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s cannot import pika (apt-get install python3-pika; `make bench` does): %v: %s", python, err, strings.TrimSpace(string(out)))
	}
	for _, f := range []string{referenceModel, filepath.Join(pythonEcho, "contract.json")} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("run rpcbench from the repository's root: %w", err)
		}
	}
	return nil
}
