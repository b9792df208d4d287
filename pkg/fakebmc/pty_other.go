//go:build !linux && !darwin && !freebsd

package fakebmc

import (
	"fmt"
	"runtime"
)

// PTYHost is a pseudo-terminal host; this system has none that fakebmc
// knows how to allocate, so NewPTYHost fails.
type PTYHost struct{}

// NewPTYHost reports that pseudo-terminals are not supported here.
func NewPTYHost() (*PTYHost, error) {
	return nil, fmt.Errorf("fakebmc: pty host: not supported on %s", runtime.GOOS)
}

// Path is empty: there is no pseudo-terminal.
func (h *PTYHost) Path() string { return "" }

// Run implements Host; there is nothing to run.
func (h *PTYHost) Run(line *Line, done <-chan struct{}) { <-done }
