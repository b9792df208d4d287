//go:build !unix && !windows

package fakebmc

import (
	"os"
	"os/exec"
)

// shellCommand runs command with sh -c; this system has no process groups
// that fakebmc knows, so only the shell itself is killed.
func shellCommand(command string) *exec.Cmd { return exec.Command("sh", "-c", command) }

type procGroup struct{}

func newProcGroup(*os.Process) (procGroup, error) { return procGroup{}, nil }

func (procGroup) kill(p *os.Process) { _ = p.Kill() }

func (procGroup) release() {}
