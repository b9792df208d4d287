package fakebmc

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"
)

// shellProc is a shell command started in a process group of its own (a
// job object on Windows), so that everything it starts ends with it: a
// powered-off machine leaves nothing running, and neither does fakebmc.
type shellProc struct {
	cmd *exec.Cmd
	grp procGroup
}

// startShell starts cmd (made by shellCommand) and puts it in its group.
func startShell(cmd *exec.Cmd) (*shellProc, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	g, err := newProcGroup(cmd.Process)
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, err
	}
	return &shellProc{cmd: cmd, grp: g}, nil
}

// kill ends the command and everything it started. It may be called more
// than once, and after the command exited (to end what it left behind).
func (p *shellProc) kill() { p.grp.kill(p.cmd.Process) }

// release frees the group once the command has been waited for.
func (p *shellProc) release() { p.grp.release() }

// RunShell runs command with the system shell (sh -c; cmd /C on Windows),
// with env added to the environment and its output going to out. It runs
// in a process group of its own: when ctx ends first, the command and all
// it started are killed, and RunShell returns ctx's error.
func RunShell(ctx context.Context, command string, env []string, out io.Writer) error {
	return RunShellIn(ctx, "", command, env, out, out)
}

// RunShellIn is RunShell in the working directory dir ("" is the current
// one) with standard output and standard error apart.
func RunShellIn(ctx context.Context, dir, command string, env []string, stdout, stderr io.Writer) error {
	cmd := shellCommand(command)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// Output copied through a pipe must not keep Wait waiting for a
	// process the command left behind.
	cmd.WaitDelay = time.Second
	p, err := startShell(cmd)
	if err != nil {
		return fmt.Errorf("fakebmc: %q: %w", command, err)
	}
	defer p.release()
	errc := make(chan error, 1)
	go func() { errc <- cmd.Wait() }()
	select {
	case err = <-errc:
	case <-ctx.Done():
		p.kill()
		<-errc
		return fmt.Errorf("fakebmc: %q: %w", command, ctx.Err())
	}
	if err != nil {
		return fmt.Errorf("fakebmc: %q: %w", command, err)
	}
	return nil
}
