package logship

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of SpoolOptions.
const (
	DefaultSegmentBytes = 64 << 20
	DefaultSyncInterval = time.Second
)

// segmentSuffix names spool segment files: <sequence>.jsonl.
const segmentSuffix = ".jsonl"

// SpoolOptions tune a Spool.
type SpoolOptions struct {
	// SegmentBytes is the size past which the spool starts a new segment
	// file (rotation); 0 means DefaultSegmentBytes.
	SegmentBytes int64
	// SyncInterval is how often written records are fsynced. Each record
	// is written with one write(2), so it survives the process at once;
	// the fsync makes it survive the machine. 0 means DefaultSyncInterval;
	// a negative value fsyncs every record (slow: see BenchmarkSpoolAppend).
	SyncInterval time.Duration
}

// Spool appends records to one virtual host's spool directory, a sequence
// of segment files of JSON lines. It is safe for concurrent use and never
// touches the network.
type Spool struct {
	dir  string
	opts SpoolOptions

	mu    sync.Mutex
	f     *os.File
	seq   uint64
	size  int64
	dirty bool
	err   error // a sticky fsync error, reported by the next Append

	stop chan struct{}
	done chan struct{}
}

// VHostDir is the spool directory of a virtual host under root.
func VHostDir(root, vhost string) string {
	return filepath.Join(root, url.PathEscape(vhost))
}

// OpenSpool opens (creating it if needed) the spool of vhost under dir and
// appends to its newest segment.
func OpenSpool(dir, vhost string, opts SpoolOptions) (*Spool, error) {
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = DefaultSegmentBytes
	}
	if opts.SyncInterval == 0 {
		opts.SyncInterval = DefaultSyncInterval
	}
	s := &Spool{dir: VHostDir(dir, vhost), opts: opts, stop: make(chan struct{}), done: make(chan struct{})}
	if err := os.MkdirAll(s.dir, 0o750); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	segs, err := segments(s.dir)
	if err != nil {
		return nil, err
	}
	s.seq = 1
	if len(segs) > 0 {
		s.seq = segs[len(segs)-1]
	}
	if err := s.open(); err != nil {
		return nil, err
	}
	if opts.SyncInterval > 0 {
		go s.syncLoop()
	} else {
		close(s.done)
	}
	return s, nil
}

func (s *Spool) open() error {
	f, err := os.OpenFile(segmentPath(s.dir, s.seq), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("spool: %w", err)
	}
	s.f, s.size = f, st.Size()
	return nil
}

// Append writes one record as one line.
func (s *Spool) Append(rec Record) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("spool: encode record: %w", err)
	}
	b = append(b, '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return errors.New("spool: closed")
	}
	if s.err != nil {
		err, s.err = s.err, nil
		return err
	}
	if s.size > 0 && s.size+int64(len(b)) > s.opts.SegmentBytes {
		if err := s.rotate(); err != nil {
			return err
		}
	}
	n, err := s.f.Write(b)
	s.size += int64(n)
	if err != nil {
		return fmt.Errorf("spool: write %s: %w", s.f.Name(), err)
	}
	if s.opts.SyncInterval < 0 {
		if err := s.f.Sync(); err != nil {
			return fmt.Errorf("spool: fsync: %w", err)
		}
	} else {
		s.dirty = true
	}
	return nil
}

// rotate seals the current segment and starts the next one.
func (s *Spool) rotate() error {
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("spool: fsync before rotation: %w", err)
	}
	if err := s.f.Close(); err != nil {
		return fmt.Errorf("spool: close segment: %w", err)
	}
	s.seq++
	s.dirty = false
	return s.open()
}

func (s *Spool) syncLoop() {
	defer close(s.done)
	t := time.NewTicker(s.opts.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.mu.Lock()
			if s.dirty && s.f != nil {
				if err := s.f.Sync(); err != nil {
					s.err = fmt.Errorf("spool: fsync: %w", err)
				}
				s.dirty = false
			}
			s.mu.Unlock()
		}
	}
}

// Close fsyncs and closes the spool.
func (s *Spool) Close() error {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Sync()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	s.f = nil
	return err
}

func segmentPath(dir string, seq uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", seq, segmentSuffix))
}

// segments lists the sequence numbers of the segments in dir, oldest first.
func segments(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	var seqs []uint64
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, segmentSuffix) {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(name, segmentSuffix), 10, 64)
		if err == nil {
			seqs = append(seqs, n)
		}
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	return seqs, nil
}
