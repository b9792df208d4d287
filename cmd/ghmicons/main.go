// Command ghmicons attaches to the serial console of a machine through its
// BMC over IPMI 2.0 Serial-over-LAN. See README.md and ghmicons --help.
package main

import (
	"os"

	"github.com/ghmicons/ghmicons/internal/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
}
