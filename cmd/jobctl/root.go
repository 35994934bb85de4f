package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// rootOptions are the flags every command shares.
type rootOptions struct {
	Dir string
}

func newRootCmd(io *streams) *cobra.Command {
	opts := &rootOptions{}
	cmd := &cobra.Command{
		Use:   "jobctl",
		Short: "Jenkins jobs as code: compile, test, deploy and prune versioned jobs",
		Long: `jobctl keeps a team's Jenkins jobs in a git repository as plain files and
compiles them into immutable Jenkins job definitions named
<name>-v<N>-<hash>, so that every build runs exactly the jobs it was built
and tested with.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// Runnable, so that an unknown command reaches Args below and
		// becomes a usage error (exit 2) rather than a plain failure.
		RunE: func(c *cobra.Command, args []string) error { return c.Help() },
	}
	cmd.Args = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("unknown command %q", args[0])
		if s := c.SuggestionsFor(args[0]); len(s) > 0 {
			msg += fmt.Sprintf("; did you mean %q?", s[0])
		}
		return &usageError{cmd: "", err: fmt.Errorf("%s", msg)}
	}
	cmd.SuggestionsMinimumDistance = 2
	cmd.SetOut(io.Out)
	cmd.SetErr(io.Err)
	cmd.PersistentFlags().StringVarP(&opts.Dir, "dir", "C", "", "run as if jobctl was started in `DIR` (the job repository)")
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &usageError{cmd: c.Name(), err: err}
	})
	cmd.AddCommand(
		newBuildCmd(io, opts),
		newComponentsCmd(io, opts),
		newDeployCmd(io, opts),
		newGraphCmd(io, opts),
		newLogsCmd(io, opts),
		newMasterCmd(io),
		newPruneCmd(io, opts),
		newRunCmd(io, opts),
		newStatusCmd(io, opts),
		newTestCmd(io, opts),
		newVersionCmd(io),
	)
	for _, c := range cmd.Commands() {
		c.Args = usageArgs(c.Args)
	}
	return cmd
}

// usageArgs wraps an argument validator so its failures are usage errors.
func usageArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	if v == nil {
		v = cobra.ArbitraryArgs
	}
	return func(c *cobra.Command, args []string) error {
		if err := v(c, args); err != nil {
			return &usageError{cmd: c.Name(), err: err}
		}
		return nil
	}
}

// noArgs rejects positional arguments with a message naming the command.
func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%s takes no arguments, got %q", c.Name(), args)
	}
	return nil
}
