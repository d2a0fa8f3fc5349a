package runner

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
)

// newLogger writes structured logs to w: JSON, or a console format for
// people ("auto" picks console on a terminal). Its level is trace: the
// loggers a loglevel.Switch makes of it decide what is written.
func newLogger(w io.Writer, format string) (zerolog.Logger, error) {
	switch format {
	case "auto":
		if isTerminal(w) {
			w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
		}
	case "console":
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly, NoColor: true}
	case "json":
	default:
		return zerolog.Logger{}, fmt.Errorf("--log-format: %q is not one of auto, json, console", format)
	}
	zerolog.TimeFieldFormat = time.RFC3339Nano
	return zerolog.New(w).Level(zerolog.TraceLevel).With().Timestamp().Logger(), nil
}

// isTerminal reports whether w (or the writer a batchWriter wraps) is a terminal.
func isTerminal(w io.Writer) bool {
	if b, ok := w.(*batchWriter); ok {
		w = b.w
	}
	f, ok := w.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}
