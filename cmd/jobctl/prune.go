package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/jobs"
	"github.com/jobctl/jobctl/master"
)

type pruneOptions struct {
	Root        *rootOptions
	Project     string
	OlderThan   string
	DryRun      bool
	JSON        bool
	URL         string
	Concurrency int
	Timeout     time.Duration

	window time.Duration // OlderThan parsed; 0 when unset
}

func newPruneCmd(io *streams, root *rootOptions) *cobra.Command {
	opts := &pruneOptions{Root: root}
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Delete the versions of the project's jobs nobody runs any more",
		Long: `Plan, then apply, the prune of the project's folder on the master.

The plan takes one listing request. The candidates are the jobs jobctl owns
in this project: their description carries jobctl's marker naming the
project, and their name is the deployed name <name>-v<N>-<hash> the marker
describes. Jobs jobctl does not own, and other projects' jobs, are never
listed and never touched. A candidate is kept when it

  - is the latest version of its name (the highest present, or one the
    project's view "latest" lists)
  - is building, or waits in the queue
  - ran within the window (--older-than, else prune.older_than in
    jobctl.yaml, else 7d)
  - never ran, and was deployed within the window, or no deploy time is
    recorded for it (jobctl deploy records one in the view's description)
  - is called, directly or through other jobs, by a job that is kept

and pruned otherwise. Orchestrations are deleted before the workers they
call, a few at a time, with retries. If a delete fails, the jobs it calls
stay too; prune says what remains and exits 1, and running it again
finishes the work.

stdout has one line per candidate (its verb, name and reason), then the
counts; --json prints one object instead. --dry-run sends no write request.

The project is jobctl.yaml's (in -C DIR, or the repository around the
current folder), or --project NAME, which needs no repository. The master
is --url, else JENKINS_URL, else jobctl.yaml's master URL, else the local
master at ` + master.DefaultURL + `; credentials come from JENKINS_USER and
JENKINS_API_TOKEN.`,
		Example: `  # What would go, changing nothing
  jobctl prune --dry-run

  # Prune versions idle for more than 3 days
  jobctl prune -C examples/modelshop --older-than 3d

  # The nightly job, on an agent with no checkout
  jobctl prune --project modelshop --older-than 7d`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Concurrency < 1 {
				return &usageError{cmd: "prune", err: fmt.Errorf("--concurrency must be at least 1, got %d", opts.Concurrency)}
			}
			if cmd.Flags().Changed("older-than") {
				d, err := jobs.ParseDuration(opts.OlderThan)
				if err != nil {
					return &usageError{cmd: "prune", err: fmt.Errorf("--older-than: %w", err)}
				}
				if d <= 0 {
					return &usageError{cmd: "prune", err: fmt.Errorf("--older-than must be longer than zero, got %q", opts.OlderThan)}
				}
				opts.window = d
			}
			if cmd.Flags().Changed("project") && (opts.Project == "" || strings.ContainsAny(opts.Project, "/\\")) {
				return &usageError{cmd: "prune", err: fmt.Errorf("--project: %q is not a project name", opts.Project)}
			}
			return pruneRun(cmd.Context(), io, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Project, "project", "", "prune the project `NAME` (its folder on the master) without reading a repository")
	cmd.Flags().StringVar(&opts.OlderThan, "older-than", "", "prune versions idle longer than `DURATION` (e.g. 7d, 36h, 1d12h; default: prune.older_than in jobctl.yaml, else 7d)")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print the plan; delete nothing")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the plan and result as JSON")
	cmd.Flags().StringVar(&opts.URL, "url", "", "the master's `URL` (default: $JENKINS_URL, else jobctl.yaml's, else "+master.DefaultURL+")")
	cmd.Flags().IntVar(&opts.Concurrency, "concurrency", 8, "delete up to `N` jobs at once")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 30*time.Second, "bound each HTTP request to `DURATION`")
	return cmd
}

// pruneOutput is the --json output of jobctl prune.
type pruneOutput struct {
	Project   string        `json:"project"`
	Folder    string        `json:"folder"`
	OlderThan string        `json:"older_than"`
	DryRun    bool          `json:"dry_run"`
	Jobs      []pruneJobOut `json:"jobs"`
	Counts    pruneCounts   `json:"counts"`
	Order     []string      `json:"order"`
	Error     string        `json:"error,omitempty"`
	plan      *master.PrunePlan
}

type pruneJobOut struct {
	Verb string `json:"verb"` // pruned, kept, would prune, failed, remaining
	master.PruneJob
	Error string `json:"error,omitempty"`
}

type pruneCounts struct {
	Pruned    int `json:"pruned"`
	ToPrune   int `json:"to_prune"`
	Kept      int `json:"kept"`
	Failed    int `json:"failed"`
	Remaining int `json:"remaining"`
}

func pruneRun(ctx context.Context, io *streams, opts *pruneOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	project, window, projectURL := opts.Project, opts.window, ""
	if project == "" {
		root, err := findRoot(opts.Root.Dir)
		if err != nil {
			return err
		}
		p, err := jobs.ReadProject(root)
		if err != nil {
			return err
		}
		project, projectURL = p.Name, p.MasterURL
		if window == 0 {
			window = p.Prune.OlderThan
		}
	}
	if window == 0 {
		window = jobs.DefaultPruneWindow
	}
	cfg := master.ConfigFromEnv(pickMasterURL(opts.URL, func() string { return projectURL }))
	cfg.Timeout = opts.Timeout
	client, err := master.New(ctx, cfg)
	if err != nil {
		return err
	}
	plan, err := client.PlanPrune(ctx, project, time.Now(), window)
	if err != nil {
		return err
	}
	if !plan.Exists && !opts.JSON {
		fmt.Fprintf(io.Err, "the master at %s has no folder %s: nothing to prune\n", client.URL(), plan.Folder)
	}
	out := &pruneOutput{Project: project, Folder: plan.Folder, OlderThan: jobs.FormatDuration(window), DryRun: opts.DryRun, Order: plan.Order, plan: plan}
	var result *master.PruneResult
	var aerr error
	if !opts.DryRun {
		aopt := master.PruneOptions{Concurrency: opts.Concurrency}
		if isTerminal(io.Err) && !opts.JSON {
			aopt.Progress = func(done, total int, deployed string) {
				fmt.Fprintf(io.Err, "\r\033[Kdeleted %d/%d %s", done, total, deployed)
				if done == total {
					fmt.Fprintln(io.Err)
				}
			}
		}
		result, aerr = client.ApplyPrune(ctx, plan, aopt)
	}
	out.fill(result)
	if aerr != nil {
		out.Error = aerr.Error()
	}
	if opts.JSON {
		if err := writeJSON(io.Out, out); err != nil {
			return err
		}
	} else {
		out.print(io)
	}
	return aerr
}

// fill sets each job's verb from the plan and, unless a dry run, the result.
func (o *pruneOutput) fill(r *master.PruneResult) {
	done := map[string]master.JobResult{}
	if r != nil {
		for _, j := range r.Jobs {
			done[j.Deployed] = j
		}
	}
	o.Jobs = []pruneJobOut{}
	for _, j := range o.plan.Jobs {
		jo := pruneJobOut{PruneJob: j, Verb: master.Kept}
		switch {
		case !j.Prune:
			o.Counts.Kept++
		case o.DryRun:
			jo.Verb = "would prune"
			o.Counts.ToPrune++
		default:
			d := done[j.Deployed]
			jo.Verb, jo.Error = d.Verb, d.Error
			switch d.Verb {
			case master.Pruned:
				o.Counts.Pruned++
			case master.Failed:
				o.Counts.Failed++
			default:
				jo.Verb = master.Remaining
				o.Counts.Remaining++
			}
		}
		o.Jobs = append(o.Jobs, jo)
	}
}

// print writes one aligned line per candidate, then the counts.
func (o *pruneOutput) print(io *streams) {
	tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
	for _, j := range o.Jobs {
		reason := j.Reason
		if j.Error != "" {
			reason += ": " + j.Error
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", j.Verb, j.Deployed, reason)
	}
	tw.Flush()
	c := o.Counts
	if o.DryRun {
		fmt.Fprintf(io.Out, "%d to prune, %d kept (dry run)\n", c.ToPrune, c.Kept)
		return
	}
	line := fmt.Sprintf("%d pruned, %d kept", c.Pruned, c.Kept)
	if c.Failed > 0 {
		line += fmt.Sprintf(", %d failed", c.Failed)
	}
	if c.Remaining > 0 {
		line += fmt.Sprintf(", %d remaining", c.Remaining)
	}
	fmt.Fprintln(io.Out, line)
}
