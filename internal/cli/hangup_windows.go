//go:build windows

package cli

import "os"

// watchHangup: Windows has no poll(2) for a pipe's hang-up; a write that
// fails still ends the program.
func watchHangup(*os.File) (gone <-chan struct{}, stop func()) { return nil, func() {} }
