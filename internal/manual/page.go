// Package manual is the one source of every program's --help and man page:
// a Page (name, synopsis, description, exit statuses, ...) and the
// program's own flag sets, rendered as text for --help and as roff for
// man(1). A flag added to a flag set appears in both with nothing else to
// write.
package manual

import (
	"flag"
	"strings"
)

// Page is a manual page: a program's (section 1) or a file format's
// (section 5).
type Page struct {
	// Name is the program's or the file's name, as in NAME.
	Name string
	// Section is the manual section: 1 for programs, 5 for file formats.
	Section int
	// Summary is the one line after the name in NAME, lowercase, no period.
	Summary string
	// Synopsis lists the ways to call the program, each without its name.
	Synopsis []string
	// Description is the text of DESCRIPTION (see Text for its markup).
	Description string
	// Commands are the program's subcommands, each with its own flags; a
	// program without subcommands leaves it empty.
	Commands []Command
	// Sections follow OPTIONS (or COMMANDS): EXIT STATUS, ENVIRONMENT,
	// FILES, ... in that order. SEE ALSO comes last, from SeeAlso.
	Sections []Section
	// SeeAlso names related pages, e.g. "rabbitmq-rpc(1)".
	SeeAlso []string
}

// Command is one subcommand: its name, what it does, and its flags.
type Command struct {
	// Name is the subcommand's name.
	Name string
	// Synopsis is its arguments after the subcommand's name.
	Synopsis string
	// Description says what it does (see Text for its markup).
	Description string
	// Flags are its flags; nil when it takes none.
	Flags *flag.FlagSet
}

// Section is a titled section of a page.
type Section struct {
	// Title is the section's heading, e.g. "EXIT STATUS".
	Title string
	// Body is its text (see Text for its markup).
	Body string
}

// Text is the markup of descriptions and section bodies: paragraphs
// separated by blank lines; a paragraph whose lines all start with a tab
// is shown verbatim (an example); a paragraph of lines "TERM<TAB>text" is
// a list of tagged items (exit statuses, environment variables, keys).
type Text = string

// paragraph is one block of Text.
type paragraph struct {
	kind  paraKind
	lines []string
}

type paraKind int

const (
	prose paraKind = iota
	verbatim
	tagged
)

// paragraphs splits text into its blocks.
func paragraphs(text string) []paragraph {
	var out []paragraph
	for _, block := range strings.Split(strings.Trim(text, "\n"), "\n\n") {
		lines := strings.Split(strings.Trim(block, "\n"), "\n")
		if len(lines) == 0 || (len(lines) == 1 && strings.TrimSpace(lines[0]) == "") {
			continue
		}
		p := paragraph{kind: prose, lines: lines}
		switch {
		case all(lines, func(l string) bool { return strings.HasPrefix(l, "\t") }):
			p.kind = verbatim
			for i, l := range lines {
				p.lines[i] = l[1:]
			}
		case all(lines, func(l string) bool { return strings.Contains(l, "\t") && !strings.HasPrefix(l, "\t") }):
			p.kind = tagged
		}
		out = append(out, p)
	}
	return out
}

func all(lines []string, f func(string) bool) bool {
	for _, l := range lines {
		if !f(l) {
			return false
		}
	}
	return true
}

// option is one flag as both renderings show it.
type option struct {
	name, arg, usage, def string
}

// options lists a flag set's flags in name order.
func options(fs *flag.FlagSet) []option {
	if fs == nil {
		return nil
	}
	var out []option
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		o := option{name: f.Name, arg: arg, usage: usage}
		if !isZeroDefault(f) {
			o.def = f.DefValue
		}
		out = append(out, o)
	})
	return out
}

// isZeroDefault reports whether a flag's default says nothing worth
// printing (false, 0, empty), as the flag package decides.
func isZeroDefault(f *flag.Flag) bool {
	switch f.DefValue {
	case "", "false", "0", "0s", "[]":
		return true
	}
	return false
}
