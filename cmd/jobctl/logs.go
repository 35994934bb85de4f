package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/master"
)

type logsOptions struct {
	Root    *rootOptions
	Name    string
	Number  int
	Follow  bool
	URL     string
	Timeout time.Duration
	Poll    time.Duration
}

func newLogsCmd(io *streams, root *rootOptions) *cobra.Command {
	opts := &logsOptions{Root: root}
	cmd := &cobra.Command{
		Use:   "logs NAME [N]",
		Short: "Print the console of a build of a job's latest version",
		Long: `Print the console of build N (default: the last build) of NAME's latest
deployed version (the one the project's view "latest" lists).

With --follow, keep printing what the build writes until it ends
(logText/progressiveText); Ctrl-C stops following, not the build.`,
		Example: `  # The last build's console
  jobctl logs price_model

  # Follow build 7 as it runs
  jobctl logs process_upload 7 --follow`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if len(args) == 2 {
				n, err := strconv.Atoi(args[1])
				if err != nil || n < 1 {
					return &usageError{cmd: "logs", err: fmt.Errorf("N: want a build number, got %q", args[1])}
				}
				opts.Number = n
			}
			return logsRun(cmd.Context(), io, opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Follow, "follow", "f", false, "keep printing the console until the build ends")
	cmd.Flags().StringVar(&opts.URL, "url", "", "the master's `URL` (default: $JENKINS_URL, else jobctl.yaml's master.url, else "+master.DefaultURL+")")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 30*time.Second, "bound each HTTP request to `DURATION`")
	cmd.Flags().DurationVar(&opts.Poll, "poll", 500*time.Millisecond, "with --follow, poll the master every `DURATION`")
	return cmd
}

func logsRun(ctx context.Context, io *streams, opts *logsOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	job, project, err := loadJob("logs", opts.Root.Dir, opts.Name)
	if err != nil {
		return err
	}
	cfg := master.ConfigFromEnv(masterURL(opts.URL, opts.Root.Dir))
	cfg.Timeout = opts.Timeout
	c, err := master.New(ctx, cfg)
	if err != nil {
		return err
	}
	t, err := resolve(ctx, c, project, job)
	if err != nil {
		return err
	}
	b, err := c.Build(ctx, t.FullName, opts.Number)
	if err != nil {
		if master.IsNotFound(err) {
			if opts.Number == 0 {
				return fmt.Errorf("%s has no build yet", t.FullName)
			}
			return fmt.Errorf("%s has no build #%d", t.FullName, opts.Number)
		}
		return err
	}
	var start int64
	for {
		chunk, err := c.Log(ctx, b.URL, start)
		if err != nil {
			if ctx.Err() != nil {
				return nil // Ctrl-C: stop following
			}
			return err
		}
		if _, err := io.Out.Write([]byte(chunk.Text)); err != nil {
			return err
		}
		start = chunk.Next
		if !opts.Follow || !chunk.More {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(opts.Poll):
		}
	}
}
