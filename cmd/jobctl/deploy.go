package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/compiler"
	"github.com/jobctl/jobctl/jobs"
	"github.com/jobctl/jobctl/master"
)

type deployOptions struct {
	Root        *rootOptions
	DryRun      bool
	JSON        bool
	URL         string
	Concurrency int
	Timeout     time.Duration
}

func newDeployCmd(io *streams, root *rootOptions) *cobra.Command {
	opts := &deployOptions{Root: root}
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Build the job repository and push the new versions to a Jenkins master",
		Long: `Build the repository (as jobctl build does: build/ and jobctl.lock are
written), then plan and apply the deploy on the master:

  - every job's plugin requirements are checked against the master's
    plugins; an unmet one (listed with its constraint and the installed
    version) deploys nothing
  - the project folder is created if needed
  - what the folder holds is listed in one request; missing versions are
    created, each after the jobs it calls; a job deleted by hand is
    created again
  - a deployed name that exists with other content is drift: reported,
    never overwritten, and the deploy fails
  - only when every job exists, the project's view "latest" is pointed at
    the new versions, and its description records when each version was
    deployed (for prune)

Deployed definitions are never changed in place, so a deploy that fails
half-way leaves the previous versions as the latest, and running it again
converges.

The master is --url, else JENKINS_URL, else jobctl.yaml's master.url,
with JENKINS_USER and JENKINS_API_TOKEN; without any, the local master at ` + master.DefaultURL + `
(start it with jobctl master).`,
		Example: `  # Deploy to the local master
  jobctl master &
  jobctl deploy -C examples/modelshop

  # Show what would change, write nothing
  jobctl deploy --dry-run

  # Deploy to a Jenkins, the plan and result as JSON
  JENKINS_URL=https://ci.example.com/ JENKINS_USER=me JENKINS_API_TOKEN=... jobctl deploy --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Concurrency < 1 {
				return &usageError{cmd: "deploy", err: fmt.Errorf("--concurrency must be at least 1, got %d", opts.Concurrency)}
			}
			return deployRun(cmd.Context(), io, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print the plan; make no change on the master")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the plan and result as JSON")
	cmd.Flags().StringVar(&opts.URL, "url", "", "the master's `URL` (default: $JENKINS_URL, else jobctl.yaml's master.url, else "+master.DefaultURL+")")
	cmd.Flags().IntVar(&opts.Concurrency, "concurrency", 8, "create up to `N` jobs at once")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 30*time.Second, "bound each HTTP request to `DURATION`")
	return cmd
}

// deployOutput is the --json output of jobctl deploy.
type deployOutput struct {
	DryRun bool               `json:"dry_run"`
	Plan   *master.DeployPlan `json:"plan"`
	Result *master.Result     `json:"result,omitempty"`
	Error  string             `json:"error,omitempty"`
}

func deployRun(ctx context.Context, io *streams, opts *deployOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	res, err := compileForDeploy(opts.Root.Dir)
	if err != nil {
		return err
	}
	cfg := master.ConfigFromEnv(masterURL(opts.URL, opts.Root.Dir))
	cfg.Timeout = opts.Timeout
	client, err := master.New(ctx, cfg)
	if err != nil {
		return err
	}
	plan, err := client.PlanDeploy(ctx, master.FromResult(res), time.Now())
	if err != nil {
		return err
	}
	out := deployOutput{DryRun: opts.DryRun, Plan: plan}
	if !plan.OK() || opts.DryRun {
		if opts.JSON {
			if err := writeJSON(io.Out, out); err != nil {
				return err
			}
		} else {
			printPlan(io, plan)
		}
		if !plan.OK() {
			return errSilent
		}
		return nil
	}
	aopt := master.ApplyOptions{Concurrency: opts.Concurrency}
	if isTerminal(io.Err) {
		aopt.Progress = func(done, total int, deployed string) {
			fmt.Fprintf(io.Err, "\r\033[Kcreated %d/%d %s", done, total, deployed)
			if done == total {
				fmt.Fprintln(io.Err)
			}
		}
	}
	result, aerr := client.Apply(ctx, plan, aopt)
	if opts.JSON {
		out.Result = result
		if aerr != nil {
			out.Error = aerr.Error()
		}
		if err := writeJSON(io.Out, out); err != nil {
			return err
		}
	} else if result != nil {
		if result.FolderCreated {
			fmt.Fprintf(io.Out, "created folder %s\n", plan.Folder)
		}
		for _, j := range result.Jobs {
			fmt.Fprintf(io.Out, "%s %s\n", j.Verb, j.Deployed)
		}
		if result.ViewUpdated {
			fmt.Fprintf(io.Out, "view updated %s/%s\n", plan.Folder, plan.View.Name)
		}
	}
	if aerr != nil {
		return aerr
	}
	if !opts.JSON {
		created := 0
		for _, j := range result.Jobs {
			if j.Verb == master.Created {
				created++
			}
		}
		fmt.Fprintf(io.Err, "deployed %s to %s: %d created, %d unchanged\n", plan.Project, client.URL(), created, len(result.Jobs)-created)
	}
	return nil
}

// printPlan prints a plan that is not applied (a dry run, or one with
// unmet plugins or drift): one line per job, problems on stderr.
func printPlan(io *streams, p *master.DeployPlan) {
	for _, u := range p.Unmet {
		fmt.Fprintf(io.Err, "unmet: %s\n", u)
	}
	if p.CreateFolder {
		fmt.Fprintf(io.Out, "create folder %s\n", p.Folder)
	}
	for _, j := range p.Create {
		fmt.Fprintf(io.Out, "create %s\n", j.Deployed)
	}
	for _, j := range p.Unchanged {
		fmt.Fprintf(io.Out, "unchanged %s\n", j.Deployed)
	}
	for _, d := range p.Drift {
		fmt.Fprintf(io.Out, "drift %s: %s\n", d.Deployed, d.Reason)
	}
	switch {
	case p.View.Create:
		fmt.Fprintf(io.Out, "create view %s/%s\n", p.Folder, p.View.Name)
	case p.View.Update:
		fmt.Fprintf(io.Out, "update view %s/%s\n", p.Folder, p.View.Name)
	}
	if len(p.Unmet) > 0 {
		fmt.Fprintf(io.Err, "the master does not meet %d plugin requirement(s); nothing deployed\n", len(p.Unmet))
	}
	if len(p.Drift) > 0 {
		fmt.Fprintf(io.Err, "%d job(s) drifted on the master; nothing deployed (a deployed name is never overwritten: delete the job on the master, or change it in the repository)\n", len(p.Drift))
	}
}

// compileForDeploy builds the repository as jobctl build does, writing
// build/ and the lock.
func compileForDeploy(dir string) (*compiler.Result, error) {
	root, err := findRoot(dir)
	if err != nil {
		return nil, err
	}
	repo, err := compiler.Load(root)
	if err != nil {
		return nil, err
	}
	lock, err := jobs.ReadLock(root)
	if err != nil {
		return nil, err
	}
	res, err := compiler.Compile(repo, lock, compiler.Options{})
	if err != nil {
		return nil, err
	}
	if err := res.Write(filepath.Join(root, "build")); err != nil {
		return nil, err
	}
	if err := res.Lock.Write(root); err != nil {
		return nil, fmt.Errorf("writing %s: %w", jobs.LockFile, err)
	}
	return res, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
