//go:build unix

package fakebmc

import (
	"os"
	"os/exec"
	"syscall"
)

// shellCommand runs command with sh -c, as the leader of a new process
// group so that kill reaches what it starts.
func shellCommand(command string) *exec.Cmd {
	cmd := exec.Command("sh", "-c", command)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// procGroup is the process group the command leads; its ID is the
// leader's process ID.
type procGroup struct{ pgid int }

func newProcGroup(p *os.Process) (procGroup, error) { return procGroup{pgid: p.Pid}, nil }

// kill sends SIGKILL to the whole group (a power cut gives no warning
// either). Once the leader is gone the group lives on as long as a member
// does, so this also ends what it left behind.
func (g procGroup) kill(*os.Process) { _ = syscall.Kill(-g.pgid, syscall.SIGKILL) }

func (g procGroup) release() {}
