package manual

import (
	"bytes"
	"flag"
	"strings"
	"testing"
	"time"
)

func testFlags() *flag.FlagSet {
	fs := flag.NewFlagSet("prog", flag.ContinueOnError)
	fs.String("config-file-path", "/etc/x.yml", "configuration `file`")
	fs.Duration("timeout", 30*time.Second, "how long to wait")
	fs.Bool("json", false, "print JSON")
	fs.Int("count", 0, "how many")
	return fs
}

var testPage = Page{
	Name:     "prog",
	Section:  1,
	Summary:  "do a thing",
	Synopsis: []string{"[--json] ARG"},
	Description: `First paragraph
with two lines.

	.literal line with a \ backslash
	second literal

.starts with a dot`,
	Sections: []Section{{Title: "EXIT STATUS", Body: "0\tfine\n64\tbad command line"}},
	SeeAlso:  []string{"other(5)"},
}

func TestRoff(t *testing.T) {
	var b bytes.Buffer
	WriteRoff(&b, testPage, testFlags())
	got := b.String()
	for _, want := range []string{
		".TH PROG 1 \"\" \"rabbitmq-consumer\" \"rabbitmq-consumer manual\"\n",
		".SH NAME\nprog \\- do a thing\n",
		".SH SYNOPSIS\n.B prog\n[\\-\\-json] ARG\n",
		".PP\nFirst paragraph\nwith two lines.\n",
		".nf\n\\&.literal line with a \\e backslash\nsecond literal\n.fi\n",
		".PP\n\\&.starts with a dot\n",
		".TP\n\\fB\\-\\-config\\-file\\-path\\fR \\fIfile\\fR\nconfiguration file (default /etc/x.yml)\n",
		".TP\n\\fB\\-\\-json\\fR\nprint JSON\n",
		".TP\n\\fB\\-\\-count\\fR \\fIint\\fR\nhow many\n",
		".SH EXIT STATUS\n.TP\n.B 0\nfine\n.TP\n.B 64\nbad command line\n",
		".SH SEE ALSO\n.BR other (5)\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("roff lacks %q; got:\n%s", want, got)
		}
	}
}

func TestHelp(t *testing.T) {
	cases := []struct {
		name string
		page Page
		fs   *flag.FlagSet
		want []string
	}{
		{"flags", testPage, testFlags(), []string{
			"usage: prog [--json] ARG\n",
			"prog: do a thing.\n",
			"  --config-file-path file\n        configuration file (default /etc/x.yml)\n",
			"  --timeout duration\n        how long to wait (default 30s)\n",
			"  --json\n        print JSON\n",
			"The manual: man prog\n",
		}},
		{"subcommands", Page{Name: "tool", Section: 1, Summary: "tools", Synopsis: []string{"serve ..."},
			Commands: []Command{{Name: "serve", Synopsis: "--listen ADDR", Flags: testFlags()}}},
			flag.NewFlagSet("tool", flag.ContinueOnError), []string{
				"tool serve --listen ADDR\n  --config-file-path file\n",
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			WriteHelp(&b, c.page, c.fs)
			for _, w := range c.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("help lacks %q; got:\n%s", w, b.String())
				}
			}
		})
	}
}

// A flag added to the flag set is in both renderings with nothing else
// written.
func TestNewFlagAppearsInBoth(t *testing.T) {
	fs := testFlags()
	fs.String("log-level", "info", "log level")
	var h, r bytes.Buffer
	WriteHelp(&h, testPage, fs)
	WriteRoff(&r, testPage, fs)
	if !strings.Contains(h.String(), "--log-level string") || !strings.Contains(r.String(), `\fB\-\-log\-level\fR \fIstring\fR`) {
		t.Fatalf("the new flag is missing:\nhelp:\n%s\nroff:\n%s", h.String(), r.String())
	}
}
