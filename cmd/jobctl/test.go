package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/compiler"
	"github.com/jobctl/jobctl/jobs"
	"github.com/jobctl/jobctl/master"
	"github.com/jobctl/jobctl/mocks"
)

type testOptions struct {
	Root    *rootOptions
	Pattern string
	Update  bool
	JUnit   string
	JSON    bool
	Groovy  bool

	// Master, when set (Changed), replays the cases on a master.
	Master      string
	OnMaster    bool
	Concurrency int
	CaseTimeout time.Duration
	Timeout     time.Duration
}

func newTestCmd(io *streams, root *rootOptions) *cobra.Command {
	opts := &testOptions{Root: root}
	cmd := &cobra.Command{
		Use:   "test [PATTERN]",
		Short: "Run the orchestrations' test cases offline, against mocked jobs",
		Long: `Run every case under mocks/<orchestration>/<case>.yaml without a Jenkins
master: the orchestration runs with the params the case gives, every job
it calls returns what the case mocks, and the case's expectations (the
calls made, the calls that must not happen, the final status and report
data) are checked.

Flow orchestrations run in jobctl's interpreter; raw Groovy orchestrations
run their compiled script under groovy with a mocked step library, all
cases in one JVM. Each case's call trace is kept next to it as
<case>.trace.yaml: a run that differs from it fails, and --update records
it again.

PATTERN is a glob over <orchestration>/<case>; a pattern without a /
also selects every case of the orchestrations it matches.

With --master URL, the cases run as real builds on a master instead: the
noop build of the repository (as jobctl build --noop makes it, without
writing anything) is deployed to its own folder <project>-noop, never
touching the project's folder, and each case triggers its orchestration's
latest noop version with the case's params and JOBCTL_CASE=<case>,
up to --concurrency cases at once. The orchestration's result and report
and the builds of the jobs it called for the case (in queue order) are
checked against the case's expectations, with two differences: a master
does not know a call's phase, so expected phases are not checked, and
steps that run concurrently are queued in any order, so the expected
calls are matched in any order. The recorded traces are not compared
(their order of concurrent steps is not the master's). A noop worker that
fails with no reason reports "noop: <status>", so a case expecting an
empty reason from it sees that instead. Cases a noop build cannot replay
(sh mocks of raw Groovy orchestrations, mocks of orchestrations) are
skipped, with the reason. Credentials come from JENKINS_USER and
JENKINS_API_TOKEN; --master '' uses $JENKINS_URL (else ` + master.DefaultURL + `).`,
		Example: `  # Run every case
  jobctl test

  # The cases of one orchestration, or some of them
  jobctl test process_upload
  jobctl test 'process_upload/retry*'

  # Also run flow cases through their generated Groovy (needs groovy)
  jobctl test --groovy

  # Record the traces after an intended change; JUnit XML for CI
  jobctl test --update
  jobctl test --junit build/test-results.xml

  # Replay every case as real builds on the local master
  jobctl test --master http://127.0.0.1:8080/`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 1 {
				return fmt.Errorf("test takes at most one PATTERN, got %q", args)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Pattern = args[0]
			}
			opts.OnMaster = cmd.Flags().Changed("master")
			if opts.OnMaster {
				switch {
				case opts.Update:
					return &usageError{cmd: "test", err: fmt.Errorf("--update records offline traces; it cannot be used with --master")}
				case opts.Groovy:
					return &usageError{cmd: "test", err: fmt.Errorf("--groovy is an offline run; it cannot be used with --master")}
				case opts.Concurrency < 1:
					return &usageError{cmd: "test", err: fmt.Errorf("--concurrency must be at least 1, got %d", opts.Concurrency)}
				case opts.CaseTimeout <= 0:
					return &usageError{cmd: "test", err: fmt.Errorf("--case-timeout must be positive, got %s", opts.CaseTimeout)}
				}
			}
			return testRun(cmd, io, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Update, "update", false, "record each case's trace instead of comparing with it")
	cmd.Flags().StringVar(&opts.JUnit, "junit", "", "also write the results as JUnit XML to `FILE`")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the results as JSON")
	cmd.Flags().BoolVar(&opts.Groovy, "groovy", false, "also run flow cases through the generated Groovy, and check both runs agree")
	cmd.Flags().StringVar(&opts.Master, "master", "", "replay the cases as real builds of the noop build on the master at `URL` ('' for $JENKINS_URL)")
	cmd.Flags().IntVar(&opts.Concurrency, "concurrency", 4, "with --master, run up to `N` cases at once")
	cmd.Flags().DurationVar(&opts.CaseTimeout, "case-timeout", 5*time.Minute, "with --master, fail a case that has not ended within `DURATION`")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 30*time.Second, "with --master, bound each HTTP request to `DURATION`")
	return cmd
}

// testCaseJSON is one case in the --json output.
type testCaseJSON struct {
	Case       string   `json:"case"`
	File       string   `json:"file"`
	Mode       string   `json:"mode"`
	Passed     bool     `json:"passed"`
	Recorded   bool     `json:"recorded,omitempty"`
	Skipped    string   `json:"skipped,omitempty"`
	Failures   []string `json:"failures"`
	DurationMS float64  `json:"duration_ms"`
}

func testRun(cmd *cobra.Command, io *streams, opts *testOptions) error {
	if _, err := filepath.Match(opts.Pattern, "x"); err != nil {
		return &usageError{cmd: "test", err: fmt.Errorf("bad PATTERN %q: %v", opts.Pattern, err)}
	}
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
	cases, err := mocks.Load(root, res, opts.Pattern)
	if err != nil {
		return err
	}
	if len(cases) == 0 {
		if opts.Pattern != "" {
			return fmt.Errorf("no case matches %q; cases live in mocks/<orchestration>/<case>.yaml", opts.Pattern)
		}
		fmt.Fprintln(io.Err, "no test cases: add some under mocks/<orchestration>/<case>.yaml")
		return nil
	}
	start := time.Now()
	var results []*mocks.CaseResult
	if opts.OnMaster {
		results, err = testOnMaster(cmd.Context(), io, opts, root, repo, lock, res, cases)
	} else {
		r := &mocks.Runner{Root: root, Result: res, Groovy: opts.Groovy, Update: opts.Update}
		results, err = r.Run(cmd.Context(), cases)
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(start)

	if opts.JUnit != "" {
		var b strings.Builder
		if err := mocks.WriteJUnit(&b, results); err != nil {
			return err
		}
		if err := jobs.WriteFileAtomic(opts.JUnit, []byte(b.String()), 0o644); err != nil {
			return fmt.Errorf("writing the JUnit report: %w", err)
		}
	}
	failed, recorded, skipped := 0, 0, 0
	var out []testCaseJSON
	for _, r := range results {
		if !r.Passed() {
			failed++
		}
		if r.Skipped != "" {
			skipped++
		}
		if r.Recorded {
			recorded++
		}
		failures := r.Failures
		if failures == nil {
			failures = []string{}
		}
		out = append(out, testCaseJSON{Case: r.Case.ID(), File: r.Case.File, Mode: string(r.Mode), Passed: r.Passed(),
			Recorded: r.Recorded, Skipped: r.Skipped, Failures: failures, DurationMS: float64(r.Duration.Microseconds()) / 1000})
	}
	if opts.JSON {
		enc := json.NewEncoder(io.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		for _, r := range results {
			mark := "ok  "
			if !r.Passed() {
				mark = "FAIL"
			}
			note := ""
			if r.Recorded {
				note = ", trace recorded"
			}
			if r.Skipped != "" {
				fmt.Fprintf(io.Out, "skip %s (%s): %s\n", r.Case.ID(), r.Mode, r.Skipped)
				continue
			}
			fmt.Fprintf(io.Out, "%s %s (%s, %s%s)\n", mark, r.Case.ID(), r.Mode, round(r.Duration), note)
			for _, f := range r.Failures {
				fmt.Fprintf(io.Out, "     %s: %s\n", r.Case.File, strings.ReplaceAll(f, "\n", "\n     "))
			}
		}
	}
	summary := fmt.Sprintf("%d cases: %d passed, %d failed", len(results), len(results)-failed-skipped, failed)
	if skipped > 0 {
		summary += fmt.Sprintf(", %d skipped", skipped)
	}
	if recorded > 0 {
		summary += fmt.Sprintf(", %d traces recorded", recorded)
	}
	fmt.Fprintf(io.Err, "%s in %s\n", summary, round(elapsed))
	if failed > 0 {
		return errSilent
	}
	return nil
}

func round(d time.Duration) time.Duration {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond)
	case d < time.Second:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Millisecond)
}

// testOnMaster deploys the noop build of the repository to its own folder
// on the master and replays the cases there.
func testOnMaster(ctx context.Context, io *streams, opts *testOptions, root string, repo *compiler.Repo, lock *jobs.Lock, res *compiler.Result, cases []*mocks.Case) ([]*mocks.CaseResult, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	// The noop build holds every case, whichever are run, so that it
	// deploys the same versions whatever the PATTERN.
	all, err := mocks.Load(root, res, "")
	if err != nil {
		return nil, err
	}
	noop, err := compiler.Compile(repo, lock, compiler.Options{Noop: mocks.NoopTable(all)})
	if err != nil {
		return nil, err
	}
	cfg := master.ConfigFromEnv(opts.Master)
	cfg.Timeout = opts.Timeout
	client, err := master.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	plan, err := client.PlanDeploy(ctx, master.FromResult(noop), time.Now())
	if err != nil {
		return nil, err
	}
	if !plan.OK() {
		printPlan(io, plan)
		return nil, fmt.Errorf("deploying the noop build to %s: nothing deployed", plan.Folder)
	}
	result, err := client.Apply(ctx, plan, master.ApplyOptions{Concurrency: 8})
	if err != nil {
		return nil, fmt.Errorf("deploying the noop build to %s: %w", plan.Folder, err)
	}
	created := 0
	for _, j := range result.Jobs {
		if j.Verb == master.Created {
			created++
		}
	}
	fmt.Fprintf(io.Err, "deployed the noop build to %s%s: %d created, %d unchanged; phases and the recorded traces are not checked on a master\n",
		client.URL(), plan.Folder, created, len(result.Jobs)-created)
	r := &mocks.MasterRunner{Client: client, Result: res, Noop: noop, Concurrency: opts.Concurrency, Timeout: opts.CaseTimeout}
	return r.Run(ctx, cases)
}
