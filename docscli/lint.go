package docscli

import (
	"fmt"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/contractlint"
)

func (m *app) lintCommand(c *command) {
	c.run = func(args []string) int {
		if st, done := m.parse(c, args); done {
			return st
		}
		if c.flags.NArg() == 0 {
			return m.usage("lint: name a handlers directory")
		}
		problems := 0
		for _, dir := range c.flags.Args() {
			ps, err := contractlint.Dir(dir)
			if err != nil {
				return m.fail("lint: %v", err)
			}
			for _, p := range ps {
				fmt.Fprintln(m.stdout, p.String())
			}
			problems += len(ps)
		}
		if problems > 0 {
			fmt.Fprintf(m.stderr, "rabbitmq-consumer-docs: %d problems\n", problems)
			return ExitFailure
		}
		return ExitOK
	}
}
