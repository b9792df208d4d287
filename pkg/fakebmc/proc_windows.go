package fakebmc

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// shellCommand runs command with cmd.exe /C. The command line is given
// whole: cmd.exe does not parse its arguments by the rules that Go's
// quoting follows, and /S makes it take the quoted rest literally.
func shellCommand(command string) *exec.Cmd {
	comspec := os.Getenv("ComSpec")
	if comspec == "" {
		comspec = "cmd.exe"
	}
	cmd := exec.Command(comspec)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		CmdLine:       syscall.EscapeArg(comspec) + ` /D /S /C "` + command + `"`,
		CreationFlags: windows.CREATE_NEW_PROCESS_GROUP,
	}
	return cmd
}

// procGroup is a job object holding the command and every process it
// starts (children join their parent's job). The job kills them all when
// its last handle closes, so they end with fakebmc however it ends.
type procGroup struct{ job windows.Handle }

func newProcGroup(p *os.Process) (procGroup, error) {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return procGroup{}, fmt.Errorf("job object: %w", err)
	}
	info := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{}
	info.BasicLimitInformation.LimitFlags = windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
	if _, err := windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
		windows.CloseHandle(job)
		return procGroup{}, fmt.Errorf("job object: %w", err)
	}
	h, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, uint32(p.Pid))
	if err != nil {
		windows.CloseHandle(job)
		return procGroup{}, fmt.Errorf("job object: %w", err)
	}
	defer windows.CloseHandle(h)
	// A child the command starts before this is not in the job: only the
	// command itself can be killed then (Process.Kill in kill).
	if err := windows.AssignProcessToJobObject(job, h); err != nil {
		windows.CloseHandle(job)
		return procGroup{}, fmt.Errorf("job object: %w", err)
	}
	return procGroup{job: job}, nil
}

func (g procGroup) kill(p *os.Process) {
	_ = windows.TerminateJobObject(g.job, 1)
	_ = p.Kill()
}

func (g procGroup) release() { windows.CloseHandle(g.job) }
