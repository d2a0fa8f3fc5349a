package handler

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// persistentEchoes are persistent echo handlers: a program's text, or
// "build:PKG" for the Go package to build, or "python:FILE" for a program
// using the Python module FILE (a path from the repository's root).
var persistentEchoes = map[string]string{
	// the benchmark's compiled echo, through the Go helper handlerproto
	"go-handlerproto": "build:../bench/exec-persistent",
	// the Python helper shipped with the package
	"python-helper": "python:../python/rabbitmq_consumer_handler.py",
	"sh": `#!/bin/sh
echo '{"protocol": "rabbitmq-consumer/1"}'
while IFS= read -r line; do
  cid=${line#*\"correlation_id\":\"}; cid=${cid%%\"*}
  printf '{"correlation_id":"%s","response":{"success":true,"message":"m","data":{"ok":true}}}\n' "$cid"
done
`,
}

// pythonEchoPrograms are the handler programs of the Python modules of
// persistentEchoes: the echo, served by the module.
var pythonEchoPrograms = map[string]string{
	"rabbitmq_consumer_handler.py": "#!/usr/bin/python3\nfrom rabbitmq_consumer_handler import serve\n\ndef handle(request, meta):\n    return {\"success\": True, \"message\": \"echo\", \"data\": request}\n\nserve(handle)\n",
}

// writePersistentEcho writes the handler program of persistentEchoes[name]
// into dir.
func writePersistentEcho(b *testing.B, dir, name string) {
	b.Helper()
	src := persistentEchoes[name]
	program := filepath.Join(dir, "handler")
	switch {
	case strings.HasPrefix(src, "build:"):
		out, err := exec.Command("go", "build", "-o", program, strings.TrimPrefix(src, "build:")).CombinedOutput()
		if err != nil {
			b.Fatalf("go build %s: %v: %s", src, err, out)
		}
	case strings.HasPrefix(src, "python:"):
		module := strings.TrimPrefix(src, "python:")
		text, err := os.ReadFile(module)
		if err != nil {
			b.Fatal(err)
		}
		mustWrite(b, filepath.Join(dir, filepath.Base(module)), string(text), 0o644)
		mustWrite(b, program, pythonEchoPrograms[filepath.Base(module)], 0o755)
	default:
		mustWrite(b, program, src, 0o755)
	}
}

// BenchmarkPersistentHandle sends requests one after another to a
// persistent echo's warm process, and reports the CPU time each request
// cost the consumer's side (this process: framing, pipes, the pool) and
// the handler process, in µs.
func BenchmarkPersistentHandle(b *testing.B) {
	for _, name := range []string{"go-handlerproto", "python-helper", "sh"} {
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			writePersistentEcho(b, dir, name)
			contract := strings.Replace(permissiveContract, `"timeout_seconds":%s,`, `"timeout_seconds":30,"mode":"persistent","max_requests_per_process":0,`, 1)
			mustWrite(b, filepath.Join(dir, "contract.json"), contract, 0o644)
			e, err := LoadExec(dir, true)
			if err != nil {
				b.Fatal(err)
			}
			pl := NewPool(e, "bench", "dx_bench", 1, testBackoff, zerolog.Nop())
			if err := pl.Open(); err != nil {
				b.Fatal(err)
			}
			defer pl.Close()
			p := <-pl.idle
			pl.idle <- p
			call := &Call{Exchange: "dx_bench", CorrelationID: "0f8fad5b-d9cb-469f-a165-70867728950e", VirtualHost: "bench",
				Deadline: time.Now().Add(time.Hour), Body: []byte(`{"n":1,"payload":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`)}
			if _, err := pl.Handle(context.Background(), call); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			self0, handler0 := selfCPU(), procCPU(p.pid)
			b.ResetTimer()
			for b.Loop() {
				if _, err := pl.Handle(context.Background(), call); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			self1, handler1 := selfCPU(), procCPU(p.pid)
			b.ReportMetric(float64(self1-self0)/float64(b.N)/1e3, "consumer-cpu-µs/op")
			if handler0 >= 0 && handler1 >= 0 {
				b.ReportMetric(float64(handler1-handler0)/float64(b.N)/1e3, "handler-cpu-µs/op")
			}
		})
	}
}

// selfCPU is this process's user + system CPU time, in ns.
func selfCPU() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// procCPU is the CPU time a live process's threads ran, in ns, from
// /proc/PID/task/*/schedstat; -1 when it cannot be read.
func procCPU(pid int) int64 {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return -1
	}
	var total int64
	for _, t := range tasks {
		s, err := os.ReadFile(filepath.Join(dir, t.Name(), "schedstat"))
		if err != nil {
			continue
		}
		f := bytes.Fields(s)
		if len(f) > 0 {
			n, _ := strconv.ParseInt(string(f[0]), 10, 64)
			total += n
		}
	}
	return total
}
