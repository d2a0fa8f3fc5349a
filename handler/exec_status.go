package handler

import (
	"context"
	"errors"
	"fmt"
	"syscall"
)

// runEnd is what was observed when an executable handler's run ended.
type runEnd struct {
	// overflow: the handler wrote more than maxHandlerOutput to stdout.
	overflow bool
	// ctxErr is the request context's error when it ended the run (timeout
	// or a forced stop), else nil.
	ctxErr error
	// waitErr is a failure to wait for the process other than its exit status.
	waitErr error
	// exitCode is the exit status, -1 when a signal ended the process.
	exitCode int
	// signal is the signal that ended the process, or 0.
	signal syscall.Signal
}

// failure maps how a run ended to the handler error it means, or nil when
// the run succeeded (exit status 0, stdout within its limit). The first
// cause wins: the output limit and the context are why the consumer killed
// the process, so they say more than the signal that ended it.
func (e runEnd) failure() *Error {
	switch {
	case e.overflow:
		return &Error{Reason: fmt.Sprintf("handler wrote more than %d bytes to stdout and was killed", maxHandlerOutput), ExitStatus: -1}
	case errors.Is(e.ctxErr, context.DeadlineExceeded):
		return &Error{Reason: "handler timed out and was killed", ExitStatus: -1, Err: e.ctxErr}
	case e.ctxErr != nil:
		return &Error{Reason: "handler was killed: consumer stopping", ExitStatus: -1, Err: e.ctxErr}
	case e.waitErr != nil:
		return &Error{Reason: "handler failed", ExitStatus: -1, Err: e.waitErr}
	case e.signal != 0:
		return &Error{Reason: fmt.Sprintf("handler was killed by signal %v", e.signal), ExitStatus: -1}
	case e.exitCode != 0:
		return &Error{Reason: fmt.Sprintf("handler exited with status %d", e.exitCode), ExitStatus: e.exitCode}
	}
	return nil
}
