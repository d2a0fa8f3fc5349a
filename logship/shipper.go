package logship

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nxadm/tail"
	"github.com/rs/zerolog"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/wait"
)

// ShipperOptions configure a Shipper.
type ShipperOptions struct {
	// BaseURL is the log server's base URL, ending in "/".
	BaseURL string
	// Token is the X-API-Token.
	Token string
	// Logger receives the shipper's log.
	Logger zerolog.Logger
	// Poll is how often new virtual hosts and new segments are looked for,
	// and the active segment is read; 0 means 250ms.
	Poll time.Duration
	// MaxBackoff caps the wait between retries while the log server is
	// unavailable; 0 means 30s.
	MaxBackoff time.Duration
	// HTTPClient posts the records; nil means one with a 30s timeout.
	HTTPClient *http.Client
	// SetAsideTries and SetAsideAfter bound how long one record the log
	// server answers 500 to, while it is not known to be a duplicate, holds
	// back the records behind it: it is set aside once it got at least
	// SetAsideTries such answers over at least SetAsideAfter. 0 means 5
	// tries and one minute. Each further record set aside so without a
	// record accepted in between waits twice as long (up to 64 times), so
	// that a server answering 500 to everything keeps nearly all records.
	SetAsideTries int
	SetAsideAfter time.Duration
	// Window is how many records of one virtual host are in flight at
	// once: posted, each on a keep-alive connection of its own, or answered
	// while one before them is not; 0 means 16, at most 64. A response is
	// posted only once its request is accepted, whatever the window.
	Window int
}

// defaultWindow is the records of one virtual host in flight at once:
// enough for the log server to commit many together.
const defaultWindow = 16

// maxWindow bounds Window: the position file records which records of the
// window are handled in a 64-bit mask.
const maxWindow = 64

// Shipper follows every virtual host's spool under a root directory and
// posts each record to the log server, up to Window at once, a response
// or progress record only after its request was handled, recording its position over the
// records handled and removing segments once shipped. Memory stays
// bounded whatever the backlog: it holds at most Window records per
// virtual host.
type Shipper struct {
	root string
	opts ShipperOptions
	http *http.Client
	log  zerolog.Logger

	mu    sync.Mutex
	stats Stats
	// progressOffUntil: progress records are skipped until then (see
	// progressUnsupported); progressWarned once the log said so.
	progressOffUntil time.Time
	progressWarned   bool
}

// Stats count the records handled since the shipper started.
type Stats struct {
	// Shipped were accepted by the log server (201).
	Shipped int64
	// SetAside were not accepted and are kept in a RejectedFile.
	SetAside int64
	// AlreadyThere were sent again after an interruption (a crash, a lost
	// answer) and refused as duplicates: the log server has them.
	AlreadyThere int64
	// PostFailures are posts that failed and are tried again: the log
	// server unreachable, or answering with a server error.
	PostFailures int64
	// ProgressSkipped are progress records not shipped: the log server
	// does not take them (a reference log server answers 404 at
	// {base_url}/rpc-progress), or their request was set aside.
	ProgressSkipped int64
}

// NewShipper makes a shipper for the spools under root.
func NewShipper(root string, opts ShipperOptions) *Shipper {
	if opts.Poll <= 0 {
		opts.Poll = 250 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	if opts.SetAsideTries <= 0 {
		opts.SetAsideTries = 5
	}
	if opts.SetAsideAfter <= 0 {
		opts.SetAsideAfter = time.Minute
	}
	if opts.Window <= 0 {
		opts.Window = defaultWindow
	}
	opts.Window = min(opts.Window, maxWindow)
	hc := opts.HTTPClient
	if hc == nil {
		// Keep a connection per post in flight: the default transport keeps
		// two per host, and would reconnect for most posts.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 1024
		tr.MaxIdleConns = 1024
		hc = &http.Client{Timeout: 30 * time.Second, Transport: tr}
	}
	return &Shipper{root: root, opts: opts, http: hc, log: opts.Logger}
}

// Stats are the records handled so far.
func (s *Shipper) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Backlog is what remains to ship: bytes and segment files, over all
// virtual hosts.
func (s *Shipper) Backlog() (bytes int64, files int) {
	for _, b := range s.Backlogs() {
		bytes += b.Bytes
		files += b.Files
	}
	return bytes, files
}

// VHostBacklog is what remains to ship of one virtual host's spool.
type VHostBacklog struct {
	// Bytes of records not yet shipped.
	Bytes int64
	// Files are the spool's segment files, the one being written included.
	Files int
}

// Backlogs is what remains to ship, by virtual host name: every spool
// directory under the root, the empty ones included.
func (s *Shipper) Backlogs() map[string]VHostBacklog {
	out := map[string]VHostBacklog{}
	dirs, _ := os.ReadDir(s.root)
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		dir := filepath.Join(s.root, d.Name())
		segs, err := segments(dir)
		if err != nil {
			continue
		}
		pos, _ := loadPosition(dir)
		var b VHostBacklog
		for _, seq := range segs {
			st, err := os.Stat(segmentPath(dir, seq))
			if err != nil {
				continue
			}
			b.Files++
			switch {
			case seq == pos.Segment:
				b.Bytes += st.Size() - pos.Offset
			case seq > pos.Segment:
				b.Bytes += st.Size()
			}
		}
		name, err := url.PathUnescape(d.Name())
		if err != nil {
			name = d.Name()
		}
		out[name] = b
	}
	return out
}

// Run ships until ctx ends (returning nil) or the log server rejects the
// token (ErrUnauthorized).
func (s *Shipper) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer s.http.CloseIdleConnections()
	if err := os.MkdirAll(s.root, 0o750); err != nil {
		return fmt.Errorf("spool directory: %w", err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	fatal := make(chan error, 1)
	started := map[string]bool{}
	t := time.NewTicker(s.opts.Poll)
	defer t.Stop()
	for {
		dirs, err := os.ReadDir(s.root)
		if err != nil {
			s.log.Error().Err(err).Msg("cannot list the spool directory")
		}
		for _, d := range dirs {
			if !d.IsDir() || started[d.Name()] {
				continue
			}
			started[d.Name()] = true
			dir := filepath.Join(s.root, d.Name())
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.shipDir(ctx, dir); err != nil && ctx.Err() == nil {
					select {
					case fatal <- err:
					default:
					}
					cancel()
				}
			}()
		}
		select {
		case <-ctx.Done():
			select {
			case err := <-fatal:
				return err
			default:
				return nil
			}
		case err := <-fatal:
			return err
		case <-t.C:
		}
	}
}

// shipDir ships one virtual host's spool, forever.
func (s *Shipper) shipDir(ctx context.Context, dir string) error {
	pw, pos, until, handled, err := openPosition(dir)
	if err != nil {
		return err
	}
	defer pw.close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sp := &spoolShip{dir: dir, log: s.log.With().Str("spool", dir).Logger(), pw: pw, cancel: cancel,
		slots: make(chan struct{}, s.opts.Window), jobs: make(chan func(), s.opts.Window), inFlight: map[string]chan struct{}{},
		shipped: newRecentIDs(recentIDsKept), setAside: newRecentIDs(recentIDsKept),
		resend: pos, resendUntil: until, resendHandled: handled}
	sp.win.reset(pos)
	var workers sync.WaitGroup
	for range s.opts.Window {
		workers.Add(1)
		go func() {
			defer workers.Done()
			sp.work()
		}()
	}
	defer workers.Wait()
	defer close(sp.jobs)
	for ctx.Err() == nil {
		segs, err := segments(dir)
		if err != nil {
			return err
		}
		pos := sp.position()
		if len(segs) == 0 || segs[len(segs)-1] < pos.Segment {
			if !wait.Sleep(ctx, s.opts.Poll) {
				return sp.failure()
			}
			continue
		}
		// The segment to ship: the position's, or the first after it.
		cur := segs[0]
		for _, seq := range segs {
			if seq >= pos.Segment {
				cur = seq
				break
			}
		}
		if cur != pos.Segment {
			pos = position{Segment: cur}
		}
		sp.start(pos)
		path := segmentPath(dir, cur)
		if cur < segs[len(segs)-1] {
			// Sealed: the spool has moved on; ship to its end, then remove it.
			if err := s.shipSealed(ctx, sp, path); err != nil {
				return err
			}
			if ctx.Err() != nil {
				return sp.failure()
			}
			if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				sp.log.Error().Err(err).Msg("cannot remove a shipped segment")
			}
			sp.start(position{Segment: cur + 1})
			if err := pw.save(position{Segment: cur + 1}); err != nil {
				return err
			}
			continue
		}
		if err := s.follow(ctx, sp, path); err != nil {
			return err
		}
	}
	return sp.drain()
}

// shipSealed ships a sealed segment from the position to its end, and
// waits for the records in flight.
func (s *Shipper) shipSealed(ctx context.Context, sp *spoolShip, path string) error {
	if err := s.readLines(ctx, sp, path, true); err != nil {
		return err
	}
	return sp.drain()
}

// readLines takes the lines of a segment, from the last record taken to
// its end, into the window. The end of a sealed segment that is not a
// whole line is skipped; that of the active segment is left to follow,
// which takes it once its writer ends it.
func (s *Shipper) readLines(ctx context.Context, sp *spoolShip, path string, sealed bool) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open segment: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(sp.taken(), io.SeekStart); err != nil {
		return fmt.Errorf("seek segment: %w", err)
	}
	r := bufio.NewReaderSize(f, 64<<10)
	for ctx.Err() == nil {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			if err := s.ship(ctx, sp, line[:len(line)-1], int64(len(line))); err != nil {
				return err
			}
		} else if len(line) > 0 && sealed {
			sp.log.Warn().Int("bytes", len(line)).Msg("a sealed segment ends with an incomplete record (torn by a crash?); skipped")
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read segment: %w", err)
		}
	}
	return nil
}

// follow ships the active segment as it grows, until a newer segment
// appears (it is then sealed, and shipDir finishes it) or ctx ends; then
// waits for the records in flight.
func (s *Shipper) follow(ctx context.Context, sp *spoolShip, path string) error {
	// A backlog is read as a sealed segment is, which costs less per line
	// than following.
	if err := s.readLines(ctx, sp, path, false); err != nil {
		return err
	}
	if err := s.followLines(ctx, sp, path); err != nil {
		return err
	}
	return sp.drain()
}

// followLines takes the lines of the active segment into the window as
// they come, from the last record taken.
func (s *Shipper) followLines(ctx context.Context, sp *spoolShip, path string) error {
	pos := sp.position()
	tl, err := tail.TailFile(path, tail.Config{
		Location:      &tail.SeekInfo{Offset: sp.taken(), Whence: io.SeekStart},
		Follow:        true,
		Poll:          true,
		CompleteLines: true,
		MustExist:     true,
		Logger:        tail.DiscardingLogger,
	})
	if err != nil {
		return fmt.Errorf("follow segment: %w", err)
	}
	defer func() {
		_ = tl.Stop()
		tl.Cleanup()
	}()
	t := time.NewTicker(s.opts.Poll)
	defer t.Stop()
	seq := pos.Segment
	for {
		select {
		case <-ctx.Done():
			return nil
		case line, ok := <-tl.Lines:
			if !ok {
				return nil
			}
			if line.Err != nil {
				return fmt.Errorf("follow segment: %w", line.Err)
			}
			if err := s.ship(ctx, sp, []byte(line.Text), int64(len(line.Text))+1); err != nil {
				return err
			}
		case <-t.C:
			segs, err := segments(sp.dir)
			if err != nil {
				return err
			}
			if len(segs) > 0 && segs[len(segs)-1] > seq {
				return nil // sealed: read the rest without following
			}
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
