package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// maxSecretLine bounds what a prompt reads: far above IPMI's 20 bytes, so
// that a longer answer is reported as too long rather than cut.
const maxSecretLine = 1024

// readSecret prompts on stderr and reads one line from the terminal f with
// echo off (the terminal's own line editing and signal keys stay on). A
// signal while it waits (ctx is a signalScope's) puts back the terminal
// modes found at the start before it returns the signal's error: the
// terminal is never left without echo.
func readSecret(ctx context.Context, f *os.File, stderr io.Writer, prompt string) ([]byte, error) {
	// Echo goes off before the prompt appears and before the signal can be
	// acted on, so a restore can never be undone by a late echo change.
	restore, err := echoOff(f)
	if err != nil {
		return nil, fmt.Errorf("terminal: %w", err)
	}
	fmt.Fprint(stderr, prompt)
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		b, err := readLine(f)
		ch <- result{b, err}
	}()
	select {
	case r := <-ch:
		restore()
		fmt.Fprintln(stderr)
		return r.b, r.err
	case <-ctx.Done():
		// The reader stays blocked in read(2); the program is about to
		// exit, which ends it.
		restore()
		fmt.Fprintln(stderr)
		if se := signalCause(ctx); se != nil {
			return nil, se
		}
		return nil, ctx.Err()
	}
}

// readLine reads up to a newline, one byte at a time so that nothing after
// the line is consumed (the console reads stdin next). The newline and a
// CR before it are dropped.
func readLine(f *os.File) ([]byte, error) {
	var line []byte
	var b [1]byte
	for {
		n, err := f.Read(b[:])
		if n == 1 {
			if b[0] == '\n' {
				break
			}
			if len(line) < maxSecretLine {
				line = append(line, b[0])
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) && len(line) > 0 {
				break
			}
			if errors.Is(err, io.EOF) {
				return nil, errors.New("end of input at the prompt")
			}
			return nil, err
		}
	}
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, nil
}
