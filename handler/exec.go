package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/contract"
)

// Exec is an executable handler: <dir>/handler with <dir>/contract.json.
// It gets the request on stdin and RPC_* variables in its environment, and
// writes the whole response object to stdout; it may write progress
// updates, one JSON object per line, to file descriptor 3
// (ProgressFDVariable).
type Exec struct {
	// Dir is the handler's directory; the process runs there.
	Dir string
	// Path is the executable.
	Path string

	contract *contract.Contract
	envOnce  sync.Once
	env      []string // the environment every run starts from; see handlerEnv
}

// LoadExec reads the executable handler in dir. With needExecutable false
// (mock mode) only the contract must be there.
func LoadExec(dir string, needExecutable bool) (*Exec, error) {
	contractPath := filepath.Join(dir, "contract.json")
	c, err := contract.Load(contractPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", contractPath, err)
	}
	path := filepath.Join(dir, "handler")
	if needExecutable {
		st, err := os.Stat(path)
		switch {
		case err != nil:
			return nil, fmt.Errorf("%s: %w", path, err)
		case st.IsDir():
			return nil, fmt.Errorf("%s: is a directory, not an executable", path)
		case st.Mode().Perm()&0o111 == 0:
			return nil, fmt.Errorf("%s: not executable (mode %v)", path, st.Mode().Perm())
		}
	}
	return &Exec{Dir: dir, Path: path, contract: c}, nil
}

// Contract implements Handler.
func (h *Exec) Contract() *contract.Contract { return h.contract }

// Close implements Handler; an executable started per request leaves
// nothing to release.
func (h *Exec) Close() error { return nil }

// Handle implements Handler: it runs the executable once, with a clean
// environment, in its own process group. ctx's deadline is the handler's
// timeout; when ctx ends, or stdout passes maxHandlerOutput, the handler is
// killed. Its progress lines are reported with Progress on ctx, all of
// them before Handle returns. Once it has exited, what it left running is
// killed. A redelivered request first kills what a crashed consumer's run
// of it may have left running.
func (h *Exec) Handle(ctx context.Context, call *Call) (json.RawMessage, error) {
	log := Logger(ctx)
	if call.Redelivered {
		KillOrphaned(call.VirtualHost, log)
	}
	r, err := h.start(ctx, call, log)
	if err != nil {
		return nil, &Error{Reason: "cannot start handler", ExitStatus: -1, Err: err}
	}
	started := time.Now()
	log.Debug().Int("handler_pid", r.cmd.Process.Pid).Str("handler", h.Path).Msg("handler started")
	end := r.wait(ctx)
	r.finish(log)
	log.Debug().Int("handler_pid", r.cmd.Process.Pid).Int("exit_status", end.exitCode).Dur("took", time.Since(started)).Msg("handler ended")
	end.overflow = end.overflow || r.stdout.overflowed()
	if he := end.failure(); he != nil && he.ExitStatus == ExitRetryLater {
		rl, err := parseRetryAfter(r.stdout.bytes())
		if err != nil {
			return nil, &Error{Reason: "handler asked to retry later without a delay", ExitStatus: ExitRetryLater, Err: err, Stderr: r.stderr.tail()}
		}
		return nil, rl
	} else if he != nil {
		he.Stderr = r.stderr.tail()
		return nil, he
	}
	return r.stdout.bytes(), nil
}

// baseEnv is the environment every run starts from, made at the first run.
func (h *Exec) baseEnv(log zerolog.Logger) []string {
	h.envOnce.Do(func() { h.env = handlerEnv(os.Environ(), log) })
	return h.env
}
