package docscli

import (
	"flag"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/manual"
)

// page is rabbitmq-consumer-docs(1); its synopsis and commands are cmds,
// each command's flags its flag set.
func page(cmds []command) manual.Page {
	p := manual.Page{
		Name:    "rabbitmq-consumer-docs",
		Section: 1,
		Summary: "documentation, JSON Schemas, client types and lint of the handlers' contracts",
		Description: `Every action (exchange) a consumer serves has a contract, contract.json in its handler's directory: a description, the JSON Schemas of the request and of the response's data, the lock attribute, the timeout and examples. rabbitmq-consumer-docs turns the contracts of a handlers directory into what the actions' callers need: a documentation site, the JSON Schemas, client types; and checks contracts where they are written.

The site has an index of every action at / and a page per action at /actions/<exchange>.html: the request and response fields (type, required, default, constraints, description; nested objects and array elements expanded), the lock attribute and the timeout, the fields to send Fernet-encrypted (those whose request schema says "x-fernet": true), the examples, the failures a caller can get, and how to call the action with rabbitmq-rpc and from Go. With --config-file-path it also says which virtual hosts and queues serve each action.

The JSON Schemas (draft 2020-12) are served as the reference documentation server serves them: /schemas lists the files, /schemas/<exchange>.json has the properties request_model and response_model (the whole response), and /schemas/head.json references them all. Only contracts the consumer accepts are documented; the index names the others.`,
		Sections: []manual.Section{
			{Title: "EXIT STATUS", Body: `0	done; lint: no problem
1	lint found problems, or the command failed
64	bad command line`},
			{Title: "EXAMPLES", Body: `	rabbitmq-consumer-docs lint debian/tmp/usr/lib/rabbitmq-consumer/handlers
	rabbitmq-consumer-docs build --output /var/www/actions
	rabbitmq-consumer-docs generate go --package actions --output actions/actions.go
	rabbitmq-consumer-docs generate python --output actions.py

The unit rabbitmq-consumer-docs.service serves the installed handlers on 127.0.0.1:8080 (a drop-in may change LISTEN); installing, upgrading or removing a handler package reloads it.`},
			{Title: "FILES", Body: `/usr/lib/rabbitmq-consumer/handlers/	the handlers directory read by default`},
		},
		SeeAlso: []string{"rabbitmq-consumer(1)", "rabbitmq-rpc(1)", "rabbitmq-consumer.yml(5)"},
	}
	for _, c := range cmds {
		p.Synopsis = append(p.Synopsis, c.name+" "+c.synopsis)
		p.Commands = append(p.Commands, c.manual())
	}
	return p
}

// command is one subcommand: its flags, and what runs it.
type command struct {
	name, synopsis, description string
	flags                       *flag.FlagSet
	run                         func(args []string) int
}

// manual is the command as its page shows it.
func (c *command) manual() manual.Command {
	return manual.Command{Name: c.name, Synopsis: c.synopsis, Description: c.description, Flags: c.flags}
}
