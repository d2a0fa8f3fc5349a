package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Every program of cmd/ writes its page, and man(1) renders every page
// without a warning (what lintian checks).
func TestEveryProgramHasAPage(t *testing.T) {
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	bin, out := t.TempDir(), t.TempDir()
	build := exec.Command("go", "build", "-o", bin+"/", "./cmd/...")
	build.Dir = root
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/...: %v\n%s", err, b)
	}
	if err := run(bin, out); err != nil {
		t.Fatal(err)
	}
	cmds, err := os.ReadDir(filepath.Join(root, "cmd"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"rabbitmq-consumer.yml.5"}
	for _, c := range cmds {
		want = append(want, c.Name()+".1")
	}
	for _, page := range want {
		path := filepath.Join(out, page)
		if _, err := os.Stat(path); err != nil {
			t.Errorf("no page %s: %v", page, err)
			continue
		}
		cmd := exec.Command("man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", path)
		cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "MANWIDTH=80")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			t.Errorf("man %s: %v: %s", page, err, stderr.String())
		}
	}
}

func TestProgramWithoutPage(t *testing.T) {
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "plain"), []byte("#!/bin/sh\necho 'usage: plain'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := run(bin, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "does not write its man page") {
		t.Fatalf("want an error naming the program without a page, got %v", err)
	}
}
