package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mattn/go-isatty"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// barWidth is the number of cells of the progress bar on a terminal.
const barWidth = 20

// progressView shows a call's progress updates on w: on a terminal, one
// status line redrawn in place (a bar when the update has a percentage),
// cleared when the call ends; elsewhere, one line per update.
type progressView struct {
	w     io.Writer
	tty   bool
	drawn bool // a status line is on the terminal
}

// newProgressView shows progress on w, as a status line when w is a
// terminal.
func newProgressView(w io.Writer) *progressView {
	f, ok := w.(*os.File)
	return &progressView{w: w, tty: ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))}
}

// show shows one update.
func (v *progressView) show(p wire.Progress) {
	if v.tty {
		fmt.Fprint(v.w, "\r\x1b[K"+statusLine(p))
		v.drawn = true
		return
	}
	fmt.Fprintln(v.w, "progress: "+progressText(p))
}

// end clears the status line, if any.
func (v *progressView) end() {
	if v.drawn {
		fmt.Fprint(v.w, "\r\x1b[K")
		v.drawn = false
	}
}

// statusLine is an update as the terminal's status line: a bar and the
// percentage when the update has one, then the state and the message.
func statusLine(p wire.Progress) string {
	if p.Percent == nil {
		return stateMessage(p)
	}
	pc := min(max(*p.Percent, 0), 100)
	full := int(pc * barWidth / 100)
	return fmt.Sprintf("[%s%s] %3.0f%% %s", strings.Repeat("#", full), strings.Repeat("-", barWidth-full), pc, stateMessage(p))
}

// progressText is an update as one line of text.
func progressText(p wire.Progress) string {
	if p.Percent == nil {
		return stateMessage(p)
	}
	return fmt.Sprintf("%.0f%% %s", *p.Percent, stateMessage(p))
}

// stateMessage is "State: message", or either alone; control characters
// (a newline in a message) are shown as spaces, so an update stays on one
// line.
func stateMessage(p wire.Progress) string {
	s := p.State
	if p.Message != "" {
		if s != "" {
			s += ": "
		}
		s += p.Message
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
