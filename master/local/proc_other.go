//go:build !unix

package local

import "os/exec"

func setProcessGroup(cmd *exec.Cmd) {}

// signalGroup kills the step's process: without process groups, its
// children are left alone.
func signalGroup(cmd *exec.Cmd, sig string) {
	if cmd.Process != nil {
		cmd.Process.Kill()
	}
}

func signalNumber(ee *exec.ExitError) int { return 0 }
