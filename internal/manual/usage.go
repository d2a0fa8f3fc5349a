package manual

import (
	"flag"
	"os"
)

// FormatEnv names the environment variable that makes a program's --help
// write its man page (roff) to stdout instead of its help text: the
// package build runs every program so (make man).
const FormatEnv = "RABBITMQ_CONSUMER_MANUAL"

// FormatRoff is FormatEnv's value that asks for roff.
const FormatRoff = "roff"

// Usage returns the function to set as fs.Usage: --help writes the page's
// help text to fs.Output(), or its man page to stdout when FormatEnv says
// roff. fs holds the program's flags (nil for a program whose page lists
// subcommands).
func Usage(fs *flag.FlagSet, p Page) func() {
	return func() {
		if os.Getenv(FormatEnv) == FormatRoff {
			WriteRoff(os.Stdout, p, fs)
			return
		}
		out := fs.Output()
		WriteHelp(out, p, fs)
	}
}
