// Package testenv is for tests that need something of the machine (a
// pseudo-terminal, /dev/full, an IPv6 loopback, a program): without it they
// skip on a developer's machine but fail in CI, where .ci/run sets
// GHMICONS_CI=1, so that a check that cannot run is never silently skipped.
package testenv

import (
	"os"
	"testing"
)

// CI reports whether the tests run in CI (GHMICONS_CI set and not empty).
func CI() bool { return os.Getenv("GHMICONS_CI") != "" }

// Missing ends the test for want of what the message names: a failure in CI,
// a skip elsewhere.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if CI() {
		t.Fatalf("required in CI (GHMICONS_CI is set): "+format, args...)
	}
	t.Skipf(format, args...)
}
