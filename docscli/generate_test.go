package docscli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testbroker"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
)

func run(t *testing.T, args ...string) (status int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	status = Main(context.Background(), args, &out, &errb, nil)
	return status, out.String(), errb.String()
}

// A call made through the generated Go types, to a real consumer of the
// example handler on the local broker, in a virtual host of the test's own.
func TestDocsGeneratedGoTypesCallAConsumer(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	vh := testbroker.New(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "rabbitmq.yml")
	writeFile(t, cfg, fmt.Sprintf(`handlers_directory: %s/examples/handlers
state_directory: %s/state
server: {host: 127.0.0.1, port: 5672, username: guest, password: guest}
virtual_hosts:
  %s:
    queue: docs-%s
    exchanges:
      dx_example_oneshot: {type: direct}
`, root, dir, vh.Name, vh.Name))

	// The generated types, in a program of its own that calls the action.
	prog := filepath.Join(dir, "prog")
	if st, _, stderr := run(t, "generate", "go", "--handlers-directory", "../examples/handlers", "--package", "actions", "--output", filepath.Join(prog, "actions", "actions.go")); st != ExitOK {
		t.Fatalf("generate go: %d: %s", st, stderr)
	}
	writeFile(t, filepath.Join(prog, "go.mod"), "module example.com/prog\n\ngo 1.22\n\nrequire github.com/rabbitmq-consumer/rabbitmq-consumer v0.0.0\n\nreplace github.com/rabbitmq-consumer/rabbitmq-consumer => "+root+"\n")
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(prog, "go.sum"), string(sum))
	writeFile(t, filepath.Join(prog, "main.go"), `package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"example.com/prog/actions"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/client"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/config"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg, err := config.Load(os.Args[1])
	if err != nil {
		panic(err)
	}
	ccfg, err := client.FromFile(cfg, os.Args[2])
	if err != nil {
		panic(err)
	}
	c, err := client.Dial(ctx, ccfg)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	chance := int64(100)
	reply, err := client.CallTyped[actions.DxExampleOneshotRequest, actions.DxExampleOneshotResponse](ctx, c,
		actions.DxExampleOneshotExchange, actions.DxExampleOneshotRequest{FavouriteFood: "banana", ChancePercentage: &chance})
	if err != nil {
		fmt.Println("call:", err)
		os.Exit(3)
	}
	out, _ := json.Marshal(reply)
	fmt.Println(string(out))
}
`)
	// tidy -e: offline, the module cache need not hold the test-only
	// modules of every dependency's tests, which tidy would list.
	for _, args := range [][]string{{"mod", "tidy", "-e"}, {"vet", "./..."}, {"build", "-o", "prog", "."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = prog
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOTOOLCHAIN=local")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}

	// The consumer.
	bin := filepath.Join(dir, "rabbitmq-consumer")
	build := exec.Command("go", "build", "-o", bin, "./cmd/rabbitmq-consumer")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the consumer: %v\n%s", err, out)
	}
	var logs testutil.SyncBuffer
	consumer := exec.Command(bin, "--virtual-host-name", vh.Name, "--config-file-path", cfg)
	consumer.Stdout, consumer.Stderr = &logs, &logs
	if err := consumer.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = consumer.Process.Signal(syscall.SIGTERM)
		_ = consumer.Wait()
	})

	var last string
	testutil.WaitFor(t, "a reply through the generated types", 30*time.Second, func() bool {
		cmd := exec.Command(filepath.Join(prog, "prog"), cfg, vh.Name)
		out, _ := cmd.CombinedOutput()
		last = string(out)
		return !strings.HasPrefix(last, "call:") || !strings.Contains(last, "unroutable")
	})
	want := `{"success":true,"message":"Determined toleration","data":{"tolerable":false}}`
	if strings.TrimSpace(last) != want {
		t.Fatalf("the call through the generated types answered %s, want %s\nconsumer log:\n%s", last, want, logs.String())
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
