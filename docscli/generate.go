package docscli

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/clientgen"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/contractdocs"
)

func (m *app) generateCommand(c *command) {
	handlers := handlersFlag(c.flags)
	pkg := c.flags.String("package", "actions", "the Go package name of the generated file (go)")
	output := c.flags.String("output", "", "the `file` to write; standard output when empty")
	c.run = func(args []string) int {
		// The language comes first: generate go --output x.go.
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			if st, done := m.parse(c, args); done {
				return st
			}
			return m.usage("generate: say which language: go or python")
		}
		lang := args[0]
		if st, done := m.parse(c, args[1:]); done {
			return st
		}
		if c.flags.NArg() > 0 {
			return m.usage("generate: unexpected arguments: %v", c.flags.Args())
		}
		actions, problems, err := contractdocs.Load(*handlers)
		if err != nil {
			return m.fail("%v", err)
		}
		if len(problems) > 0 {
			return m.fail("contracts the consumer would refuse (rabbitmq-consumer-docs lint %s): %s", *handlers, joinProblems(problems))
		}
		in := make([]clientgen.Action, len(actions))
		for i, a := range actions {
			in[i] = clientgen.Action{Exchange: a.Exchange, Description: a.Description, Request: a.Request, Response: a.Response}
		}
		var src []byte
		switch lang {
		case "go":
			src, err = clientgen.Go(*pkg, in)
		case "python":
			src, err = clientgen.Python(in)
		default:
			return m.usage("generate: unknown language %q: go or python", lang)
		}
		if err != nil {
			return m.fail("generate %s: %v", lang, err)
		}
		if *output == "" {
			_, err = m.stdout.Write(src)
		} else if err = os.MkdirAll(filepath.Dir(*output), 0o755); err == nil {
			err = os.WriteFile(*output, src, 0o644)
		}
		if err != nil {
			return m.fail("write: %v", err)
		}
		return ExitOK
	}
}
