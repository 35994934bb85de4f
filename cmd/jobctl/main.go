// Command jobctl keeps Jenkins jobs as code: it compiles a job repository
// into immutable, versioned Jenkins job definitions.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/jobctl/jobctl/jobs"
)

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1 // bad input, a failed build, a failed job
	exitUsage = 2 // bad flags or arguments
)

// memoryLimit is the soft heap limit jobctl sets for itself unless
// GOMEMLIMIT says otherwise: a build holds every definition in memory until
// it is written, and the garbage of rendering them would otherwise double
// the peak. The Go runtime caps the extra collection work it costs.
const memoryLimit = 256 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := newRootCmd(&streams{Out: stdout, Err: stderr})
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ue *usageError
	switch {
	case errors.As(err, &ue):
		help := "jobctl --help"
		if ue.cmd != "" && ue.cmd != "jobctl" {
			help = "jobctl " + ue.cmd + " --help"
		}
		fmt.Fprintf(stderr, "jobctl: %v\nRun '%s' for usage.\n", ue.err, help)
		return exitUsage
	case errors.Is(err, errSilent):
		return exitError
	case jobs.IsInputError(err):
		fmt.Fprintln(stderr, err)
		return exitError
	default:
		fmt.Fprintf(stderr, "jobctl: %v\n", err)
		return exitError
	}
}

// streams are a command's standard output (data) and error (people).
type streams struct {
	Out io.Writer
	Err io.Writer
}

// usageError is a mistake in the command line.
type usageError struct {
	cmd string
	err error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// errSilent ends a command with status 1 after it has said why itself.
var errSilent = errors.New("failed")
