package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/compiler"
	"github.com/jobctl/jobctl/jobs"
	"github.com/jobctl/jobctl/master"
)

type runOptions struct {
	Root    *rootOptions
	Name    string
	Params  []string
	Wait    bool
	JSON    bool
	URL     string
	Timeout time.Duration
	Poll    time.Duration
}

func newRunCmd(io *streams, root *rootOptions) *cobra.Command {
	opts := &runOptions{Root: root}
	cmd := &cobra.Command{
		Use:   "run NAME",
		Short: "Trigger the latest deployed version of a job on the master",
		Long: `Trigger the latest deployed version of the job NAME (its common name in
the repository) on the master, and print the queue item's URL at once: a
promise to read later with jobctl status.

NAME's latest version is the one the project's view "latest" lists (jobctl
deploy maintains it). The params are checked against the job's declared
params in the repository before anything is triggered: an unknown param, a
boolean that is not true or false, a choice not among its choices, or a
required param missing or empty is a usage error (exit 2), and nothing is
triggered.

With --wait, jobctl follows the build to its end (progress on stderr on a
terminal), prints its result on stderr and its report.json (when it archived
one) on stdout after the queue URL, and, for a successful build, warns on
stderr about report fields that do not match the job's declared outputs.
The exit status is 0 when the build ends SUCCESS and 1 otherwise (with the
reason: the report's, else the end of the console). Ctrl-C stops waiting,
never the build: jobctl says how to check on it later (jobctl status
QUEUE_URL) and exits 1. A queue item cancelled on the master ends the wait
with exit 1.

With --json, stdout holds one JSON object: job, queue_url, state, and with
--wait build_url, number, result, duration_ms, report and
report_mismatches (the queue URL goes to stderr at once).

Triggering is never retried once the request may have reached the master
(only a refused connection is tried again), so a run never queues two
builds.

The master is --url, else JENKINS_URL, else jobctl.yaml's master.url,
with JENKINS_USER and JENKINS_API_TOKEN; without any, the local master at ` + master.DefaultURL + `.`,
		Example: `  # Trigger process_upload; prints the queue item URL
  jobctl run process_upload -p SOURCE_S3_FILE_PATH=s3://uploads/cube.stl

  # Wait for the end; print the report
  jobctl run price_model -p VOLUME_MM3=8000 -p MATERIAL=petg --wait

  # Everything as JSON
  jobctl run price_model -p VOLUME_MM3=8000 --wait --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runRun(cmd.Context(), io, opts)
		},
	}
	cmd.Flags().StringArrayVarP(&opts.Params, "param", "p", nil, "set the param KEY to VALUE (`KEY=VALUE`; repeatable)")
	cmd.Flags().BoolVar(&opts.Wait, "wait", false, "follow the build to its end; print its result and report")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the queue URL, build URL, number, result and report as JSON")
	cmd.Flags().StringVar(&opts.URL, "url", "", "the master's `URL` (default: $JENKINS_URL, else jobctl.yaml's master.url, else "+master.DefaultURL+")")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 30*time.Second, "bound each HTTP request to `DURATION`")
	cmd.Flags().DurationVar(&opts.Poll, "poll", 500*time.Millisecond, "with --wait, poll the master every `DURATION`")
	return cmd
}

// runOutput is the --json output of jobctl run and jobctl status.
type runOutput struct {
	Job       string          `json:"job"`
	QueueURL  string          `json:"queue_url,omitempty"`
	State     string          `json:"state"`
	Why       string          `json:"why,omitempty"`
	BuildURL  string          `json:"build_url,omitempty"`
	Number    int             `json:"number,omitempty"`
	Result    string          `json:"result,omitempty"`
	Duration  int64           `json:"duration_ms,omitempty"`
	Report    json.RawMessage `json:"report,omitempty"`
	Mismatch  []string        `json:"report_mismatches,omitempty"`
	Cancelled bool            `json:"cancelled,omitempty"`
}

// target is a job of the repository and its latest version on a master.
type target struct {
	Job      *jobs.Job
	Project  string
	Deployed string // e.g. price_model-v2-67e3f89c9c4e
	FullName string // e.g. modelshop/price_model-v2-67e3f89c9c4e
}

// loadJob finds the job name in the repository.
func loadJob(cmd, dir, name string) (*jobs.Job, string, error) {
	root, err := findRoot(dir)
	if err != nil {
		return nil, "", err
	}
	repo, err := compiler.Load(root)
	if err != nil {
		return nil, "", err
	}
	var names []string
	for _, s := range repo.Jobs {
		if s.Job.Name == name {
			return s.Job, repo.Project.Name, nil
		}
		names = append(names, s.Job.Name)
	}
	return nil, "", &usageError{cmd: cmd, err: fmt.Errorf("%s: no job of that name in %s%s", name, root, jobs.DidYouMean(name, names))}
}

// resolve finds name's latest deployed version: the one the project's
// view lists, read with one request.
func resolve(ctx context.Context, c *master.Client, project string, job *jobs.Job) (*target, error) {
	f, err := c.ListFolder(ctx, project)
	if err != nil {
		return nil, err
	}
	d, ok := master.LatestVersion(f, compiler.ViewName, job.Name)
	if !ok {
		return nil, fmt.Errorf("%s is not deployed to %s (the view %s/%s lists no version of it): run `jobctl deploy` first", job.Name, c.URL(), project, compiler.ViewName)
	}
	return &target{Job: job, Project: project, Deployed: d, FullName: project + "/" + d}, nil
}

// warnOtherVersion warns when the repository's last build (build/) made
// another version of the job than the master's latest: the params were
// checked against the repository's declaration, which may have changed.
func warnOtherVersion(io *streams, dir string, t *target) {
	root, err := findRoot(dir)
	if err != nil {
		return
	}
	m, err := compiler.ReadManifest(filepath.Join(root, "build"))
	if err != nil {
		return
	}
	for _, j := range m.Jobs {
		if j.Name == t.Job.Name && j.Deployed != t.Deployed {
			fmt.Fprintf(io.Err, "note: running %s, the latest deployed version; the repository's build has %s (jobctl deploy to update the master); the params were checked against the repository\n", t.Deployed, j.Deployed)
		}
	}
}

// checkParams checks -p KEY=VALUE against the job's declared params and
// returns the values to send (nil for a job without params). Every
// problem is reported at once.
func checkParams(job *jobs.Job, given []string) (url.Values, error) {
	var errs []error
	var names []string
	for _, p := range job.Params {
		names = append(names, p.Name)
	}
	vals := url.Values{}
	for _, kv := range given {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			errs = append(errs, fmt.Errorf("-p %s: want KEY=VALUE", kv))
			continue
		}
		p, ok := job.Param(k)
		if !ok {
			if len(names) == 0 {
				errs = append(errs, fmt.Errorf("-p %s: %s declares no params", k, job.Name))
			} else {
				errs = append(errs, fmt.Errorf("-p %s: %s has no param %q%s (it has %s)", k, job.Name, k, jobs.DidYouMean(k, names), strings.Join(names, ", ")))
			}
			continue
		}
		if vals.Has(k) {
			errs = append(errs, fmt.Errorf("-p %s: given twice", k))
			continue
		}
		switch p.Type {
		case jobs.Boolean:
			if v != "true" && v != "false" {
				errs = append(errs, fmt.Errorf("-p %s: a boolean must be true or false, got %q", k, v))
			}
		case jobs.Choice:
			found := false
			for _, c := range p.Choices {
				found = found || c == v
			}
			if !found {
				errs = append(errs, fmt.Errorf("-p %s: %q is not one of %s%s", k, v, strings.Join(p.Choices, ", "), jobs.DidYouMean(v, p.Choices)))
			}
		}
		if p.Required && v == "" {
			errs = append(errs, fmt.Errorf("-p %s: required, must not be empty", k))
		}
		vals.Set(k, v)
	}
	for _, p := range job.Params {
		if p.Required && !vals.Has(p.Name) {
			errs = append(errs, fmt.Errorf("-p %s: required by %s, missing", p.Name, job.Name))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(job.Params) == 0 {
		return nil, nil
	}
	return vals, nil
}

func runRun(ctx context.Context, io *streams, opts *runOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	job, project, err := loadJob("run", opts.Root.Dir, opts.Name)
	if err != nil {
		return err
	}
	params, err := checkParams(job, opts.Params)
	if err != nil {
		return &usageError{cmd: "run", err: fmt.Errorf("run %s: %w", job.Name, err)}
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
	warnOtherVersion(io, opts.Root.Dir, t)
	q, err := c.Trigger(ctx, t.FullName, params)
	if err != nil {
		return err
	}
	out := runOutput{Job: t.FullName, QueueURL: q, State: "queued"}
	if !opts.JSON {
		fmt.Fprintln(io.Out, q) // the promise, at once
	} else if opts.Wait {
		fmt.Fprintf(io.Err, "queued %s\n", q) // stdout holds one JSON object, at the end
	}
	if !opts.Wait {
		if opts.JSON {
			return writeJSON(io.Out, out)
		}
		if isTerminal(io.Err) {
			fmt.Fprintf(io.Err, "queued %s; follow it with: jobctl status %s\n", t.FullName, q)
		}
		return nil
	}
	return follow(ctx, io, c, t.Job, q, &out, opts.JSON, opts.Poll)
}

// follow waits for a queue item's build to end and reports it.
func follow(ctx context.Context, io *streams, c *master.Client, job *jobs.Job, q string, out *runOutput, asJSON bool, poll time.Duration) error {
	wopt := master.WaitOptions{Poll: poll}
	if isTerminal(io.Err) {
		wopt.Progress = func(s string) { fmt.Fprintf(io.Err, "%s: %s\n", out.Job, s) }
	}
	o, err := c.Wait(ctx, q, wopt)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(io.Err, "stopped waiting; %s goes on. Check on it later with:\n  jobctl status %s\n", out.Job, q)
			if asJSON {
				out.State = "interrupted"
				if o != nil && o.Build != nil {
					out.BuildURL, out.Number = o.Build.URL, o.Build.Number
				}
				writeJSON(io.Out, out)
			}
			return errSilent
		}
		return err
	}
	if o.Cancelled {
		out.State, out.Cancelled = "cancelled", true
		if asJSON {
			writeJSON(io.Out, out)
		}
		fmt.Fprintf(io.Err, "%s: the queue item %s was cancelled before it started\n", out.Job, q)
		return errSilent
	}
	return reportBuild(ctx, io, c, job, o.Build, out, asJSON)
}

// reportBuild prints a build's result (stderr), its report (stdout) and
// the report's mismatches with the declared outputs (stderr), and returns
// errSilent unless it succeeded or is still running.
func reportBuild(ctx context.Context, io *streams, c *master.Client, job *jobs.Job, b *master.BuildInfo, out *runOutput, asJSON bool) error {
	out.BuildURL, out.Number, out.Result, out.Duration = b.URL, b.Number, b.Result, b.Duration
	out.State = "finished"
	if b.Building {
		out.State = "building"
	}
	rep, err := c.Report(ctx, b)
	if err != nil {
		fmt.Fprintf(io.Err, "warning: %v\n", err)
	}
	if rep != nil {
		out.Report = rep.Raw
		if job != nil && b.Result == "SUCCESS" {
			out.Mismatch = jobs.CheckOutputs(job.Outputs, rep.Data)
		}
	}
	for _, m := range out.Mismatch {
		fmt.Fprintf(io.Err, "warning: the report of %s #%d does not match the declared outputs: %s\n", out.Job, b.Number, m)
	}
	if asJSON {
		if err := writeJSON(io.Out, out); err != nil {
			return err
		}
	} else {
		if b.Building {
			fmt.Fprintf(io.Err, "%s #%d: building (for %s) %s\n", out.Job, b.Number, since(b.Timestamp), b.URL)
		} else {
			fmt.Fprintf(io.Err, "%s #%d: %s in %s %s\n", out.Job, b.Number, b.Result, time.Duration(b.Duration)*time.Millisecond, b.URL)
		}
		if rep != nil {
			if err := printReport(io, rep.Raw); err != nil {
				return err
			}
		}
	}
	if b.Building || b.Result == "SUCCESS" {
		return nil
	}
	fmt.Fprintf(io.Err, "%s #%d ended %s%s\n", out.Job, b.Number, b.Result, reason(ctx, c, b, rep))
	return errSilent
}

// reason says why a build failed: its report's reason, else the end of its console.
func reason(ctx context.Context, c *master.Client, b *master.BuildInfo, rep *master.Report) string {
	if rep != nil {
		var r struct {
			Reason string `json:"reason"`
		}
		if json.Unmarshal(rep.Raw, &r) == nil && r.Reason != "" {
			return ": " + r.Reason
		}
	}
	chunk, err := c.Log(ctx, b.URL, 0)
	if err != nil {
		return ""
	}
	ls := strings.Split(strings.TrimRight(chunk.Text, "\n"), "\n")
	if len(ls) > 10 {
		ls = ls[len(ls)-10:]
	}
	return "; the end of its console:\n  " + strings.Join(ls, "\n  ")
}

// printReport prints a report as indented JSON, in its own key order.
func printReport(io *streams, raw json.RawMessage) error {
	var b bytes.Buffer
	raw = bytes.TrimSpace(raw)
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		b.Reset()
		b.Write(raw)
	}
	b.WriteByte('\n')
	_, err := io.Out.Write(b.Bytes())
	return err
}

func since(ms int64) string {
	if ms == 0 {
		return "0s"
	}
	return time.Since(time.UnixMilli(ms)).Round(time.Second).String()
}
