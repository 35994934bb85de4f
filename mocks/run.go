package mocks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jobctl/jobctl/compiler"
	"github.com/jobctl/jobctl/flow"
	"github.com/jobctl/jobctl/jobs"
	"github.com/jobctl/jobctl/mocks/harness"
)

// Load reads and checks every case file of a compiled repository whose
// id ("<job>/<case>") matches pattern (see Match; "" matches all). Every
// problem in every file is reported together in one *jobs.InputError.
func Load(root string, res *compiler.Result, pattern string) ([]*Case, error) {
	var names []string
	byName := map[string]*compiler.Definition{}
	for _, d := range res.Defs {
		names = append(names, d.Name())
		byName[d.Name()] = d
	}
	sort.Strings(names)
	var ps jobs.Problems
	isOrch := func(n string) bool { d := byName[n]; return d != nil && d.Job.Kind == jobs.Orchestration }
	files, err := CaseFiles(root, isOrch, names, &ps)
	if err != nil {
		return nil, err
	}
	lookup := func(n string) (*jobs.Job, bool) {
		if d := byName[n]; d != nil {
			return d.Job, true
		}
		return nil, false
	}
	var selected []string
	for _, f := range files {
		if Match(pattern, path.Base(path.Dir(f)), strings.TrimSuffix(path.Base(f), ".yaml")) {
			selected = append(selected, f)
		}
	}
	parsed := make([]*Case, len(selected))
	perFile := make([]jobs.Problems, len(selected))
	parallel(len(selected), func(i int) {
		f := selected[i]
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f)))
		if err != nil {
			perFile[i].Add(f, 0, 0, "%v", err)
			return
		}
		d := byName[path.Base(path.Dir(f))]
		t := Target{Job: d.Job, Calls: d.Calls, Lookup: lookup, Names: names, Groovy: d.Flow == nil}
		parsed[i] = ParseCase(f, data, t, &perFile[i])
	})
	var cases []*Case
	for i := range selected {
		ps.Merge(&perFile[i])
		if parsed[i] != nil {
			cases = append(cases, parsed[i])
		}
	}
	if err := ps.Err(); err != nil {
		return nil, err
	}
	return cases, nil
}

// Match reports whether a case matches a pattern: a glob (path.Match)
// over "<job>/<case>"; a pattern without '/' also matches every case of
// a job it matches. The empty pattern matches everything.
func Match(pattern, job, name string) bool {
	if pattern == "" {
		return true
	}
	if ok, _ := path.Match(pattern, job+"/"+name); ok {
		return true
	}
	if !strings.Contains(pattern, "/") {
		ok, _ := path.Match(pattern, job)
		return ok
	}
	return false
}

// Mode is how a case ran.
type Mode string

const (
	// ModeFlow: a flow case in the Go interpreter.
	ModeFlow Mode = "flow"
	// ModeGroovy: a raw Groovy case under groovy with mocked steps.
	ModeGroovy Mode = "groovy"
)

// CaseResult is the result of one case.
type CaseResult struct {
	Case *Case
	Mode Mode
	// Trace is what happened; nil when the case could not run.
	Trace *Trace
	// Failures say what differs from the expectations, one per message;
	// none means the case passed.
	Failures []string
	// Recorded is set when the golden trace was written (--update).
	Recorded bool
	// Skipped, when set, says why the case was not run (a master run
	// cannot replay it); a skipped case has no trace and no failures.
	Skipped string
	// Duration is how long the run took (a share of the JVM's run for Groovy cases).
	Duration time.Duration
}

// Passed reports whether the case passed.
func (r *CaseResult) Passed() bool { return len(r.Failures) == 0 }

// Runner runs cases against a compiled repository.
type Runner struct {
	Root   string
	Result *compiler.Result
	// Groovy also runs every flow case through its generated Groovy and
	// checks that it makes the same calls and ends the same way.
	Groovy bool
	// Update writes every golden trace instead of comparing with it.
	Update bool
}

// Run runs every case: flow cases in the Go interpreter, raw Groovy cases
// (and, with Groovy, flow cases again) in one groovy process. An error
// means the run itself failed (groovy missing, the JVM crashed); failed
// cases are results.
func (r *Runner) Run(ctx context.Context, cases []*Case) ([]*CaseResult, error) {
	out := make([]*CaseResult, len(cases))
	parallel(len(cases), func(i int) {
		c := cases[i]
		d := r.Result.Def(c.Job)
		if d.Flow == nil {
			out[i] = &CaseResult{Case: c, Mode: ModeGroovy}
			return
		}
		start := time.Now()
		tr, err := r.runFlow(ctx, c, d)
		out[i] = &CaseResult{Case: c, Mode: ModeFlow, Trace: tr, Duration: time.Since(start)}
		if err != nil {
			out[i].Failures = []string{err.Error()}
		}
	})
	var gcases []harness.Case
	var gidx []int // case index of each groovy run
	for i, c := range cases {
		d := r.Result.Def(c.Job)
		if d.Flow == nil || r.Groovy {
			gcases = append(gcases, r.groovyCase(c, d))
			gidx = append(gidx, i)
		}
	}
	if len(gcases) > 0 {
		start := time.Now()
		results, err := harness.RunGroovy(ctx, gcases)
		if errors.Is(err, harness.ErrNoGroovy) {
			// Flow cases still ran; each Groovy run fails with the hint.
			for _, i := range gidx {
				out[i].Failures = append(out[i].Failures, err.Error())
				if out[i].Mode == ModeGroovy {
					out[i].Trace = nil
				}
			}
			results = nil
		} else if err != nil {
			return nil, err
		}
		share := time.Since(start) / time.Duration(len(gcases))
		if results == nil {
			share = 0
		}
		for k, gr := range results {
			res := out[gidx[k]]
			d := r.Result.Def(res.Case.Job)
			tr, fault := groovyTrace(gr, d)
			if res.Mode == ModeGroovy {
				res.Duration = share
				if fault != "" {
					// The case could not run to its end: nothing else to compare.
					res.Failures = append(res.Failures, fault)
					continue
				}
				res.Trace = tr
				continue
			}
			// A flow case, run again through its generated Groovy.
			switch {
			case fault != "":
				res.Failures = append(res.Failures, "the generated Groovy: "+fault)
			case res.Trace != nil:
				g, f := res.Trace.Golden(res.Case.File), tr.Golden(res.Case.File)
				if !bytes.Equal(g, f) {
					res.Failures = append(res.Failures, "the generated Groovy and the flow interpreter disagree (-interpreter +groovy):\n"+indent(lineDiff(string(g), string(f))))
				}
			}
		}
	}
	parallel(len(out), func(i int) {
		res := out[i]
		if res.Trace == nil {
			return
		}
		res.Failures = append(res.Failures, Check(res.Case, res.Trace)...)
		if msg := r.golden(res); msg != "" {
			res.Failures = append(res.Failures, msg)
		}
	})
	return out, nil
}

// golden compares the trace with the case's golden file, or writes it.
func (r *Runner) golden(res *CaseResult) string {
	file := res.Case.TraceFile()
	now := res.Trace.Golden(res.Case.File)
	abs := filepath.Join(r.Root, filepath.FromSlash(file))
	if r.Update {
		old, err := os.ReadFile(abs)
		if err == nil && bytes.Equal(old, now) {
			return ""
		}
		if err := jobs.WriteFileAtomic(abs, now, 0o644); err != nil {
			return fmt.Sprintf("writing the trace: %v", err)
		}
		res.Recorded = true
		return ""
	}
	old, err := os.ReadFile(abs)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Sprintf("no recorded trace %s: check the trace below and record it with jobctl test --update\n%s", file, indent(string(now)))
	case err != nil:
		return fmt.Sprintf("reading the recorded trace: %v", err)
	case !bytes.Equal(old, now):
		return fmt.Sprintf("the run differs from the recorded trace %s (-recorded +now); if the change is intended, record it with jobctl test --update:\n%s", file, indent(lineDiff(string(old), string(now))))
	}
	return ""
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n    ")
}

// runFlow runs a flow case in the Go interpreter.
func (r *Runner) runFlow(ctx context.Context, c *Case, d *compiler.Definition) (*Trace, error) {
	ex := &executor{c: c, counts: map[string]int{}, trace: &Trace{}}
	out, err := flow.Run(ctx, d.Flow, d.Job, ResolveParams(d.Job, c.Params), ex, flow.Options{})
	if err != nil {
		return nil, err
	}
	ex.trace.Outcome = Outcome{Status: out.Status, Reason: out.Reason, Data: out.Data}
	return ex.trace, nil
}

// executor answers a flow's calls from a case's mocks and records them.
type executor struct {
	c      *Case
	counts map[string]int
	trace  *Trace
}

func (e *executor) Execute(_ context.Context, call flow.Call) (flow.Result, error) {
	e.counts[call.Job]++
	n := e.counts[call.Job]
	res, err := e.c.next(call.Job, n)
	if err != nil {
		return flow.Result{}, fmt.Errorf("%s: step %s (phase %s): %v", e.c.File, call.Step, call.Phase, err)
	}
	params := make(map[string]string, len(call.Params))
	for _, p := range call.Params {
		params[p.Name] = p.Value
	}
	e.trace.Calls = append(e.trace.Calls, Call{Phase: call.Phase, Job: call.Job, Params: params, Result: res.Status})
	if res.NoReport {
		return flow.Result{Status: res.Status, Reason: call.Job + " ended " + res.Status + " without a report"}, nil
	}
	data := res.Data
	if data == nil {
		data = map[string]any{} // a report always has a data object
	}
	return flow.Result{Status: res.Status, Reason: res.Reason, Data: data}, nil
}

// next is the mocked result of call n (from 1) of job.
func (c *Case) next(job string, n int) (*Result, error) {
	m := c.Mocks[job]
	switch {
	case m == nil:
		return nil, fmt.Errorf("call %d of %s has no mock: add %s to the case's mocks", n, job, job)
	case m.Every:
		return m.Results[0], nil
	case n > len(m.Results):
		return nil, fmt.Errorf("%s was called %d times but the case mocks only %d results", job, n, len(m.Results))
	}
	return m.Results[n-1], nil
}

// groovyCase is a case as the harness runs it: the compiled script, the
// params as the master passes them, and the mocks.
func (r *Runner) groovyCase(c *Case, d *compiler.Definition) harness.Case {
	folder := r.Result.Project.Name
	hc := harness.Case{
		ID:         c.ID(),
		ScriptName: "WorkflowScript",
		Script:     d.Script,
		Params:     ResolveParams(d.Job, c.Params),
		Env: map[string]string{
			"JOB_NAME":      folder + "/" + d.Deployed,
			"JOB_BASE_NAME": d.Deployed,
			"BUILD_NUMBER":  "1",
			"BUILD_ID":      "1",
			"BUILD_URL":     "http://jenkins.invalid/job/" + folder + "/job/" + d.Deployed + "/1/",
		},
		Folder: folder,
		Jobs:   map[string]string{},
		Builds: map[string]harness.Builds{},
	}
	if _, declared := d.Job.Param(compiler.ReportReturnURL); !declared && d.Flow != nil {
		hc.Params[compiler.ReportReturnURL] = ""
	}
	for _, def := range r.Result.Defs {
		hc.Jobs[def.Deployed] = def.Name()
	}
	for name, m := range c.Mocks {
		b := harness.Builds{Every: m.Every}
		for _, res := range m.Results {
			var data any
			if res.Data != nil {
				data = res.Data
			}
			b.Results = append(b.Results, harness.BuildResult{Status: res.Status, Reason: res.Reason, Data: data, Report: !res.NoReport})
		}
		hc.Builds[name] = b
	}
	for _, s := range c.Sh {
		hc.Sh = append(hc.Sh, harness.Sh{Command: s.Command, Regex: s.Regex, Stdout: s.Stdout, Status: s.Status})
	}
	if d.Flow != nil {
		// The flow's callback to REPORT_RETURN_URL succeeds.
		hc.Sh = append(hc.Sh, harness.Sh{Command: compiler.FlowCallbackCommand})
	}
	return hc
}

var faultLineRE = regexp.MustCompile(`^line \d+: `)

// groovyTrace turns a harness result into a trace; fault is a failure of
// the case itself (an unmocked call, an unknown step), located in the
// source through the line map.
func groovyTrace(gr harness.Result, d *compiler.Definition) (*Trace, string) {
	tr := &Trace{}
	for _, c := range gr.Calls {
		tr.Calls = append(tr.Calls, Call{Phase: c.Phase, Job: c.Job, Params: c.Params, Result: c.Result})
	}
	for _, s := range gr.ShCalls {
		if d.Flow != nil && s.Command == compiler.FlowCallbackCommand {
			continue // jobctl's own callback, not part of the flow's decisions
		}
		tr.Sh = append(tr.Sh, ShCall{Command: s.Command, Status: s.Status})
	}
	tr.Outcome.Status = gr.Result
	tr.Outcome.Data = map[string]any{}
	if gr.Report != nil {
		tr.Outcome.Reason, _ = gr.Report["reason"].(string)
		if data, ok := gr.Report["data"].(map[string]any); ok {
			tr.Outcome.Data = normalizeJSON(data).(map[string]any)
		}
	} else {
		tr.Outcome.Reason = gr.Error
	}
	if gr.Fault != "" {
		msg := faultLineRE.ReplaceAllString(gr.Fault, "")
		return tr, where(d, gr.FaultLine) + msg
	}
	return tr, ""
}

// where locates a line of a compiled script in its source, "file:line: ".
func where(d *compiler.Definition, line int) string {
	if line <= 0 {
		return ""
	}
	if d.LineMap != nil {
		if file, l, ok := d.LineMap.Lookup(line); ok {
			return file + ":" + strconv.Itoa(l) + ": "
		}
	}
	return fmt.Sprintf("line %d of the generated script of %s: ", line, d.Name())
}

// parallel calls f(0) … f(n-1) on as many goroutines as there are CPUs.
func parallel(n int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := min(n, runtime.GOMAXPROCS(0)); w > 0; w-- {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		}()
	}
	wg.Wait()
}

// normalizeJSON makes every number a float64, as flow values are.
func normalizeJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeJSON(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalizeJSON(e)
		}
		return x
	case float64:
		return x
	case int:
		return float64(x)
	case int64:
		return float64(x)
	}
	return v
}

// Check compares a trace with a case's expectations and returns one
// message per difference.
func Check(c *Case, tr *Trace) []string {
	var msgs []string
	e := c.Expect
	o := tr.Outcome
	if e.Status != "" && o.Status != e.Status {
		msg := fmt.Sprintf("status: want %s, got %s", e.Status, o.Status)
		if o.Reason != "" {
			msg += " (reason: " + o.Reason + ")"
		}
		msgs = append(msgs, msg)
	}
	if e.Reason != nil && o.Reason != *e.Reason {
		msgs = append(msgs, fmt.Sprintf("reason: want %q, got %q", *e.Reason, o.Reason))
	}
	if e.ReasonContains != "" && !strings.Contains(o.Reason, e.ReasonContains) {
		msgs = append(msgs, fmt.Sprintf("reason: want it to contain %q, got %q", e.ReasonContains, o.Reason))
	}
	for _, k := range sortedKeys(e.Data) {
		got, ok := o.Data[k]
		want := e.Data[k]
		switch {
		case !ok:
			msgs = append(msgs, fmt.Sprintf("data.%s: want %s, got nothing", k, flow.JSON(want)))
		case !reflect.DeepEqual(normalizeJSON(want), normalizeJSON(got)):
			msgs = append(msgs, fmt.Sprintf("data.%s: want %s, got %s", k, flow.JSON(want), flow.JSON(got)))
		}
	}
	if e.HasCalls {
		if msg := checkCalls(e.Calls, tr.Calls); msg != "" {
			msgs = append(msgs, msg)
		}
	}
	for _, job := range e.NotCalled {
		for _, call := range tr.Calls {
			if call.Job == job {
				msgs = append(msgs, fmt.Sprintf("%s must not be called, but was: %s", job, call))
				break
			}
		}
	}
	return msgs
}

// checkCalls compares the calls made with the expected ones, in order.
func checkCalls(want []ExpectCall, got []Call) string {
	var problems []string
	for i := 0; i < max(len(want), len(got)); i++ {
		switch {
		case i >= len(got):
			problems = append(problems, fmt.Sprintf("call %d: want %s, got no call", i+1, describeExpected(want[i])))
		case i >= len(want):
			problems = append(problems, fmt.Sprintf("call %d: want no more calls, got %s", i+1, got[i]))
		default:
			if msg := matchCall(want[i], got[i]); msg != "" {
				problems = append(problems, fmt.Sprintf("call %d: %s", i+1, msg))
			}
		}
	}
	if len(problems) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("calls differ:\n")
	for _, p := range problems {
		b.WriteString("    " + p + "\n")
	}
	b.WriteString("  the calls made:")
	if len(got) == 0 {
		b.WriteString(" none")
	}
	for i, c := range got {
		fmt.Fprintf(&b, "\n    %d. %s", i+1, c)
	}
	return b.String()
}

func describeExpected(w ExpectCall) string {
	s := w.Job
	if w.Phase != "" {
		s += " [" + w.Phase + "]"
	}
	return s
}

func matchCall(w ExpectCall, g Call) string {
	if w.Job != g.Job {
		return fmt.Sprintf("want %s, got %s", describeExpected(w), g)
	}
	if w.Phase != "" && w.Phase != g.Phase {
		return fmt.Sprintf("want %s in phase %s, got it in phase %q", w.Job, w.Phase, g.Phase)
	}
	var diffs []string
	for _, k := range sortedKeys(w.Params) {
		v, ok := g.Params[k]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s: want %q, not passed", k, w.Params[k]))
		case v != w.Params[k]:
			diffs = append(diffs, fmt.Sprintf("%s: want %q, got %q", k, w.Params[k], v))
		}
	}
	if len(diffs) > 0 {
		return w.Job + " params differ: " + strings.Join(diffs, "; ")
	}
	return ""
}
