package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/ghmicons/ghmicons/pkg/console"
)

// logFile is a console's log: console.Log on a path that can be reopened
// (logrotate moved it: SIGHUP) and rotated to path.1 when it reaches a size
// cap. One goroutine (follow) writes it, from a lossless Reader, so that
// everything the console received is in it once; a reopen swaps files
// between two chunks, so nothing is lost or written twice.
type logFile struct {
	path string
	cfg  console.LogConfig
	max  int64 // 0: no cap

	mu      sync.Mutex // guards lg, size
	lg      *console.Log
	size    int64
	written atomic.Uint64 // console output logged, over the console's life
}

func openLogFile(path string, timestamps bool, max int64) (*logFile, error) {
	l := &logFile{path: path, max: max, cfg: console.LogConfig{Timestamps: timestamps, MarkPrefix: "[ghmicons] "}}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

// open opens the path (appending), with l.mu held or before l is shared.
func (l *logFile) open() error {
	lg, err := console.OpenLog(l.path, l.cfg)
	if err != nil {
		return err
	}
	l.lg, l.size = lg, 0
	if st, err := os.Stat(l.path); err == nil {
		l.size = st.Size()
	}
	return nil
}

// Reopen closes the file and opens the path again: after logrotate moved it,
// a new file.
func (l *logFile) Reopen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reopenLocked(false)
}

func (l *logFile) reopenLocked(rotate bool) error {
	old := l.lg
	cerr := old.Close()
	if rotate {
		if err := os.Rename(l.path, l.path+".1"); err != nil && !errors.Is(err, os.ErrNotExist) {
			cerr = errors.Join(cerr, err)
		}
	}
	if err := l.open(); err != nil {
		// Keep logging somewhere: the old file is closed, so reopen the
		// path as it is. If that fails too the console goes on unlogged
		// until the next reopen, and the error says so.
		l.lg = console.NewLog(nopCloser{io.Discard}, l.path, l.cfg)
		return fmt.Errorf("log %s: %w", l.path, errors.Join(cerr, err))
	}
	if cerr != nil {
		return fmt.Errorf("log %s: %w", l.path, cerr)
	}
	return nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// write logs host output, rotating at the cap.
func (l *logFile) write(b []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err := l.lg.Write(b)
	l.size += int64(len(b))
	l.written.Add(uint64(len(b)))
	if l.max > 0 && l.size >= l.max {
		if rerr := l.reopenLocked(true); rerr != nil && err == nil {
			err = rerr
		}
	}
	return err
}

// Mark writes a marked line (never waits).
func (l *logFile) Mark(msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lg.Mark(msg)
	l.size += int64(len(msg)) + 12
}

// follow logs what r gives until it ends: output, events (the text note
// gives, when it says so) and gaps. It returns the first write error,
// after logging everything.
func (l *logFile) follow(r *console.Reader, note func(console.Event) (string, bool)) error {
	var first error
	for {
		ch, err := r.Next(context.Background())
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, console.ErrReaderClosed) {
				return first
			}
			return errors.Join(first, err)
		}
		switch {
		case ch.Data != nil:
			if err := l.write(ch.Data); err != nil && first == nil {
				first = err
			}
		case ch.Event != nil:
			if text, ok := note(*ch.Event); ok {
				l.Mark(text)
			}
		case ch.Skipped > 0:
			l.Mark(fmt.Sprintf("%d bytes of output missing here", ch.Skipped))
		}
	}
}

// Close closes the file; it returns the first failed write.
func (l *logFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lg.Close()
}
