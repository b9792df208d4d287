//go:build !linux && !darwin && !freebsd && !netbsd && !openbsd && !dragonfly && !windows

package cli

import (
	"errors"
	"os"
)

// echoOff: no prompt without echo on this OS; -E, -f, -K or --kg-file work.
func echoOff(*os.File) (func(), error) {
	return nil, errors.New("cannot turn echo off on this OS: give the secret with -E, -f, -K or --kg-file")
}
