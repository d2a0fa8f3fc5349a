package docscli

import "fmt"

func (m *app) buildCommand(c *command) {
	handlers := handlersFlag(c.flags)
	output := c.flags.String("output", "", "the `directory` to write the site into (required)")
	cfgPath := configFlag(c.flags)
	c.run = func(args []string) int {
		if st, done := m.parse(c, args); done {
			return st
		}
		switch {
		case c.flags.NArg() > 0:
			return m.usage("build: unexpected arguments: %v", c.flags.Args())
		case *output == "":
			return m.usage("build: --output is required")
		}
		site, err := m.site(*handlers, *cfgPath)
		if err != nil {
			return m.fail("%v", err)
		}
		if err := site.Write(*output); err != nil {
			return m.fail("%v", err)
		}
		fmt.Fprintf(m.stderr, "rabbitmq-consumer-docs: wrote %d files into %s\n", len(site), *output)
		return ExitOK
	}
}
