//go:build !unix

package pipeline

import (
	"io/fs"
	"os"
	"os/exec"
)

// setGroup does nothing: without process groups, an abort kills groovy
// only, and the processes of its sh steps may outlive it.
func setGroup(*exec.Cmd) {}

// killGroup kills p.
func killGroup(p *os.Process) { _ = p.Kill() }

// ownedByMe cannot tell: the runner's classes are never trusted, and each
// build compiles the runner itself.
func ownedByMe(fs.FileInfo) bool { return false }
