package manual

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// WriteHelp writes the page's --help text: the synopsis, the summary and
// the flags of fs (a program without subcommands) or of every subcommand.
func WriteHelp(w io.Writer, p Page, fs *flag.FlagSet) {
	b := &strings.Builder{}
	for i, s := range p.Synopsis {
		lead := "usage: "
		if i > 0 {
			lead = "       "
		}
		fmt.Fprintf(b, "%s%s %s\n", lead, p.Name, s)
	}
	fmt.Fprintf(b, "\n%s: %s.\n", p.Name, p.Summary)
	if opts := options(fs); len(opts) > 0 {
		b.WriteString("\noptions:\n")
		writeOptions(b, opts)
	}
	for _, c := range p.Commands {
		fmt.Fprintf(b, "\n%s %s %s\n", p.Name, c.Name, c.Synopsis)
		writeOptions(b, options(c.Flags))
	}
	if p.Section == 1 {
		fmt.Fprintf(b, "\nThe manual: man %s\n", p.Name)
	}
	_, _ = io.WriteString(w, b.String())
}

// WriteCommandHelp writes one subcommand's --help text.
func WriteCommandHelp(w io.Writer, p Page, c Command) {
	b := &strings.Builder{}
	fmt.Fprintf(b, "usage: %s %s %s\n\n", p.Name, c.Name, c.Synopsis)
	for _, para := range paragraphs(c.Description) {
		b.WriteString(strings.Join(para.lines, "\n") + "\n\n")
	}
	if opts := options(c.Flags); len(opts) > 0 {
		b.WriteString("options:\n")
		writeOptions(b, opts)
	}
	_, _ = io.WriteString(w, b.String())
}

func writeOptions(b *strings.Builder, opts []option) {
	for _, o := range opts {
		fmt.Fprintf(b, "  --%s", o.name)
		if o.arg != "" {
			fmt.Fprintf(b, " %s", o.arg)
		}
		fmt.Fprintf(b, "\n        %s", o.usage)
		if o.def != "" {
			fmt.Fprintf(b, " (default %s)", o.def)
		}
		b.WriteString("\n")
	}
}
