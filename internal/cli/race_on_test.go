//go:build race

package cli

// raceEnabled: the test binary runs under the race detector, so the program
// under test is built with -race too.
const raceEnabled = true
