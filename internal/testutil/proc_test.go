package testutil

import (
	"os"
	"strings"
	"testing"
)

func TestProcStatus(t *testing.T) {
	pid := os.Getpid()
	tests := []struct {
		field   string
		wantErr string
	}{
		{field: "VmHWM"},
		{field: "VmRSS"},
		{field: "NoSuchField", wantErr: "no NoSuchField in /proc/"},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			kb, err := ProcStatus(pid, tt.field)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ProcStatus(%s) = %d, %v; want an error containing %q", tt.field, kb, err, tt.wantErr)
				}
				return
			}
			if err != nil || kb <= 0 {
				t.Fatalf("ProcStatus(%s) = %d, %v; want a positive size", tt.field, kb, err)
			}
		})
	}
	if _, err := ProcStatus(-1, "VmRSS"); err == nil {
		t.Error("ProcStatus of no process: no error")
	}
}

func TestCPUTicks(t *testing.T) {
	before, err := CPUTicks(os.Getpid())
	if err != nil || before < 0 {
		t.Fatalf("CPUTicks = %d, %v", before, err)
	}
	for x := 0; ; x++ { // burn CPU until a tick passes
		if now, _ := CPUTicks(os.Getpid()); now > before {
			break
		}
	}
	if _, err := CPUTicks(-1); err == nil {
		t.Error("CPUTicks of no process: no error")
	}
}
