package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/compiler"
	"github.com/jobctl/jobctl/jobs"
	"github.com/jobctl/jobctl/mocks"
)

type buildOptions struct {
	Root   *rootOptions
	Out    string
	Locked bool
	JSON   bool
	Noop   bool
}

func newBuildCmd(io *streams, root *rootOptions) *cobra.Command {
	opts := &buildOptions{Root: root}
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Compile the job repository into versioned Jenkins job definitions",
		Long: `Compile every job under jobs/ into a Jenkins job definition named
<name>-v<N>-<hash> and write them, with a manifest, to build/.

The hash covers everything that decides a job's behaviour, including the
deployed names of the jobs it calls; N comes from jobctl.lock, which build
updates: an unchanged hash keeps its version, a new hash gets the next one.
Commit jobctl.lock. With --locked, build fails instead of changing it.

With --noop, build compiles a noop build instead, into build/noop/ and
the project <project>-noop, so that it never mixes with the real jobs:
orchestrations as usual, workers into bodies that only write the report
a mock case (mocks/<orchestration>/<case>.yaml) prescribes for the call.
Deploy it and trigger an orchestration with JOBCTL_CASE=<orchestration>/<case>:
it passes the case down with every call, and runs on a real master in
seconds, making the decisions the offline case makes. A noop build never
writes jobctl.lock; its versions count on from the lock's.`,
		Example: `  # Compile the repository in the current folder
  jobctl build

  # Compile another repository, writing the definitions elsewhere
  jobctl build -C examples/modelshop --out /tmp/modelshop-build

  # In CI: fail if jobctl.lock is not up to date
  jobctl build --locked

  # Machine-readable summary
  jobctl build --json

  # A noop build, to replay the mock cases on a master (into build/noop/)
  jobctl build --noop`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return buildRun(io, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Out, "out", "", "write the definitions to `DIR` (default: build/ in the job repository)")
	cmd.Flags().BoolVar(&opts.Locked, "locked", false, "fail instead of updating jobctl.lock (for CI)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as JSON")
	cmd.Flags().BoolVar(&opts.Noop, "noop", false, "build workers that only report what the mock cases prescribe, into build/noop/ (never writes jobctl.lock)")
	return cmd
}

// buildSummary is the --json output of jobctl build.
type buildSummary struct {
	Project string     `json:"project"`
	Noop    bool       `json:"noop,omitempty"`
	Out     string     `json:"out"`
	Jobs    []buildJob `json:"jobs"`
}

type buildJob struct {
	Name     string      `json:"name"`
	Kind     jobs.Kind   `json:"kind"`
	Deployed string      `json:"deployed"`
	Version  int         `json:"version"`
	Hash     string      `json:"hash"`
	Status   jobs.Status `json:"status"`
}

func buildRun(io *streams, opts *buildOptions) error {
	root, err := findRoot(opts.Root.Dir)
	if err != nil {
		return err
	}
	repo, err := compiler.Load(root)
	if err != nil {
		return err
	}
	lock, err := jobs.ReadLock(root)
	if err != nil {
		return err
	}
	res, err := compiler.Compile(repo, lock, compiler.Options{})
	if err != nil {
		return err
	}
	if opts.Locked && !res.Lock.Equal(lock) {
		return lockOutOfDate(res, lock)
	}
	if opts.Noop {
		return buildNoop(io, opts, root, repo, lock, res)
	}
	out := opts.Out
	if out == "" {
		out = filepath.Join(root, "build")
	}
	if err := res.Write(out); err != nil {
		return err
	}
	if !opts.Locked {
		if err := res.Lock.Write(root); err != nil {
			return fmt.Errorf("writing %s: %w", jobs.LockFile, err)
		}
	}

	counts, err := printBuild(io, opts, res, out)
	if err != nil || opts.JSON {
		return err
	}
	fmt.Fprintf(io.Err, "built %d jobs of %s into %s (%d new, %d changed, %d unchanged)\n",
		len(res.Defs), res.Project.Name, out, counts[jobs.New], counts[jobs.Changed], counts[jobs.Unchanged])
	return nil
}

// printBuild prints a build as a table or, with --json, as JSON, and
// returns how many definitions have each status.
func printBuild(io *streams, opts *buildOptions, res *compiler.Result, out string) (map[jobs.Status]int, error) {
	summary := buildSummary{Project: res.Project.Name, Noop: opts.Noop, Out: out, Jobs: []buildJob{}}
	counts := map[jobs.Status]int{}
	for _, d := range res.Defs {
		summary.Jobs = append(summary.Jobs, buildJob{Name: d.Job.Name, Kind: d.Job.Kind, Deployed: d.Deployed, Version: d.Version, Hash: d.Hash, Status: d.Status})
		counts[d.Status]++
	}
	if opts.JSON {
		enc := json.NewEncoder(io.Out)
		enc.SetIndent("", "  ")
		return counts, enc.Encode(summary)
	}
	tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tDEPLOYED\tSTATUS")
	for _, j := range summary.Jobs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", j.Name, j.Kind, j.Deployed, j.Status)
	}
	return counts, tw.Flush()
}

// buildNoop compiles and writes the noop build of a repository, given its
// real build res (which tells which jobs and cases there are). It never
// writes the lock: the noop build's versions are assigned from lock but
// belong to no real job.
func buildNoop(io *streams, opts *buildOptions, root string, repo *compiler.Repo, lock *jobs.Lock, res *compiler.Result) error {
	cases, err := mocks.Load(root, res, "")
	if err != nil {
		return err
	}
	if len(cases) == 0 {
		return fmt.Errorf("--noop: %s has no mock cases (%s/<orchestration>/<case>.yaml); a noop build replays them", root, mocks.Dir)
	}
	noop, err := compiler.Compile(repo, lock, compiler.Options{Noop: mocks.NoopTable(cases)})
	if err != nil {
		return err
	}
	out := opts.Out
	if out == "" {
		out = filepath.Join(root, "build", compiler.NoopOut)
	}
	if err := noop.Write(out); err != nil {
		return err
	}
	if _, err := printBuild(io, opts, noop, out); err != nil {
		return err
	}
	fmt.Fprintf(io.Err, "built the noop build of %s (%d jobs, %d cases) into %s, as project %s; jobctl.lock is left as it is\n",
		res.Project.Name, len(noop.Defs), len(cases), out, noop.Project.Name)
	fmt.Fprintf(io.Err, "to replay a case, deploy it and trigger the orchestration with JOBCTL_CASE=<orchestration>/<case>, e.g. JOBCTL_CASE=%s\n", cases[0].ID())
	for _, c := range cases {
		var orch []string
		for name := range c.Mocks {
			if d := res.Def(name); d != nil && d.Job.Kind == jobs.Orchestration {
				orch = append(orch, name)
			}
		}
		if len(orch) > 0 {
			sort.Strings(orch)
			fmt.Fprintf(io.Err, "note: case %s mocks %s, which a noop build runs for real: the workers they call have no mock in the case and fail, so its replay differs from jobctl test\n",
				c.ID(), strings.Join(orch, ", "))
		}
	}
	return nil
}

// lockOutOfDate explains, job by job, how the lock would change.
func lockOutOfDate(res *compiler.Result, old *jobs.Lock) error {
	var lines []string
	for _, d := range res.Defs {
		switch d.Status {
		case jobs.New:
			lines = append(lines, fmt.Sprintf("  %s: not in the lock (would be v%d %s)", d.Job.Name, d.Version, d.Hash))
		case jobs.Changed:
			prev, _ := old.Get(d.Job.Name)
			lines = append(lines, fmt.Sprintf("  %s: changed, v%d %s would become v%d %s", d.Job.Name, prev.Version, prev.Hash, d.Version, d.Hash))
		}
	}
	for _, n := range old.Names() {
		if res.Def(n) == nil {
			lines = append(lines, fmt.Sprintf("  %s: in the lock but no longer in jobs/", n))
		}
	}
	return &jobs.InputError{Problems: []*jobs.Problem{{
		File: jobs.LockFile,
		Msg:  "out of date, and --locked forbids updating it:\n" + strings.Join(lines, "\n") + "\nrun jobctl build without --locked and commit jobctl.lock",
	}}}
}

// findRoot returns the job repository: dir when given, otherwise the
// nearest folder from the current one upwards that holds jobctl.yaml.
func findRoot(dir string) (string, error) {
	if dir != "" {
		fi, err := os.Stat(dir)
		if err != nil || !fi.IsDir() {
			return "", &usageError{err: fmt.Errorf("-C %s: not a folder", dir)}
		}
		return dir, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, jobs.ProjectFile)); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return wd, nil // ReadProject says what is missing
		}
	}
}
