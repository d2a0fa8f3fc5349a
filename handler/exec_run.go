package handler

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// pipeGrace is how long the output of a handler that has exited (and whose
// leftovers were killed) may take to reach its end: what it wrote is in the
// pipes already; a pipe still open after this is held by a process that
// escaped, and is closed.
const pipeGrace = time.Second

// handlerRun is one run of an executable handler.
type handlerRun struct {
	cmd    *exec.Cmd
	marker string
	pids   pidWindow // where its processes are
	stdin  *os.File  // the consumer's end of the handler's stdin
	outR   *os.File  // the consumer's end of stdout
	errR   *os.File  // the consumer's end of stderr
	stdout *capturedOutput
	stderr *stderrLog
	// progress reads the consumer's end of the progress pipe (fd 3)
	progress *progressPipe
	waited   chan error
}

// start starts the handler on call, with the request on a pipe to its
// stdin, its stdout and stderr on pipes the consumer reads itself, and its
// progress pipe as file descriptor 3, whose updates are reported under
// ctx.
func (h *Exec) start(ctx context.Context, call *Call, log zerolog.Logger) (*handlerRun, error) {
	p, err := handlerPipes()
	if err != nil {
		return nil, err
	}
	progR, progW, err := os.Pipe()
	if err != nil {
		closeAll(p[:]...)
		return nil, err
	}
	r := &handlerRun{
		marker: newRunMarker(call.VirtualHost),
		stdin:  p[1], outR: p[2], errR: p[4],
		stdout:   newCapturedOutput(maxHandlerOutput),
		stderr:   newStderrLog(log, 0),
		progress: newProgressPipe(progR, log),
		waited:   make(chan error, 1),
	}
	r.cmd = exec.Command(h.Path)
	r.cmd.Dir = h.Dir
	base := h.baseEnv(log)
	r.cmd.Env = append(append(make([]string, 0, len(base)+7), base...), runEnv(call, r.marker)...)
	r.cmd.Stdin, r.cmd.Stdout, r.cmd.Stderr = p[0], p[3], p[5]
	r.cmd.ExtraFiles = []*os.File{progW} // fd 3: progressFD
	r.cmd.SysProcAttr = handlerSysProcAttr()
	r.pids = pidsBeforeStart()
	err = startPinned(r.cmd)
	closeAll(p[0], p[3], p[5], progW) // the handler's ends: it holds them now
	if err != nil {
		closeAll(p[1], p[2], p[4], progR)
		return nil, err
	}
	r.progress.run(ctx)
	go r.stdout.readFrom(r.outR)
	go r.stderr.readFrom(r.errR)
	go func() {
		_, _ = r.stdin.Write(call.Body) // fails once the handler is gone without reading it
		_ = r.stdin.Close()
	}()
	go func() { r.waited <- r.cmd.Wait() }()
	return r, nil
}

// runEnv is the request's part of a run's environment.
func runEnv(call *Call, marker string) []string {
	redelivered := "0"
	if call.Redelivered {
		redelivered = "1"
	}
	return []string{
		"RPC_EXCHANGE=" + call.Exchange,
		"RPC_CORRELATION_ID=" + call.CorrelationID,
		"RPC_VIRTUAL_HOST=" + call.VirtualHost,
		"RPC_REDELIVERED=" + redelivered,
		"RPC_ATTEMPT=" + strconv.Itoa(call.Attempt),
		ProgressFDVariable + "=" + strconv.Itoa(progressFD),
		runMarkerVariable + "=" + marker,
	}
}

// wait waits for the handler to exit, killing its process group when ctx
// ends or its stdout passes the limit, and says how it ended.
func (r *handlerRun) wait(ctx context.Context) runEnd {
	var end runEnd
	var err error
	select {
	case err = <-r.waited:
	case <-r.stdout.overflow:
		end.overflow = true
		r.killGroup()
		err = <-r.waited
	case <-ctx.Done():
		end.ctxErr = ctx.Err()
		r.killGroup()
		err = <-r.waited
	}
	end.setExit(err)
	return end
}

// setExit records the exit status of cmd.Wait's error err.
func (e *runEnd) setExit(err error) {
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		e.exitCode = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			e.signal = ws.Signal()
		}
	default:
		e.waitErr = err
	}
}

// handlerPipes opens the pipes of a handler process: stdin r, w; stdout
// r, w; stderr r, w.
func handlerPipes() ([6]*os.File, error) {
	var p [6]*os.File
	for i := 0; i < len(p); i += 2 {
		r, w, err := os.Pipe()
		if err != nil {
			closeAll(p[:i]...)
			return p, err
		}
		p[i], p[i+1] = r, w
	}
	return p, nil
}

// handlerSysProcAttr puts a handler process in its own process group, to
// kill it with what it started, and has it killed when the consumer dies,
// so that it never runs on without it (see startPinned).
func handlerSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func (r *handlerRun) killGroup() { killGroup(r.cmd.Process.Pid) }

// killGroup kills the process group pgid.
func killGroup(pgid int) { _ = syscall.Kill(-pgid, syscall.SIGKILL) }

// finish kills what the exited handler left running and reads its output
// and progress to the end, or for pipeGrace when something that escaped
// holds a pipe open; then it waits until the progress read was reported.
func (r *handlerRun) finish(log zerolog.Logger) {
	_ = r.stdin.Close()
	killLeftovers(r.pids.startedAs(r.cmd.Process.Pid), r.marker, log)
	grace := time.NewTimer(pipeGrace)
	defer grace.Stop()
	for _, done := range []chan struct{}{r.stdout.done, r.stderr.done, r.progress.done} {
		select {
		case <-done:
		case <-grace.C:
			log.Warn().Msg("the handler's output is held open by a process that escaped; closing it")
			closeAll(r.outR, r.errR, r.progress.r)
			<-done
		}
	}
	closeAll(r.outR, r.errR, r.progress.r)
	r.progress.wait()
}

func closeAll(fs ...*os.File) {
	for _, f := range fs {
		if f != nil {
			_ = f.Close()
		}
	}
}
