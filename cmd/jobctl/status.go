package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/master"
)

type statusOptions struct {
	Root    *rootOptions
	Arg     string
	JSON    bool
	URL     string
	Timeout time.Duration
}

func newStatusCmd(io *streams, root *rootOptions) *cobra.Command {
	opts := &statusOptions{Root: root}
	cmd := &cobra.Command{
		Use:   "status QUEUE_URL|NAME#N",
		Short: "Show where a triggered build is, or how it ended",
		Long: `Show the state of a build triggered earlier.

With a queue item URL (as jobctl run prints it): whether the item is still
waiting, blocked or buildable (and why), was cancelled, or has started; once
it has, its build's state, result, duration and report.

With NAME#N: build N of NAME's latest deployed version (the one the
project's view "latest" lists, as jobctl run resolves it), with its result,
duration and report.

The result is printed on stderr, the report (when the build archived one)
on stdout. The exit status is 0 when the build succeeded or has not ended
yet (queued or building), and 1 when it failed, was aborted or the queue
item was cancelled.`,
		Example: `  # A run's promise
  jobctl status http://127.0.0.1:8080/queue/item/12/

  # Build 3 of price_model's latest version, as JSON
  jobctl status 'price_model#3' --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Arg = args[0]
			return statusRun(cmd.Context(), io, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the state, build, result and report as JSON")
	cmd.Flags().StringVar(&opts.URL, "url", "", "the master's `URL` (default: $JENKINS_URL, else jobctl.yaml's master.url, else "+master.DefaultURL+")")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 30*time.Second, "bound each HTTP request to `DURATION`")
	return cmd
}

func statusRun(ctx context.Context, io *streams, opts *statusOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	isQueue := strings.Contains(opts.Arg, "://")
	var name string
	var n int
	if isQueue {
		if err := master.ParseQueueURL(opts.Arg); err != nil {
			return &usageError{cmd: "status", err: err}
		}
	} else {
		var num string
		var ok bool
		name, num, ok = strings.Cut(opts.Arg, "#")
		var err error
		if n, err = strconv.Atoi(num); !ok || err != nil || n < 1 || name == "" {
			return &usageError{cmd: "status", err: fmt.Errorf("%q: want a queue item URL (as jobctl run prints it) or NAME#N", opts.Arg)}
		}
	}
	cfg := master.ConfigFromEnv(masterURL(opts.URL, opts.Root.Dir))
	cfg.Timeout = opts.Timeout
	if isQueue {
		c, err := master.New(ctx, cfg)
		if err != nil {
			return err
		}
		return queueStatus(ctx, io, c, opts)
	}
	job, project, err := loadJob("status", opts.Root.Dir, name)
	if err != nil {
		return err
	}
	c, err := master.New(ctx, cfg)
	if err != nil {
		return err
	}
	t, err := resolve(ctx, c, project, job)
	if err != nil {
		return err
	}
	b, err := c.Build(ctx, t.FullName, n)
	if err != nil {
		if master.IsNotFound(err) {
			return fmt.Errorf("%s has no build #%d", t.FullName, n)
		}
		return err
	}
	return reportBuild(ctx, io, c, job, b, &runOutput{Job: t.FullName}, opts.JSON)
}

// queueStatus reports a queue item and, once it has started, its build.
// The job's declared outputs are not known here (the item names only the
// deployed job), so the report is printed unchecked.
func queueStatus(ctx context.Context, io *streams, c *master.Client, opts *statusOptions) error {
	q, err := c.Queue(ctx, opts.Arg)
	if err != nil {
		if master.IsNotFound(err) {
			return fmt.Errorf("%s: no such queue item (a started item is forgotten 5 minutes after; use jobctl status NAME#N)", opts.Arg)
		}
		return err
	}
	out := runOutput{QueueURL: opts.Arg, State: q.State(), Why: q.Why}
	if q.Task != nil {
		out.Job = q.Task.Name
	}
	if q.Executable != nil {
		b, err := c.BuildAt(ctx, q.Executable.URL)
		if err != nil {
			return err
		}
		return reportBuild(ctx, io, c, nil, b, &out, opts.JSON)
	}
	out.Cancelled = q.Cancelled
	if opts.JSON {
		if err := writeJSON(io.Out, out); err != nil {
			return err
		}
	} else {
		line := fmt.Sprintf("%s: %s", out.Job, out.State)
		if q.Why != "" {
			line += ": " + q.Why
		}
		fmt.Fprintln(io.Out, line)
	}
	if q.Cancelled {
		return errSilent
	}
	return nil
}
