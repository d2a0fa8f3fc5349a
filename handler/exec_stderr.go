package handler

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// Limits on what an executable handler's stderr puts into the log.
const (
	maxStderrLine      = 4096    // one logged line; the rest of a longer line is cut
	stderrHeadBytes    = 8 << 10 // the first lines of a request, logged as they come
	stderrTailLogBytes = 8 << 10 // the last lines, logged when the handler is done
	stderrLogLines     = 100     // at most this many lines in the head, and in the tail
	stderrTailBytes    = 4096    // the last lines, kept for the traceback
	// stderrWindow renews the head of a persistent process, which serves
	// many requests: what a later request writes is logged too.
	stderrWindow = time.Minute
)

// stderrLog reads a handler's stderr to its end, whatever it holds (long
// lines, bytes that are not UTF-8, no final newline, gigabytes), and logs a
// bounded part of it: the first stderrHeadBytes (and stderrLogLines) of
// lines as they come, then, at the end, how much was left out and the last
// stderrTailLogBytes (and stderrLogLines) of lines.
// Lines are cut at maxStderrLine and made valid UTF-8. With a window (a
// persistent process), the head is renewed for the first line of each
// window after the head was full: the held lines of the window before are
// logged then, as at the end.
type stderrLog struct {
	log       zerolog.Logger
	window    time.Duration    // 0: one head for the process's life
	now       func() time.Time // the clock of the window
	since     time.Time        // the start of the window
	line      []byte           // the line being read, at most maxStderrLine bytes
	cut       int              // bytes cut from it
	logged    int              // bytes of the head logged
	loggedN   int              // lines of the head logged
	headFull  bool             // the head is logged: lines go to held
	held      lineTail
	traceback lineTail
	done      chan struct{} // closed when the pipe is read to its end and all is logged
}

// newStderrLog logs to log; with window > 0 its head is renewed every
// window.
func newStderrLog(log zerolog.Logger, window time.Duration) *stderrLog {
	return &stderrLog{
		log:       log,
		window:    window,
		now:       time.Now,
		held:      lineTail{max: stderrTailLogBytes, maxLines: stderrLogLines},
		traceback: lineTail{max: stderrTailBytes, maxLines: stderrTailBytes},
		done:      make(chan struct{}),
	}
}

// readFrom reads r in fixed chunks until its end or until it is closed.
func (s *stderrLog) readFrom(r *os.File) {
	defer close(s.done)
	chunk := make([]byte, readChunk)
	for {
		n, err := r.Read(chunk)
		s.write(chunk[:n])
		if err != nil {
			s.finish()
			return
		}
	}
}

// write splits p into lines, continuing the line of the previous write.
func (s *stderrLog) write(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		seg := p
		if i >= 0 {
			seg = p[:i]
		}
		if room := maxStderrLine - len(s.line); len(seg) > room {
			s.line = append(s.line, seg[:room]...)
			s.cut += len(seg) - room
		} else {
			s.line = append(s.line, seg...)
		}
		if i < 0 {
			return
		}
		s.endLine()
		p = p[i+1:]
	}
}

func (s *stderrLog) endLine() {
	l := strings.ToValidUTF8(string(s.line), "\uFFFD")
	if s.cut > 0 {
		l += fmt.Sprintf(" [... %d bytes cut]", s.cut)
	}
	s.line, s.cut = s.line[:0], 0
	s.traceback.add(l)
	s.renew()
	if !s.headFull && s.logged+len(l) <= stderrHeadBytes && s.loggedN < stderrLogLines {
		s.logged += len(l)
		s.loggedN++
		s.emit(l)
		return
	}
	s.headFull = true
	s.held.add(l)
}

// renew starts a new window when the last one is over: the head is free
// again, and the lines held after a full head are logged.
func (s *stderrLog) renew() {
	if s.window <= 0 {
		return
	}
	now := s.now()
	if s.since.IsZero() {
		s.since = now
	}
	if now.Sub(s.since) < s.window {
		return
	}
	s.since = now
	if s.headFull {
		s.logHeld()
		s.held = lineTail{max: stderrTailLogBytes, maxLines: stderrLogLines}
	}
	s.logged, s.loggedN, s.headFull = 0, 0, false
}

// finish logs the last line, what was left out, and the held last lines.
func (s *stderrLog) finish() {
	if len(s.line) > 0 || s.cut > 0 {
		s.endLine()
	}
	s.logHeld()
}

// logHeld logs what was left out and the held last lines.
func (s *stderrLog) logHeld() {
	if s.held.droppedLines > 0 {
		s.log.Warn().Int("lines", s.held.droppedLines).Int("bytes", s.held.droppedBytes).
			Msg("handler stderr: lines left out of the log; its first and last lines are logged")
	}
	for _, l := range s.held.lines {
		s.emit(l)
	}
}

func (s *stderrLog) emit(l string) { s.log.Info().Str("stderr", l).Msg("handler stderr") }

// tail returns the last lines for the traceback; call after done.
func (s *stderrLog) tail() string { return strings.Join(s.traceback.lines, "\n") }

// lineTail keeps the last lines added, up to max bytes and maxLines lines,
// and counts what it dropped.
type lineTail struct {
	lines        []string
	size, max    int
	maxLines     int
	droppedLines int
	droppedBytes int
}

func (t *lineTail) add(l string) {
	t.lines = append(t.lines, l)
	t.size += len(l) + 1
	drop := 0
	for (t.size > t.max || len(t.lines)-drop > t.maxLines) && len(t.lines)-drop > 1 {
		t.size -= len(t.lines[drop]) + 1
		t.droppedBytes += len(t.lines[drop]) + 1
		drop++
	}
	if drop > 0 {
		t.droppedLines += drop
		t.lines = t.lines[drop:] // append reallocates, with the live lines only
	}
}
