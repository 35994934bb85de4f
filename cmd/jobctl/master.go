package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/master/local"
)

// tokenEnv holds the master's API token when --token is not given.
const tokenEnv = "JOBCTL_MASTER_TOKEN"

// pipelineRunner makes the runner of pipeline builds for a master whose
// home is home. The integrator points it at master/local/pipeline; while it
// is nil, pipeline builds fail with a console line saying they need it.
var pipelineRunner func(home string, logf func(format string, args ...any)) (local.PipelineRunner, error)

// closeTimeout bounds how long shutting down waits for aborted builds.
const closeTimeout = 30 * time.Second

type masterOptions struct {
	Home      string
	Addr      string
	Executors int
	User      string
	Token     string
	Plugins   string
}

func newMasterCmd(io *streams) *cobra.Command {
	opts := &masterOptions{}
	cmd := &cobra.Command{
		Use:   "master",
		Short: "Serve a local Jenkins-compatible master",
		Long: `Serve a local master that speaks the Jenkins REST API as Jenkins does, so
that jobctl, gojenkins, python-jenkins and Jenkins Job Builder work against
it unchanged. It keeps its state in a JENKINS_HOME-like folder (jobs,
views, builds, the queue), so that a restart loses nothing, and really runs
builds: freestyle jobs' shell steps on this machine, with --executors
executors, and pipeline jobs' Groovy under the groovy command (pipeline
builds take no executor, as Jenkins' flyweight tasks do). Timer triggers
fire on their cron specs.

The home folder defaults to $XDG_STATE_HOME/jobctl/master, or
~/.local/state/jobctl/master when XDG_STATE_HOME is not set.

Without --user and --token the master is open, like a fresh unsecured
Jenkins: anyone may do anything, but POSTs need a crumb from
/crumbIssuer/api/json. With both, every request must authenticate with HTTP
Basic auth as USER with TOKEN, an API token, and needs no crumb. Prefer
giving the token in $JOBCTL_MASTER_TOKEN: a command line is visible to
other users of the machine. The token is never printed.

--plugins replaces the plugins the master says it has (by default, those
jobctl's generated jobs need) with a YAML or JSON list of
{shortName, version} (longName, active, enabled optional).

It prints its URL on stdout, logs to stderr, and stops on SIGINT or
SIGTERM, aborting running builds; queued builds stay queued.`,
		Example: `  # Serve on http://127.0.0.1:8080/ from ~/.local/state/jobctl/master
  jobctl master

  # Another home and port, 4 executors
  jobctl master --home /tmp/jenkins --addr 127.0.0.1:9090 --executors 4

  # Secured: requests must use Basic auth as admin with the token
  JOBCTL_MASTER_TOKEN=s3cret jobctl master --user admin`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			tokenSet := cmd.Flags().Changed("token")
			return masterRun(cmd.Context(), io, opts, tokenSet)
		},
	}
	cmd.Flags().StringVar(&opts.Home, "home", "", "keep the master's state in `DIR` (default $XDG_STATE_HOME/jobctl/master or ~/.local/state/jobctl/master)")
	cmd.Flags().StringVar(&opts.Addr, "addr", "127.0.0.1:8080", "listen on `HOST:PORT` (port 0 picks a free one)")
	cmd.Flags().IntVar(&opts.Executors, "executors", 2, "run at most `N` freestyle builds at once")
	cmd.Flags().StringVar(&opts.User, "user", "", "require Basic auth as `USER` (with --token)")
	cmd.Flags().StringVar(&opts.Token, "token", "", "require Basic auth with the API token `TOKEN` (default $"+tokenEnv+")")
	cmd.Flags().StringVar(&opts.Plugins, "plugins", "", "list the plugins in `FILE` (YAML or JSON: [{shortName, version}]) instead of the default ones")
	return cmd
}

func masterRun(ctx context.Context, io *streams, opts *masterOptions, tokenSet bool) error {
	if !tokenSet {
		opts.Token = os.Getenv(tokenEnv)
	}
	os.Unsetenv(tokenEnv) // builds run with the master's environment
	if opts.Executors < 0 {
		return &usageError{cmd: "master", err: fmt.Errorf("--executors must be 0 or more, got %d", opts.Executors)}
	}
	if (opts.User == "") != (opts.Token == "") {
		if opts.User == "" {
			return &usageError{cmd: "master", err: fmt.Errorf("--user is required with a token (--token or $%s)", tokenEnv)}
		}
		return &usageError{cmd: "master", err: fmt.Errorf("--user needs a token: give --token or set $%s", tokenEnv)}
	}
	home := opts.Home
	if home == "" {
		var err error
		if home, err = defaultMasterHome(); err != nil {
			return &usageError{cmd: "master", err: fmt.Errorf("no --home given and %v", err)}
		}
	}
	var plugins []local.Plugin
	if opts.Plugins != "" {
		data, err := os.ReadFile(opts.Plugins)
		if err != nil {
			return &usageError{cmd: "master", err: fmt.Errorf("--plugins: %v", err)}
		}
		if plugins, err = local.ParsePlugins(data); err != nil {
			return &usageError{cmd: "master", err: fmt.Errorf("--plugins %s: %v", opts.Plugins, err)}
		}
	}
	var mu sync.Mutex
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(io.Err, format+"\n", args...)
	}
	var runner local.PipelineRunner
	if pipelineRunner != nil {
		var err error
		if runner, err = pipelineRunner(home, logf); err != nil {
			return fmt.Errorf("starting the pipeline runner: %w", err)
		}
	}
	executors := opts.Executors
	if executors == 0 {
		executors = -1 // none; 0 means the default in local.Config
	}
	m, err := local.New(local.Config{
		Home: home, Executors: executors, User: opts.User, Token: opts.Token,
		Plugins: plugins, Pipeline: runner, Logf: logf,
	})
	if err != nil {
		return err
	}
	if opts.Executors == 0 {
		logf("local master: 0 executors: freestyle builds wait in the queue; pipelines still run")
	}
	url, err := m.Start(opts.Addr)
	if err != nil {
		m.Close(context.Background())
		return fmt.Errorf("listening on %s: %w", opts.Addr, err)
	}
	fmt.Fprintln(io.Out, url)
	<-ctx.Done()
	logf("local master: stopping")
	cctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	return m.Close(cctx)
}

// defaultMasterHome is $XDG_STATE_HOME/jobctl/master, or
// ~/.local/state/jobctl/master.
func defaultMasterHome() (string, error) {
	if s := os.Getenv("XDG_STATE_HOME"); s != "" && filepath.IsAbs(s) {
		return filepath.Join(s, "jobctl", "master"), nil
	}
	h, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("the home directory is unknown: %v", err)
	}
	return filepath.Join(h, ".local", "state", "jobctl", "master"), nil
}
