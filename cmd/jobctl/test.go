package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/compiler"
	"github.com/jobctl/jobctl/jobs"
	"github.com/jobctl/jobctl/mocks"
)

type testOptions struct {
	Root    *rootOptions
	Pattern string
	Update  bool
	JUnit   string
	JSON    bool
	Groovy  bool
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
also selects every case of the orchestrations it matches.`,
		Example: `  # Run every case
  jobctl test

  # The cases of one orchestration, or some of them
  jobctl test process_upload
  jobctl test 'process_upload/retry*'

  # Also run flow cases through their generated Groovy (needs groovy)
  jobctl test --groovy

  # Record the traces after an intended change; JUnit XML for CI
  jobctl test --update
  jobctl test --junit build/test-results.xml`,
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
			return testRun(cmd, io, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Update, "update", false, "record each case's trace instead of comparing with it")
	cmd.Flags().StringVar(&opts.JUnit, "junit", "", "also write the results as JUnit XML to `FILE`")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the results as JSON")
	cmd.Flags().BoolVar(&opts.Groovy, "groovy", false, "also run flow cases through the generated Groovy, and check both runs agree")
	return cmd
}

// testCaseJSON is one case in the --json output.
type testCaseJSON struct {
	Case       string   `json:"case"`
	File       string   `json:"file"`
	Mode       string   `json:"mode"`
	Passed     bool     `json:"passed"`
	Recorded   bool     `json:"recorded,omitempty"`
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
	r := &mocks.Runner{Root: root, Result: res, Groovy: opts.Groovy, Update: opts.Update}
	results, err := r.Run(cmd.Context(), cases)
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
	failed, recorded := 0, 0
	var out []testCaseJSON
	for _, r := range results {
		if !r.Passed() {
			failed++
		}
		if r.Recorded {
			recorded++
		}
		failures := r.Failures
		if failures == nil {
			failures = []string{}
		}
		out = append(out, testCaseJSON{Case: r.Case.ID(), File: r.Case.File, Mode: string(r.Mode), Passed: r.Passed(),
			Recorded: r.Recorded, Failures: failures, DurationMS: float64(r.Duration.Microseconds()) / 1000})
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
			fmt.Fprintf(io.Out, "%s %s (%s, %s%s)\n", mark, r.Case.ID(), r.Mode, round(r.Duration), note)
			for _, f := range r.Failures {
				fmt.Fprintf(io.Out, "     %s: %s\n", r.Case.File, strings.ReplaceAll(f, "\n", "\n     "))
			}
		}
	}
	summary := fmt.Sprintf("%d cases: %d passed, %d failed", len(results), len(results)-failed, failed)
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
