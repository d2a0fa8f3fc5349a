package handler

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// Protocol is the persistent handler protocol's name and version: the
// handshake line names it, and RPC_PROTOCOL holds it.
const Protocol = "rabbitmq-consumer/1"

// Limits of the persistent handler protocol.
const (
	maxHandshakeWait = 60 * time.Second // the handshake waits at most the timeout, and at most this
	retireGrace      = 5 * time.Second  // a process whose stdin is closed may take this long to exit
	stdoutBuffer     = 64 << 10         // the buffer lines are read through; longer lines are assembled
)

// errLineTooLong is a line past maxHandlerOutput.
var errLineTooLong = errors.New("line too long")

// persistentProc is one process of a persistent handler: it serves one
// request at a time, over its stdin and stdout.
type persistentProc struct {
	cmd     *exec.Cmd
	pid     int
	pids    pidWindow // where its processes are
	marker  string
	gen     uint64    // the pool's generation it was started in (see Pool.Reload)
	born    time.Time // when it passed the handshake
	served  int       // requests answered
	limit   int       // requests to serve before it is recycled (0: no limit)
	stdin   *os.File
	outR    *os.File
	errR    *os.File
	out     *bufio.Reader
	stderr  *stderrLog
	line    []byte        // the request line being written, reused
	exited  chan struct{} // closed once the process is reaped; waitErr is set then
	waitErr error
}

// spawnProc starts one process of h and waits for its handshake, at most
// wait, or until ctx ends. The process's stderr is logged to log; exited,
// if set, is called when the process has exited.
func spawnProc(ctx context.Context, h *Exec, vhost, exchange string, wait time.Duration, log zerolog.Logger, exited func()) (*persistentProc, error) {
	pp, err := handlerPipes()
	if err != nil {
		return nil, err
	}
	p := &persistentProc{
		marker: newRunMarker(vhost),
		stdin:  pp[1], outR: pp[2], errR: pp[4],
		exited: make(chan struct{}),
	}
	p.cmd = exec.Command(h.Path)
	p.cmd.Dir = h.Dir
	base := h.baseEnv(log)
	p.cmd.Env = append(append(make([]string, 0, len(base)+4), base...),
		"RPC_PROTOCOL="+Protocol,
		"RPC_EXCHANGE="+exchange,
		"RPC_VIRTUAL_HOST="+vhost,
		runMarkerVariable+"="+p.marker)
	p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = pp[0], pp[3], pp[5]
	p.cmd.SysProcAttr = handlerSysProcAttr()
	pids := pidsBeforeStart()
	err = startPinned(p.cmd)
	closeAll(pp[0], pp[3], pp[5])
	if err != nil {
		closeAll(pp[1], pp[2], pp[4])
		return nil, err
	}
	p.pid = p.cmd.Process.Pid
	p.pids = pids.startedAs(p.pid)
	p.stderr = newStderrLog(log.With().Int("handler_pid", p.pid).Logger(), stderrWindow)
	p.out = bufio.NewReaderSize(p.outR, stdoutBuffer)
	go p.stderr.readFrom(p.errR)
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
		if exited != nil {
			exited()
		}
	}()
	stop := context.AfterFunc(ctx, p.kill)
	err = p.handshake(wait)
	stop()
	if err != nil {
		p.kill()
		p.sweep(log)
		he := &Error{Reason: "the handler does not speak " + Protocol, ExitStatus: -1, Err: err, Stderr: p.stderr.tail()}
		return nil, he
	}
	return p, nil
}

// handshake reads the first line, which must name the protocol.
func (p *persistentProc) handshake(wait time.Duration) error {
	_ = p.outR.SetReadDeadline(time.Now().Add(wait))
	line, err := p.readLine()
	_ = p.outR.SetReadDeadline(time.Time{})
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("no handshake line within %v", wait)
	case err != nil:
		return fmt.Errorf("no handshake line: %w", p.exitNote(err))
	}
	var hs struct {
		Protocol string `json:"protocol"`
	}
	if json.Unmarshal(line, &hs) != nil || hs.Protocol != Protocol {
		return fmt.Errorf(`its first line is not {"protocol": %q}: %s`, Protocol, truncate(string(line), 200))
	}
	return nil
}

// exitNote adds the exit status to err when the process has exited.
func (p *persistentProc) exitNote(err error) error {
	select {
	case <-p.exited:
	case <-time.After(pipeGrace):
		return err
	}
	var end runEnd
	end.setExit(p.waitErr)
	if he := end.failure(); he != nil {
		return fmt.Errorf("%w (%s)", err, he.Reason)
	}
	return fmt.Errorf("%w (exited with status 0)", err)
}

// readLine reads one line without its "\n"; the result is valid until the
// next read. A line longer than maxHandlerOutput is errLineTooLong: what
// is held of it never passes that.
func (p *persistentProc) readLine() ([]byte, error) {
	var acc []byte
	for {
		frag, err := p.out.ReadSlice('\n')
		switch {
		case err == nil && acc == nil:
			return frag[:len(frag)-1], nil
		case err != nil && !errors.Is(err, bufio.ErrBufferFull):
			return nil, err
		case len(acc)+len(frag) > maxHandlerOutput+1:
			return nil, errLineTooLong
		}
		acc = append(acc, frag...)
		if err == nil {
			return acc[:len(acc)-1], nil
		}
	}
}

// roundTrip sends call and reads its response object, or its "retry
// later"; progress lines on the way go to the request's reporter. When ctx ends first
// the process is killed. A failure means the process cannot be used again.
func (p *persistentProc) roundTrip(ctx context.Context, call *Call) (json.RawMessage, *RetryLaterError, *Error) {
	p.line = appendRequestLine(p.line[:0], call)
	stop := context.AfterFunc(ctx, p.kill)
	defer stop()
	_, err := p.stdin.Write(p.line)
	for err == nil {
		var line []byte
		if line, err = p.readLine(); err != nil {
			break
		}
		pl, perr := parseResponseLine(line, call.CorrelationID)
		switch {
		case perr != nil:
			if ctx.Err() != nil {
				return nil, nil, runEnd{ctxErr: ctx.Err()}.failure()
			}
			return nil, nil, &Error{Reason: "handler broke the protocol", ExitStatus: -1, Err: perr}
		case pl.progress != nil:
			Progress(ctx, *pl.progress)
			continue
		}
		if ctx.Err() != nil {
			return nil, nil, runEnd{ctxErr: ctx.Err()}.failure()
		}
		p.served++
		return pl.response, pl.retry, nil
	}
	if ctx.Err() != nil {
		return nil, nil, runEnd{ctxErr: ctx.Err()}.failure()
	}
	if errors.Is(err, errLineTooLong) {
		return nil, nil, runEnd{overflow: true}.failure()
	}
	return nil, nil, &Error{Reason: "handler process ended before answering", ExitStatus: -1, Err: p.exitNote(err)}
}

// protocolLine is a line a process wrote during a request: one of a
// response, a progress update, or a "not now, retry later".
type protocolLine struct {
	response json.RawMessage
	progress *wire.Progress
	retry    *RetryLaterError
}

// parseResponseLine checks a line the process wrote during a request: a
// response line gives its response object, a copy; a progress line (a
// "progress" object and no "response") gives its progress update; a retry
// line ("retry_after_seconds" and no "response") its RetryLaterError.
func parseResponseLine(line []byte, correlationID string) (protocolLine, error) {
	if raw, ok := plainResponseLine(line, correlationID); ok {
		return protocolLine{response: bytes.Clone(raw)}, nil
	}
	raw, progress, err := parseSlowLine(line, correlationID)
	if err != nil || progress != nil || raw != nil {
		return protocolLine{response: raw, progress: progress}, err
	}
	rl, err := parseRetryAfter(line)
	if err != nil {
		return protocolLine{}, fmt.Errorf("a retry line: %w", err)
	}
	return protocolLine{retry: rl}, nil
}

// parseSlowLine decodes a line that is not a plain response line: its
// response, its progress, or neither for a retry line.
func parseSlowLine(line []byte, correlationID string) (json.RawMessage, *wire.Progress, error) {
	var r struct {
		CorrelationID *string         `json:"correlation_id"`
		Response      json.RawMessage `json:"response"`
		Progress      json.RawMessage `json:"progress"`
		RetryAfter    json.RawMessage `json:"retry_after_seconds"`
	}
	if err := json.Unmarshal(line, &r); err != nil {
		return nil, nil, fmt.Errorf("a line that is not a JSON object (%w): %s", err, truncate(string(line), 200))
	}
	switch {
	case r.CorrelationID == nil:
		return nil, nil, fmt.Errorf("a line without correlation_id: %s", truncate(string(line), 200))
	case *r.CorrelationID != correlationID:
		return nil, nil, fmt.Errorf("a response to correlation_id %q while %q was asked", truncate(*r.CorrelationID, 100), correlationID)
	case len(r.Response) == 0 && len(r.Progress) > 0:
		pr, err := decodeProgress(r.Progress)
		if err != nil {
			return nil, nil, fmt.Errorf("a progress line whose progress is %w: %s", err, truncate(string(line), 200))
		}
		return nil, &pr, nil
	case len(r.Response) == 0 && len(r.RetryAfter) > 0:
		return nil, nil, nil
	case len(r.Response) == 0 || r.Response[0] != '{':
		return nil, nil, fmt.Errorf("a line without a response object: %s", truncate(string(line), 200))
	}
	return r.Response, nil, nil
}

// plainResponseLine reads the response line that parseResponseLine takes
// as the helpers write it, compact with its keys in the protocol's order:
// {"correlation_id":"ID","response":{...}}, where ID is correlationID with
// nothing to escape, checked with one pass over the response object. Any
// other line is false, for parseResponseLine to decode and say what is
// wrong with it. The result is within line.
func plainResponseLine(line []byte, correlationID string) (json.RawMessage, bool) {
	rest, ok := bytes.CutPrefix(line, []byte(`{"correlation_id":"`))
	if !ok || !plainJSONString(correlationID) {
		return nil, false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(correlationID)); !ok {
		return nil, false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`","response":`)); !ok {
		return nil, false
	}
	response, ok := bytes.CutSuffix(rest, []byte("}"))
	if !ok || len(response) < 2 || response[0] != '{' || !json.Valid(response) {
		return nil, false
	}
	return response, true
}

// plainJSONString reports whether s is written in JSON as it is, between
// quotes: UTF-8 without quotes, backslashes or control characters.
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return utf8.ValidString(s)
}

// appendRequestLine appends call's request line, "\n" included.
func appendRequestLine(b []byte, call *Call) []byte {
	b = append(b, `{"correlation_id":`...)
	b = appendJSONString(b, call.CorrelationID)
	b = append(b, `,"exchange":`...)
	b = appendJSONString(b, call.Exchange)
	b = append(b, `,"virtual_host":`...)
	b = appendJSONString(b, call.VirtualHost)
	b = append(b, `,"redelivered":`...)
	b = strconv.AppendBool(b, call.Redelivered)
	b = append(b, `,"deadline":`...)
	if call.Deadline.IsZero() {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendInt(b, call.Deadline.UnixMilli(), 10)
	}
	if call.Attempt > 1 {
		b = append(b, `,"attempt":`...)
		b = strconv.AppendInt(b, int64(call.Attempt), 10)
	}
	b = append(b, `,"request":`...)
	b = append(b, compact(call.Body)...) // no "\n" inside: compact JSON
	return append(b, "}\n"...)
}

// stale reports whether the process wrote more than its responses, or has
// exited: it cannot take a request.
func (p *persistentProc) stale() bool {
	select {
	case <-p.exited:
		return true
	default:
	}
	return p.out.Buffered() > 0
}

// kill kills the process's group and unblocks whoever reads or writes its
// pipes.
func (p *persistentProc) kill() {
	killGroup(p.pid)
	_ = p.outR.SetReadDeadline(time.Now())
	_ = p.stdin.SetWriteDeadline(time.Now())
}

// retire ends the process as the protocol says: its stdin is closed, and
// after retireGrace its group and every process with its marker are killed.
func (p *persistentProc) retire(log zerolog.Logger) {
	_ = p.stdin.Close()
	select {
	case <-p.exited:
	case <-time.After(retireGrace):
		log.Warn().Int("handler_pid", p.pid).Dur("grace", retireGrace).Msg("persistent handler process did not exit after its stdin was closed; killing it")
	}
	p.sweep(log)
}

// sweep kills what is left of the process (its group, its marked
// processes), waits for it to be reaped and for its stderr to end, and
// closes the pipes.
func (p *persistentProc) sweep(log zerolog.Logger) {
	killGroup(p.pid)
	<-p.exited // SIGKILLed: reaped at once
	killLeftovers(p.pids, p.marker, log)
	select {
	case <-p.stderr.done:
	case <-time.After(pipeGrace):
		log.Warn().Msg("the handler's stderr is held open by a process that escaped; closing it")
		_ = p.errR.Close()
		<-p.stderr.done
	}
	closeAll(p.stdin, p.outR, p.errR)
}
