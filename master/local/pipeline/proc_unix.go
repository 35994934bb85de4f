//go:build unix

package pipeline

import (
	"io/fs"
	"os"
	"os/exec"
	"syscall"
)

// setGroup makes cmd the leader of a new process group, which every
// process it starts joins.
func setGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// killGroup kills the process group p leads, if anything is left in it.
func killGroup(p *os.Process) { _ = syscall.Kill(-p.Pid, syscall.SIGKILL) }

// ownedByMe says whether this user owns fi.
func ownedByMe(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}
