package handler

import (
	"context"
	"errors"
	"syscall"
	"testing"
)

func TestRunEndFailure(t *testing.T) {
	tests := []struct {
		name   string
		end    runEnd
		reason string // "" for success
		status int
	}{
		{"exit 0", runEnd{}, "", 0},
		{"exit 3", runEnd{exitCode: 3}, "handler exited with status 3", 3},
		{"signal", runEnd{exitCode: -1, signal: syscall.SIGSEGV}, "handler was killed by signal segmentation fault", -1},
		{"timeout", runEnd{exitCode: -1, signal: syscall.SIGKILL, ctxErr: context.DeadlineExceeded}, "handler timed out and was killed", -1},
		{"stopping", runEnd{exitCode: -1, signal: syscall.SIGKILL, ctxErr: context.Canceled}, "handler was killed: consumer stopping", -1},
		{"overflow, killed", runEnd{overflow: true, exitCode: -1, signal: syscall.SIGKILL}, "handler wrote more than 16777216 bytes to stdout and was killed", -1},
		{"overflow beats a timeout", runEnd{overflow: true, ctxErr: context.DeadlineExceeded}, "handler wrote more than 16777216 bytes to stdout and was killed", -1},
		{"overflow, exit 0", runEnd{overflow: true}, "handler wrote more than 16777216 bytes to stdout and was killed", -1},
		{"wait failed", runEnd{waitErr: errors.New("no child")}, "handler failed", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			he := tt.end.failure()
			if tt.reason == "" {
				if he != nil {
					t.Fatalf("failure = %v, want success", he)
				}
				return
			}
			if he == nil || he.Reason != tt.reason || he.ExitStatus != tt.status {
				t.Fatalf("failure = %+v, want %q status %d", he, tt.reason, tt.status)
			}
		})
	}
}
