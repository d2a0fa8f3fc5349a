package consumer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Limits on what an executable handler may write.
const (
	maxHandlerOutput = 64 << 20 // stdout: the response
	stderrTailBytes  = 4096     // stderr kept for the traceback
	maxStderrLine    = 4096     // one logged stderr line
)

// Exec is an executable handler: <dir>/handler with <dir>/contract.json.
// It gets the request on stdin and RPC_* variables in its environment, and
// writes the whole response object to stdout.
type Exec struct {
	// Dir is the handler's directory; the process runs there.
	Dir string
	// Path is the executable.
	Path string

	contract *Contract
}

// LoadExec reads the executable handler in dir. With needExecutable false
// (mock mode) only the contract must be there.
func LoadExec(dir string, needExecutable bool) (*Exec, error) {
	contractPath := filepath.Join(dir, "contract.json")
	c, err := ReadContract(contractPath)
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
func (h *Exec) Contract() *Contract { return h.contract }

// Handle implements Handler: it runs the executable once. ctx's deadline is
// the handler's timeout; when ctx ends the whole process group is killed.
func (h *Exec) Handle(ctx context.Context, call *Call) (json.RawMessage, error) {
	cmd := exec.Command(h.Path)
	cmd.Dir = h.Dir
	cmd.Stdin = bytes.NewReader(call.Body)
	redelivered := "0"
	if call.Redelivered {
		redelivered = "1"
	}
	cmd.Env = append(os.Environ(),
		"RPC_EXCHANGE="+call.Exchange,
		"RPC_CORRELATION_ID="+call.CorrelationID,
		"RPC_VIRTUAL_HOST="+call.VirtualHost,
		"RPC_REDELIVERED="+redelivered,
	)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A handler that leaves a child holding its output open is not waited for.
	cmd.WaitDelay = time.Second
	stdout := &limitedBuffer{max: maxHandlerOutput}
	cmd.Stdout = stdout
	stderrR, stderrW := io.Pipe()
	cmd.Stderr = stderrW
	tail := &tailBuffer{max: stderrTailBytes}
	log := Logger(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(stderrR)
		sc.Buffer(make([]byte, 0, 4096), maxStderrLine)
		for {
			if !sc.Scan() {
				if errors.Is(sc.Err(), bufio.ErrTooLong) {
					continue // the scanner dropped the long line; keep reading
				}
				break
			}
			line := sc.Text()
			tail.WriteLine(line)
			log.Info().Str("stderr", line).Msg("handler stderr")
		}
		_, _ = io.Copy(io.Discard, stderrR)
	}()

	if err := cmd.Start(); err != nil {
		_ = stderrW.Close()
		wg.Wait()
		return nil, &HandlerError{Reason: "cannot start handler", ExitStatus: -1, Err: err}
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	var err error
	select {
	case err = <-waited:
	case <-ctx.Done():
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-waited
		_ = stderrW.Close()
		wg.Wait()
		reason := "handler timed out and was killed"
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			reason = "handler was killed: consumer stopping"
		}
		return nil, &HandlerError{Reason: reason, ExitStatus: -1, Stderr: tail.String(), Err: ctx.Err()}
	}
	// The handler is done; its children must not outlive it holding our pipes.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = stderrW.Close()
	wg.Wait()
	if err != nil {
		status := -1
		var ee *exec.ExitError
		reason := "handler failed"
		if errors.As(err, &ee) {
			status = ee.ExitCode()
			reason = fmt.Sprintf("handler exited with status %d", status)
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				reason = fmt.Sprintf("handler was killed by signal %v", ws.Signal())
			}
			err = nil
		}
		return nil, &HandlerError{Reason: reason, ExitStatus: status, Stderr: tail.String(), Err: err}
	}
	if stdout.overflow {
		return nil, &HandlerError{Reason: fmt.Sprintf("handler wrote more than %d bytes", maxHandlerOutput), ExitStatus: 0, Stderr: tail.String()}
	}
	return stdout.Bytes(), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// limitedBuffer keeps up to max bytes and notes overflow.
type limitedBuffer struct {
	bytes.Buffer
	max      int
	overflow bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.max {
		b.overflow = true
		return len(p), nil
	}
	return b.Buffer.Write(p)
}

// tailBuffer keeps the last lines written, up to max bytes.
type tailBuffer struct {
	mu    sync.Mutex
	lines []string
	size  int
	max   int
}

func (t *tailBuffer) WriteLine(l string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, l)
	t.size += len(l) + 1
	for t.size > t.max && len(t.lines) > 1 {
		t.size -= len(t.lines[0]) + 1
		t.lines = t.lines[1:]
	}
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}
