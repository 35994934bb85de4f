//go:build unix

package local

import (
	"errors"
	"os/exec"
	"syscall"
)

// setProcessGroup starts a step in a process group of its own, so that
// aborting it reaches every process it started.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// signalGroup sends SIGTERM ("TERM") or SIGKILL ("KILL") to a step's
// process group.
func signalGroup(cmd *exec.Cmd, sig string) {
	if cmd.Process == nil {
		return
	}
	s := syscall.SIGTERM
	if sig == "KILL" {
		s = syscall.SIGKILL
	}
	if err := syscall.Kill(-cmd.Process.Pid, s); errors.Is(err, syscall.ESRCH) {
		return
	}
}

// signalNumber is the signal that ended a process, or 0.
func signalNumber(ee *exec.ExitError) int {
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return int(ws.Signal())
	}
	return 0
}
