//go:build !linux && !darwin && !freebsd

package fakebmc

import (
	"runtime"
	"strings"
	"testing"
)

func TestPTYHostNotSupported(t *testing.T) {
	_, err := ParseSerial("pty")
	if err == nil || !strings.Contains(err.Error(), "pty host: not supported on "+runtime.GOOS) {
		t.Fatalf("--serial pty on %s: %v", runtime.GOOS, err)
	}
}
