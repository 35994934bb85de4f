package compiler

import (
	"sort"
	"strconv"
	"strings"

	"github.com/jobctl/jobctl/flow"
	"github.com/jobctl/jobctl/jobs"
	"github.com/jobctl/jobctl/templates"
)

// Noop describes noop builds: every worker's body is replaced by one that
// only writes the report a mock case prescribes for the call, selected by
// the JOBCTL_CASE and JOBCTL_CALL params the orchestration passes down.
//
// A noop build compiles into the project "<project>-noop", so that its
// folder, markers and view never mix with the real jobs. Orchestrations
// compile as usual, but for the JOBCTL_CASE param they take and pass down
// with a per-job call number: they run for real and make their own
// decisions on the reports the noop workers write.
type Noop struct {
	// Reports holds, by worker common name, what each case prescribes.
	// Entries of orchestrations are ignored: orchestrations run for real.
	Reports map[string][]NoopReport
}

// NoopReport is what one call of a worker reports in one case.
type NoopReport struct {
	// Case is "<orchestration>/<case>".
	Case string
	// Call is the 1-based call of the worker in the case's run; 0 means every call.
	Call   int
	Status string
	Reason string
	Data   map[string]any
	// NoReport: in the case, the build leaves no report.json.
	NoReport bool
}

// NoopProjectSuffix ends the project name of a noop build.
const NoopProjectSuffix = "-noop"

// NoopOut is the folder, inside a build folder, that jobctl build --noop
// writes to by default; a real build leaves it alone.
const NoopOut = "noop"

// The params a noop build adds: JOBCTL_CASE to every job, JOBCTL_CALL to
// workers.
const (
	NoopCaseParam = "JOBCTL_CASE"
	NoopCallParam = "JOBCTL_CALL"
)

var (
	noopCaseParam = templates.Param{Type: "string", Name: NoopCaseParam,
		Description: "Noop build: the mock case (<orchestration>/<case>) the noop workers report for. Set by the noop orchestration that calls this job; set it yourself when you trigger an orchestration to replay a case."}
	noopCallParam = templates.Param{Type: "string", Name: NoopCallParam,
		Description: "Noop build: which call of this job in the case's run this is, from 1. Set by the noop orchestration that calls this job."}
)

// noopWorkerCommand renders the shell step of a worker in a noop build: the
// wrapper, with its timeout and required-param checks, around a generated
// body that only reports what the cases prescribe (no lib/sh, no tool
// checks, no retries: a noop call fails or succeeds as prescribed, once).
func (c *compilation) noopWorkerCommand(s *Source, ps *jobs.Problems) (templates.Escaped, bool) {
	j := s.Job
	w := templates.WorkerScript{
		Process: j.Name,
		Source:  s.BodyFile + " (noop)",
		Body:    noopBody(j.Name, s.BodyFile, c.noop.Reports[j.Name]),
		Timeout: j.Timeout,
	}
	for _, p := range j.Params {
		if p.Required {
			w.Required = append(w.Required, p.Name)
		}
	}
	cmd, err := templates.RenderWorkerCommand(w)
	if err != nil {
		ps.Add(j.File, 0, 0, "rendering the noop worker script: %v", err)
		return "", false
	}
	return cmd, true
}

// noopBody returns the bash body of a worker in a noop build. It selects
// the report whose Case is $JOBCTL_CASE and whose Call is $JOBCTL_CALL,
// else the one of that case for every call (Call 0); it writes the data to
// $JOBCTL_REPORT_DATA and, for a status other than SUCCESS, the reason to
// $JOBCTL_REPORT_REASON and fails. Without a report for the call it fails
// with "noop: no mock for call <N> of <job> in case <case>". Every value is
// a single-quoted shell word: nothing in a case name, reason or data is
// ever expanded. The same input gives the same bytes.
func noopBody(job, source string, reports []NoopReport) []byte {
	rs := append([]NoopReport(nil), reports...)
	sort.SliceStable(rs, func(a, b int) bool {
		if rs[a].Case != rs[b].Case {
			return rs[a].Case < rs[b].Case
		}
		return rs[a].Call < rs[b].Call
	})
	// Group by case; of two reports for the same case and call, the first wins.
	type group struct {
		id    string
		calls []NoopReport // Call > 0, ascending
		every *NoopReport  // Call 0
	}
	var groups []*group
	for i := range rs {
		r := &rs[i]
		if r.Call < 0 {
			continue
		}
		if n := len(groups); n == 0 || groups[n-1].id != r.Case {
			groups = append(groups, &group{id: r.Case})
		}
		g := groups[len(groups)-1]
		switch {
		case r.Call == 0 && g.every == nil:
			g.every = r
		case r.Call > 0 && (len(g.calls) == 0 || g.calls[len(g.calls)-1].Call != r.Call):
			g.calls = append(g.calls, *r)
		}
	}

	q := func(s string) string { return templates.QuoteShell(strings.ReplaceAll(s, "\x00", "\uFFFD")) }
	var b strings.Builder
	line := func(indent int, text string) {
		b.WriteString(strings.Repeat("\t", indent))
		b.WriteString(text)
		b.WriteByte('\n')
	}
	call := func(indent int, r *NoopReport) {
		status, reason, data := r.Status, r.Reason, "{}"
		if status == "" {
			status = "SUCCESS"
		}
		if r.Data != nil {
			data = flow.JSON(r.Data)
		}
		switch {
		case r.NoReport && status == "SUCCESS":
			// Offline, a build that ends SUCCESS without a report is a
			// SUCCESS with no data: so it is here.
			reason, data = "", "{}"
		case r.NoReport:
			// Offline, a build without a report ends with its own
			// status and this reason. A noop build always leaves a
			// report, and the wrapper's say FAILURE: the callers see
			// the same reason, a FAILURE and empty data.
			reason, data = job+" ended "+status+" without a report", "{}"
		case status != "SUCCESS" && strings.TrimSpace(reason) == "":
			reason = "noop: " + status
		}
		if status == "SUCCESS" {
			reason = ""
		}
		line(indent, "noop_report "+q(status)+" "+q(reason)+" "+q(data))
	}

	line(0, "#!/usr/bin/env bash")
	line(0, "# jobctl noop build of "+oneLine(job)+": "+oneLine(source)+" does not run.")
	line(0, "# This body only writes the report a mock case prescribes for the call,")
	line(0, "# selected by JOBCTL_CASE (<orchestration>/<case>) and JOBCTL_CALL (the")
	line(0, "# call's number in the run, from 1), which the noop orchestration sets.")
	line(0, "# Generated by jobctl build --noop; do not edit.")
	line(0, "set -u")
	line(0, "noop_job="+q(job))
	line(0, "noop_case=${JOBCTL_CASE-}")
	line(0, "noop_call=${JOBCTL_CALL-}")
	line(0, "")
	line(0, "# noop_report STATUS REASON DATA writes the data and, unless STATUS is")
	line(0, "# SUCCESS, the reason, then ends the body: 0 for SUCCESS, 1 otherwise (a")
	line(0, "# report of the wrapper says SUCCESS or FAILURE).")
	line(0, "noop_report() {")
	line(1, `printf '%s\n' "$3" >"$JOBCTL_REPORT_DATA" || exit 1`)
	line(1, `printf 'noop: call %s of %s in case %s: %s\n' "$noop_call" "$noop_job" "$noop_case" "$1"`)
	line(1, `[[ $1 == SUCCESS ]] && exit 0`)
	line(1, `printf '%s\n' "$2" >"$JOBCTL_REPORT_REASON"`)
	line(1, `printf 'noop: reason: %s\n' "$2"`)
	line(1, "exit 1")
	line(0, "}")
	line(0, "")
	if len(groups) > 0 {
		line(0, "case $noop_case in")
		for _, g := range groups {
			line(0, q(g.id)+")")
			if len(g.calls) == 0 {
				call(1, g.every)
				line(1, ";;")
				continue
			}
			line(1, "case $noop_call in")
			for i := range g.calls {
				line(1, q(strconv.Itoa(g.calls[i].Call))+")")
				call(2, &g.calls[i])
				line(2, ";;")
			}
			if g.every != nil {
				line(1, "*)")
				call(2, g.every)
				line(2, ";;")
			}
			line(1, "esac")
			line(1, ";;")
		}
		line(0, "esac")
		line(0, "")
	}
	var ids []string
	for _, g := range groups {
		ids = append(ids, g.id)
	}
	mocked := "no case mocks " + job
	if len(ids) > 0 {
		mocked = "the cases that mock " + job + ": " + strings.Join(ids, ", ")
	}
	line(0, `noop_reason="noop: no mock for call ${noop_call:-?} of $noop_job in case ${noop_case:-(none)}"`)
	line(0, `printf '%s\n' "$noop_reason" >&2`)
	line(0, "printf '%s\\n' "+q("this is a noop build: it only reports what mock cases prescribe; trigger the orchestration with JOBCTL_CASE=<orchestration>/<case> ("+mocked+")")+" >&2")
	line(0, `printf '%s\n' "$noop_reason" >"$JOBCTL_REPORT_REASON"`)
	line(0, "exit 1")
	return []byte(b.String())
}

// oneLine makes text safe for a comment line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// noopPrelude writes the Groovy a raw pipeline orchestration of a noop
// build starts with, after its imports: build methods that shadow the build
// step (a pipeline script's own methods take precedence over steps) and
// pass JOBCTL_CASE, and the call's number per job as JOBCTL_CALL, to every
// job the script calls, then run the real step.
func noopPrelude(s *script) {
	for _, l := range []string{
		"// --- jobctl noop build ---",
		"// Every build call passes down JOBCTL_CASE, the mock case this run replays,",
		"// and JOBCTL_CALL, the call's number per job from 1, so that the noop",
		"// workers report what the case prescribes. The script's own build methods",
		"// take precedence over the build step, which they call in the end.",
		"@groovy.transform.Field Map jobctlNoopCalls = [:]",
		"",
		"def build(String job) {",
		"  return build(job: job)",
		"}",
		"",
		"def build(Map args) {",
		"  def job = String.valueOf(args.get('job'))",
		"  def n = jobctlNoopCalls.get(job)",
		"  n = n == null ? 1 : n + 1",
		"  jobctlNoopCalls.put(job, n)",
		"  def copy = [:]",
		"  copy.putAll(args)",
		"  def ps = []",
		"  if (args.get('parameters') != null) {",
		"    ps.addAll(args.get('parameters'))",
		"  }",
		"  ps.add(string(name: 'JOBCTL_CASE', value: params.JOBCTL_CASE ?: ''))",
		"  ps.add(string(name: 'JOBCTL_CALL', value: String.valueOf(n)))",
		"  copy.put('parameters', ps)",
		"  return steps.build(copy)",
		"}",
	} {
		s.gen(l)
	}
}
