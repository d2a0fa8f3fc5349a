// Package docscli is the rabbitmq-consumer-docs command: the docs server,
// the static site, client types and the contract lint.
package docscli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/manual"
)

// Exit statuses of rabbitmq-consumer-docs.
const (
	ExitOK      = 0
	ExitFailure = 1 // lint found problems, or the command failed
	ExitUsage   = 64
)

// Main runs rabbitmq-consumer-docs with args (without the program name)
// until ctx ends (serve) or the command is done, and returns the exit
// status. ready, when not nil, gets the address serve listens on.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(addr string)) int {
	m := &app{ctx: ctx, stdout: stdout, stderr: stderr, ready: ready}
	cmds := m.commands()
	top := flag.NewFlagSet("rabbitmq-consumer-docs", flag.ContinueOnError)
	top.SetOutput(stderr)
	top.Usage = manual.Usage(top, page(cmds))
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if top.NArg() == 0 {
		top.Usage()
		return ExitUsage
	}
	for _, c := range cmds {
		if c.name == top.Arg(0) {
			return c.run(top.Args()[1:])
		}
	}
	fmt.Fprintf(stderr, "rabbitmq-consumer-docs: unknown command %q (commands: serve, build, generate, lint)\n", top.Arg(0))
	return ExitUsage
}

type app struct {
	ctx            context.Context
	stdout, stderr io.Writer
	ready          func(string)
}

// infof writes one line to stderr; fail and usage write it and return
// their exit status.
func (m *app) infof(format string, a ...any) {
	fmt.Fprintf(m.stderr, "rabbitmq-consumer-docs: "+format+"\n", a...)
}

func (m *app) fail(format string, a ...any) int {
	m.infof(format, a...)
	return ExitFailure
}

func (m *app) usage(format string, a ...any) int {
	m.infof(format, a...)
	return ExitUsage
}

// parse parses a command's flags; done is true when the command should
// return status at once (--help, a bad flag).
func (m *app) parse(c *command, args []string) (status int, done bool) {
	c.flags.SetOutput(m.stderr)
	c.flags.Usage = func() {
		if os.Getenv(manual.FormatEnv) == manual.FormatRoff {
			return
		}
		manual.WriteCommandHelp(m.stderr, page(nil), c.manual())
	}
	if err := c.flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK, true
		}
		return ExitUsage, true
	}
	return 0, false
}

// handlersFlag and configFlag are the flags every reading command shares.
func handlersFlag(fs *flag.FlagSet) *string {
	return fs.String("handlers-directory", config.DefaultHandlersDirectory, "the handlers directory: one directory per exchange holding contract.json")
}

func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config-file-path", "", "the consumers' configuration `file`, to say which virtual hosts and queues serve each action (optional)")
}

func (m *app) commands() []command {
	cmds := []command{
		{name: "serve", synopsis: "[--handlers-directory D] [--listen ADDR] [--config-file-path F]",
			description: "Serves the documentation site and the JSON Schemas over HTTP. SIGHUP reads the handlers (and the configuration) again."},
		{name: "build", synopsis: "[--handlers-directory D] --output DIR [--config-file-path F]",
			description: "Writes the site as static files into DIR: index.html, actions/<exchange>.html, style.css, schemas/<exchange>.json, schemas/head.json and schemas/index.json (the list /schemas serves)."},
		{name: "generate", synopsis: "go|python [--handlers-directory D] [--package P] [--output FILE]",
			description: "Writes client types for every action: Go request and response types for client.CallTyped (go), or Python dataclasses with from_dict and to_dict, standard library only (python)."},
		{name: "lint", synopsis: "DIR...",
			description: "Checks every contract of each handlers directory (or of one handler's directory) and prints every problem, one per line, with its file and the JSON pointer of the offending value: schemas that are not valid JSON Schema, examples that break their schemas, defaults their own schema refuses, a lock attribute that is not a required string field, x-fernet anywhere but on a top-level string field. Exit status 1 when there is a problem, so that a handler package's build can run it."},
	}
	for i := range cmds {
		cmds[i].flags = flag.NewFlagSet(cmds[i].name, flag.ContinueOnError)
	}
	m.serveCommand(&cmds[0])
	m.buildCommand(&cmds[1])
	m.generateCommand(&cmds[2])
	m.lintCommand(&cmds[3])
	return cmds
}

// joinProblems is the one line a refused contract gets.
func joinProblems(errs []error) string {
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}
