package manual

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// Source is the footer of every page: the suite the programs belong to.
const Source = "rabbitmq-consumer"

// WriteRoff writes the page as a man(7) page; fs holds the flags of a
// program without subcommands (nil otherwise).
func WriteRoff(w io.Writer, p Page, fs *flag.FlagSet) {
	b := &strings.Builder{}
	fmt.Fprintf(b, ".TH %s %d \"\" %q \"%s manual\"\n", strings.ToUpper(escape(p.Name)), p.Section, Source, Source)
	b.WriteString(".nh\n.ad l\n") // no hyphenation of names and paths, ragged right
	b.WriteString(".SH NAME\n")
	fmt.Fprintf(b, "%s \\- %s\n", escape(p.Name), escape(p.Summary))
	if len(p.Synopsis) > 0 {
		b.WriteString(".SH SYNOPSIS\n")
		for i, s := range p.Synopsis {
			if i > 0 {
				b.WriteString(".br\n")
			}
			fmt.Fprintf(b, ".B %s\n%s\n", escape(p.Name), escape(s))
		}
	}
	b.WriteString(".SH DESCRIPTION\n")
	writeText(b, p.Description)
	if opts := options(fs); len(opts) > 0 {
		b.WriteString(".SH OPTIONS\n")
		writeRoffOptions(b, opts)
	}
	if len(p.Commands) > 0 {
		b.WriteString(".SH COMMANDS\n")
		for _, c := range p.Commands {
			fmt.Fprintf(b, ".SS \"%s %s\"\n", escape(c.Name), escape(c.Synopsis))
			writeText(b, c.Description)
			writeRoffOptions(b, options(c.Flags))
		}
	}
	for _, s := range p.Sections {
		fmt.Fprintf(b, ".SH %s\n", escape(s.Title))
		writeText(b, s.Body)
	}
	if len(p.SeeAlso) > 0 {
		b.WriteString(".SH SEE ALSO\n")
		refs := make([]string, len(p.SeeAlso))
		for i, r := range p.SeeAlso {
			refs[i] = seeAlso(r)
		}
		b.WriteString(strings.Join(refs, ",\n") + "\n")
	}
	_, _ = io.WriteString(w, b.String())
}

// seeAlso renders "name(N)" as a bold name and its section.
func seeAlso(ref string) string {
	if i := strings.LastIndexByte(ref, '('); i > 0 {
		return fmt.Sprintf(".BR %s %s", escape(ref[:i]), escape(ref[i:]))
	}
	return escape(ref)
}

func writeRoffOptions(b *strings.Builder, opts []option) {
	for _, o := range opts {
		b.WriteString(".TP\n")
		fmt.Fprintf(b, "\\fB\\-\\-%s\\fR", escape(o.name))
		if o.arg != "" {
			fmt.Fprintf(b, " \\fI%s\\fR", escape(o.arg))
		}
		b.WriteString("\n" + escapeLine(o.usage))
		if o.def != "" {
			fmt.Fprintf(b, " (default %s)", escape(o.def))
		}
		b.WriteString("\n")
	}
}

// writeText renders Text markup as roff paragraphs.
func writeText(b *strings.Builder, text string) {
	for _, p := range paragraphs(text) {
		switch p.kind {
		case verbatim:
			b.WriteString(".PP\n.RS 4\n.nf\n")
			for _, l := range p.lines {
				b.WriteString(escapeLine(l) + "\n")
			}
			b.WriteString(".fi\n.RE\n")
		case tagged:
			for _, l := range p.lines {
				term, text, _ := strings.Cut(l, "\t")
				fmt.Fprintf(b, ".TP\n.B %s\n%s\n", escape(term), escapeLine(strings.TrimSpace(text)))
			}
		default:
			b.WriteString(".PP\n")
			for _, l := range p.lines {
				b.WriteString(escapeLine(strings.TrimSpace(l)) + "\n")
			}
		}
	}
}

// escape makes text safe inside a roff line: backslashes and minus signs.
func escape(s string) string {
	return strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
}

// escapeLine escapes a whole input line: also a leading control character.
func escapeLine(s string) string {
	s = escape(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}
