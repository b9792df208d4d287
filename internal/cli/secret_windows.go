package cli

import (
	"os"
	"sync"

	"golang.org/x/sys/windows"
)

// echoOff turns the console's echo off, keeping line input and Ctrl-C
// processing, and returns the function that puts the mode found back; it
// may be called more than once.
func echoOff(f *os.File) (restore func(), err error) {
	h := windows.Handle(f.Fd())
	var old uint32
	if err := windows.GetConsoleMode(h, &old); err != nil {
		return nil, err
	}
	mode := (old &^ windows.ENABLE_ECHO_INPUT) | windows.ENABLE_LINE_INPUT | windows.ENABLE_PROCESSED_INPUT
	if err := windows.SetConsoleMode(h, mode); err != nil {
		return nil, err
	}
	var once sync.Once
	return func() {
		once.Do(func() { _ = windows.SetConsoleMode(h, old) })
	}, nil
}
