// Command mangen writes the man pages of every program in a directory of
// built binaries, and of the configuration file, into a directory:
//
//	go run ./internal/manual/mangen -bin build -out build/man
//
// Each program writes its own page (its --help with RABBITMQ_CONSUMER_MANUAL=roff),
// so a page always shows the flags the program has. A program that does
// not render its page (its flag set's Usage is not manual.Usage) is an
// error, named.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/manual"
)

func main() {
	bin := flag.String("bin", "bin", "directory of the built programs")
	out := flag.String("out", "build/man", "directory to write the pages to")
	flag.Parse()
	if err := run(*bin, *out); err != nil {
		fmt.Fprintln(os.Stderr, "mangen:", err)
		os.Exit(1)
	}
}

func run(bin, out string) error {
	entries, err := os.ReadDir(bin)
	if err != nil {
		return fmt.Errorf("read the programs: %w", err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("create the output directory: %w", err)
	}
	var names []string
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0 {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return fmt.Errorf("no programs in %s", bin)
	}
	for _, name := range names {
		page, err := programPage(filepath.Join(bin, name))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, name+".1"), page, 0o644); err != nil {
			return fmt.Errorf("write %s.1: %w", name, err)
		}
	}
	var b bytes.Buffer
	p := config.Manual()
	manual.WriteRoff(&b, p, nil)
	if err := os.WriteFile(filepath.Join(out, fmt.Sprintf("%s.%d", p.Name, p.Section)), b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", p.Name, err)
	}
	return nil
}

// programPage runs the program with --help in roff mode, in an environment
// with nothing that could change a default shown on the page.
func programPage(path string) ([]byte, error) {
	cmd := exec.Command(path, "--help")
	cmd.Env = []string{"PATH=/usr/bin:/bin", manual.FormatEnv + "=" + manual.FormatRoff}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run() // the exit status of --help varies; the output decides
	if !bytes.HasPrefix(stdout.Bytes(), []byte(".TH ")) {
		return nil, fmt.Errorf("%s does not write its man page: give its flag set manual.Usage (internal/manual); its --help said: %.200s", path, stdout.String()+stderr.String())
	}
	return stdout.Bytes(), nil
}
