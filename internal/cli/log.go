package cli

import (
	"os"
	"sync"
	"time"
)

// logWriter appends console output to a file: exactly as received, or with
// each line prefixed by an RFC 3339 timestamp. ghmicons's own notes go in as
// marked lines ("[ghmicons] …"), never mixed into a host line. Every write
// goes straight to the file, so tail -f follows it.
type logWriter struct {
	mu        sync.Mutex
	f         *os.File
	stamps    bool
	lineStart bool
	buf       []byte
	now       func() time.Time
}

const logTimeFormat = "2006-01-02T15:04:05.000Z07:00"

func openLog(path string, stamps bool) (*logWriter, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, err
	}
	return &logWriter{f: f, stamps: stamps, lineStart: true, now: time.Now}, nil
}

// Write logs host output.
func (l *logWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stamps {
		if len(b) > 0 {
			l.lineStart = b[len(b)-1] == '\n'
		}
		return l.f.Write(b)
	}
	l.buf = l.buf[:0]
	stamp := l.now().Format(logTimeFormat) + " "
	for _, c := range b {
		if l.lineStart {
			l.buf = append(l.buf, stamp...)
			l.lineStart = false
		}
		l.buf = append(l.buf, c)
		if c == '\n' {
			l.lineStart = true
		}
	}
	_, err := l.f.Write(l.buf)
	return len(b), err
}

// Mark writes one of ghmicons's notes on a line of its own.
func (l *logWriter) Mark(msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b []byte
	if !l.lineStart {
		b = append(b, '\n')
	}
	if l.stamps {
		b = append(b, l.now().Format(logTimeFormat)+" "...)
	}
	b = append(b, "[ghmicons] "+msg+"\n"...)
	_, _ = l.f.Write(b)
	l.lineStart = true
}

func (l *logWriter) Close() error { return l.f.Close() }
