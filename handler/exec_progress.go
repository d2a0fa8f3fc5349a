package handler

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"strconv"

	"github.com/rs/zerolog"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// ProgressFDVariable names the environment variable that tells a one-shot
// handler the file descriptor of its progress pipe (always 3): one JSON
// progress object per line written there reaches a caller that asked for
// progress.
const ProgressFDVariable = "RPC_PROGRESS_FD"

// progressFD is the progress pipe's file descriptor in a one-shot handler:
// the first of exec.Cmd.ExtraFiles.
const progressFD = 3

// Limits on a one-shot handler's progress pipe.
const (
	// maxProgressLine bounds one progress line; a longer one is dropped
	// with a warning, and the line after it read as usual.
	maxProgressLine = 64 << 10
	// progressQueueLen bounds the updates read but not yet reported: when
	// the consumer falls behind, further updates are dropped and counted,
	// and the handler's writes never wait for it.
	progressQueueLen = 64
	// maxProgressWarnings bounds the malformed lines warned about one by
	// one; the rest are counted in one warning when the run ends.
	maxProgressWarnings = 10
)

// progressPipe reads a one-shot handler's progress pipe: each line a JSON
// progress object, reported with Progress on the request's context, in
// order. A malformed or oversized line is logged and dropped.
type progressPipe struct {
	r         *os.File // the consumer's end
	log       zerolog.Logger
	queue     chan wire.Progress
	done      chan struct{} // closed when the pipe reached its end or was closed
	reported  chan struct{} // closed when every queued update was reported
	malformed int           // lines dropped as malformed or oversized; read after done
	dropped   int           // updates dropped because the queue was full; read after done
}

func newProgressPipe(r *os.File, log zerolog.Logger) *progressPipe {
	return &progressPipe{
		r: r, log: log,
		queue:    make(chan wire.Progress, progressQueueLen),
		done:     make(chan struct{}),
		reported: make(chan struct{}),
	}
}

// run reads the pipe to its end and reports each update under ctx; it
// returns at once, reading and reporting in goroutines of their own.
func (p *progressPipe) run(ctx context.Context) {
	go p.read()
	go func() {
		defer close(p.reported)
		for u := range p.queue {
			Progress(ctx, u)
		}
	}()
}

// read reads lines until the pipe's end, queueing the updates.
func (p *progressPipe) read() {
	defer close(p.done)
	defer close(p.queue)
	lines := bufio.NewReaderSize(p.r, 4096)
	for {
		line, err := readBoundedLine(lines, maxProgressLine)
		switch {
		case errors.Is(err, errLineTooLong):
			p.bad(line, "a progress line longer than "+strconv.Itoa(maxProgressLine)+" bytes")
		case len(bytes.TrimSpace(line)) > 0:
			p.take(line)
		}
		if err != nil && !errors.Is(err, errLineTooLong) {
			return // io.EOF, or the pipe was closed under us
		}
	}
}

// take queues the update on line, or drops the line.
func (p *progressPipe) take(line []byte) {
	u, err := decodeProgress(line)
	if err != nil {
		p.bad(line, "a progress line that is "+err.Error())
		return
	}
	select {
	case p.queue <- u:
	default:
		p.dropped++
	}
}

// bad drops a malformed line, with a warning for the first few.
func (p *progressPipe) bad(line []byte, why string) {
	p.malformed++
	if p.malformed <= maxProgressWarnings {
		p.log.Warn().Str("line", truncate(string(line), 200)).Msg(why + "; dropped")
	}
}

// wait waits until every update read was reported, and logs what was
// dropped without a warning of its own. Call it once the pipe is done.
func (p *progressPipe) wait() {
	<-p.reported
	if n := p.malformed - maxProgressWarnings; n > 0 {
		p.log.Warn().Int("lines", n).Msg("more malformed progress lines dropped")
	}
	if p.dropped > 0 {
		p.log.Warn().Int("updates", p.dropped).Msg("progress updates came faster than they could be passed on; dropped")
	}
}

// readBoundedLine reads one line from r, without its "\n". A line longer
// than max is read to its end and dropped: the result is its first bytes
// and errLineTooLong. At the pipe's end the last line, if any, comes with
// io.EOF (or the read error).
func readBoundedLine(r *bufio.Reader, max int) ([]byte, error) {
	var acc []byte
	tooLong := false
	for {
		frag, err := r.ReadSlice('\n')
		if !tooLong {
			if len(acc)+len(frag) > max+1 { // +1: the "\n"
				tooLong = true
				acc = append(acc, frag[:min(len(frag), 200)]...)
			} else {
				acc = append(acc, frag...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err != nil && tooLong:
			return acc, errLineTooLong // the pipe ended in the long line
		case err != nil:
			return acc, err
		case tooLong:
			return acc, errLineTooLong
		}
		return acc[:len(acc)-1], nil
	}
}
