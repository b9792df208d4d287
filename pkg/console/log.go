package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Log appends console output to a file: exactly as received, or with each
// line prefixed by an RFC 3339 timestamp. Notes (Mark, and the events
// Follow is given) go in as marked lines ("[ghmicons] …"), never mixed into
// a host line.
//
// The file is written by a goroutine of its own, at once (tail -f follows),
// so that a log that stops taking writes (a FIFO nobody reads, a hung
// network file system) never holds up a note or the way out: Write (host
// output) waits while a bounded amount is queued, which, through a lossless
// Reader, slows the console down as a slow terminal would; Mark never waits.
// The first failed write is kept, reported on Failed, and returned by Close:
// a log that lost data is an error.
type Log struct {
	w      io.WriteCloser
	name   string
	stamps bool
	prefix string
	now    func() time.Time

	mu        sync.Mutex // guards the fields below; never held across a write
	room      *sync.Cond // Write waiting for the queue to shrink
	lineStart bool
	q         [][]byte // formatted bytes waiting for the file
	qBytes    int
	dropped   int // marks left out while the file was not taking writes
	err       error
	failed    chan struct{} // closed when err is set
	isIdle    bool
	idle      chan struct{} // closed while isIdle
	wake      chan struct{}
	closed    bool
}

// LogConfig configures a Log.
type LogConfig struct {
	// Timestamps starts every line with an RFC 3339 timestamp.
	Timestamps bool
	// MarkPrefix starts every marked line; "" means "[console] ".
	MarkPrefix string
	// Now is the clock of the timestamps; nil means time.Now.
	Now func() time.Time
}

const (
	// LogTimeFormat is the timestamp of a line (RFC 3339, milliseconds).
	LogTimeFormat = "2006-01-02T15:04:05.000Z07:00"
	// logQueueBytes is how much host output waits for the file before
	// Write waits too; marks may add logMarkSlack more.
	logQueueBytes = 256 << 10
	logMarkSlack  = 64 << 10
	// LogCloseBound is how long Close waits for queued writes.
	LogCloseBound = 5 * time.Second
)

// OpenLog opens (creating, appending) the log file at path.
func OpenLog(path string, cfg LogConfig) (*Log, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, err
	}
	return NewLog(f, path, cfg), nil
}

// NewLog logs to w, named name in errors; Close closes w.
func NewLog(w io.WriteCloser, name string, cfg LogConfig) *Log {
	l := &Log{w: w, name: name, stamps: cfg.Timestamps, prefix: cfg.MarkPrefix, now: cfg.Now, lineStart: true,
		failed: make(chan struct{}), isIdle: true, idle: make(chan struct{}), wake: make(chan struct{}, 1)}
	if l.prefix == "" {
		l.prefix = "[console] "
	}
	if l.now == nil {
		l.now = time.Now
	}
	close(l.idle)
	l.room = sync.NewCond(&l.mu)
	go l.run()
	return l
}

// Write logs host output. It returns the log's first write error, if any.
func (l *Log) Write(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.qBytes >= logQueueBytes && l.err == nil && !l.closed {
		l.room.Wait()
	}
	if l.err != nil {
		return 0, l.err
	}
	if l.closed {
		return 0, os.ErrClosed
	}
	var out []byte
	if !l.stamps {
		out = append([]byte(nil), b...)
		l.lineStart = b[len(b)-1] == '\n'
	} else {
		stamp := l.now().Format(LogTimeFormat) + " "
		out = make([]byte, 0, len(b)+len(stamp))
		for _, c := range b {
			if l.lineStart {
				out = append(out, stamp...)
				l.lineStart = false
			}
			out = append(out, c)
			if c == '\n' {
				l.lineStart = true
			}
		}
	}
	l.queue(out)
	return len(b), nil
}

// Mark writes a note on a line of its own. It never waits.
func (l *Log) Mark(msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil || l.closed {
		return
	}
	if l.qBytes >= logQueueBytes+logMarkSlack {
		l.dropped++
		return
	}
	if l.dropped > 0 {
		l.queue(l.mark(fmt.Sprintf("%d notes were left out of the log (it was not taking writes)", l.dropped)))
		l.dropped = 0
	}
	l.queue(l.mark(msg))
}

// mark formats a marked line; l.mu held.
func (l *Log) mark(msg string) []byte {
	var b []byte
	if !l.lineStart {
		b = append(b, '\n')
	}
	if l.stamps {
		b = append(b, l.now().Format(LogTimeFormat)+" "...)
	}
	b = append(b, l.prefix+msg+"\n"...)
	l.lineStart = true
	return b
}

// queue hands b to the writer; l.mu held.
func (l *Log) queue(b []byte) {
	if l.isIdle {
		l.isIdle = false
		l.idle = make(chan struct{})
	}
	l.q = append(l.q, b)
	l.qBytes += len(b)
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *Log) run() {
	for range l.wake {
		for {
			l.mu.Lock()
			if len(l.q) == 0 || l.err != nil {
				l.q, l.qBytes = nil, 0
				if !l.isIdle {
					l.isIdle = true
					close(l.idle)
				}
				l.room.Broadcast()
				l.mu.Unlock()
				break
			}
			// One write for everything queued: fewer system calls when the
			// host is fast, and still at once when it is not.
			var b []byte
			if len(l.q) == 1 {
				b = l.q[0]
			} else {
				for _, c := range l.q {
					b = append(b, c...)
				}
			}
			l.q = l.q[:0]
			l.qBytes = 0
			l.room.Broadcast()
			l.mu.Unlock()
			if _, err := l.w.Write(b); err != nil {
				l.mu.Lock()
				if l.err == nil {
					l.err = err
					close(l.failed)
				}
				l.mu.Unlock()
			}
		}
	}
}

// Failed is closed when a write to the log has failed; Err says why.
func (l *Log) Failed() <-chan struct{} { return l.failed }

// Err returns the first failed write, or nil.
func (l *Log) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Follow logs what r gives until it ends: output as received, events as
// marked lines with the text note returns (nothing when it returns false),
// gaps of a lossy reader as a marked line. It keeps reading after a failed
// write, so that a broken log never holds up the console; it returns the
// first failed write, or nil at the end of r.
func (l *Log) Follow(r *Reader, note func(Event) (string, bool)) error {
	var werr error
	for {
		c, err := r.Next(context.Background())
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, ErrReaderClosed) {
				return werr
			}
			return errors.Join(werr, err)
		}
		switch {
		case c.Data != nil:
			if werr == nil {
				_, werr = l.Write(c.Data)
			}
		case c.Event != nil:
			if msg, ok := note(*c.Event); ok {
				l.Mark(msg)
			}
		case c.Skipped > 0:
			l.Mark(fmt.Sprintf("%d bytes of console output are missing here (the log fell behind)", c.Skipped))
		}
	}
}

// Close writes what is queued (waiting at most LogCloseBound) and closes the
// file. It returns the first failed write, if any: the log is incomplete.
func (l *Log) Close() error { return l.CloseWithin(LogCloseBound) }

// CloseWithin is Close waiting at most d for the queued writes.
func (l *Log) CloseWithin(d time.Duration) error {
	l.mu.Lock()
	if l.closed {
		err := l.err
		l.mu.Unlock()
		return err
	}
	l.closed = true
	idle := l.idle
	l.room.Broadcast()
	l.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	var stuck error
	select {
	case <-idle:
	case <-t.C:
		stuck = fmt.Errorf("%s: the last writes did not complete within %v", l.name, d)
	}
	l.mu.Lock()
	close(l.wake)
	err := l.err
	l.mu.Unlock()
	if stuck != nil {
		// The writer is stuck in a write; closing the file under it would
		// not unblock it everywhere, and the process is about to exit.
		return errors.Join(err, stuck)
	}
	if cerr := l.w.Close(); err == nil {
		err = cerr
	}
	return err
}
