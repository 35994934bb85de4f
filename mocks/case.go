package mocks

import (
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/jobctl/jobctl/jobs"
)

// Case is one test case of an orchestration: mocks/<job>/<name>.yaml.
type Case struct {
	// File is the case file, relative to the repository root.
	File string
	// Job is the orchestration's common name; Name the case's name.
	Job, Name   string
	Description string
	// Params are the params given, as written (strings, booleans, numbers).
	Params map[string]any
	// Mocks are what the called jobs return, by common name.
	Mocks map[string]*Mock
	// Sh are the sh mocks of a raw Groovy orchestration, tried in order.
	Sh     []*ShMock
	Expect Expect
}

// ID names a case: "<job>/<name>".
func (c *Case) ID() string { return c.Job + "/" + c.Name }

// TraceFile is the case's golden trace, next to it.
func (c *Case) TraceFile() string { return strings.TrimSuffix(c.File, ".yaml") + TraceSuffix }

// TraceSuffix ends the name of every golden trace file.
const TraceSuffix = ".trace.yaml"

// Mock is what a mocked job returns: the same result for every call
// (Every), or successive results for successive calls.
type Mock struct {
	Every   bool
	Results []*Result
}

// Result is one mocked build of a job.
type Result struct {
	Line   int
	Status string
	Reason string
	// Data is the report's data; nil for none.
	Data map[string]any
	// NoReport: the build left no report.json (it never started, or lost its agent).
	NoReport bool
}

// ShMock answers sh steps whose script is Command, or matches Regex.
type ShMock struct {
	Line    int
	Command string
	Regex   string
	Stdout  string
	Status  int
}

// Expect is what must happen.
type Expect struct {
	// Status is the run's final status: SUCCESS, FAILURE, UNSTABLE or ABORTED.
	Status string
	// Reason, when set, must equal the report's reason; ReasonContains
	// must occur in it.
	Reason         *string
	ReasonContains string
	// Data lists fields the report's data must have, with these values.
	Data map[string]any
	// Calls, when set, are exactly the calls that must be made, in order.
	Calls    []ExpectCall
	HasCalls bool
	// NotCalled are jobs that must not be called.
	NotCalled []string
}

// ExpectCall is an expected call; empty Phase and nil Params match any.
type ExpectCall struct {
	Line   int
	Job    string
	Phase  string
	Params map[string]string
}

// Statuses a mocked build can end with.
var buildStatuses = []string{"SUCCESS", "FAILURE", "UNSTABLE", "ABORTED", "NOT_BUILT"}

// runStatuses a case can expect.
var runStatuses = []string{"SUCCESS", "FAILURE", "UNSTABLE", "ABORTED"}

// Target is what a case file is checked against: its orchestration and the
// jobs the repository has.
type Target struct {
	Job *jobs.Job
	// Calls are the common names the orchestration calls (directly or
	// through its libraries).
	Calls []string
	// Lookup finds any job of the repository by common name.
	Lookup func(name string) (*jobs.Job, bool)
	// Names are every job's common name, sorted, for did-you-mean.
	Names []string
	// Groovy is set for raw Groovy orchestrations (sh mocks apply).
	Groovy bool
}

var caseNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// ParseCase decodes and checks a case file. Every problem is added to ps
// with its position; the case is nil when the file cannot be used.
func ParseCase(file string, data []byte, t Target, ps *jobs.Problems) *Case {
	name := strings.TrimSuffix(path.Base(file), ".yaml")
	if !caseNameRE.MatchString(name) {
		ps.Add(file, 0, 0, "a case file is named <case>.yaml, <case> in lower case letters, digits, - and _")
		return nil
	}
	root := jobs.ParseYAML(file, data, ps)
	if root == nil {
		return nil
	}
	d := &decoder{file: file, ps: ps}
	c := &Case{File: file, Job: t.Job.Name, Name: name, Params: map[string]any{}, Mocks: map[string]*Mock{}}
	before := ps.Len()
	m := d.mapping(root, "a case", "description", "params", "mocks", "sh", "expect")
	if v, ok := m["description"]; ok {
		c.Description, _ = d.str(v.Val, "description")
	}
	if v, ok := m["params"]; ok {
		d.params(c, v.Val, t)
	}
	if v, ok := m["mocks"]; ok {
		d.mocks(c, v.Val, t)
	}
	if v, ok := m["sh"]; ok {
		if !t.Groovy {
			d.add(v.Key, "sh mocks are for raw Groovy orchestrations; %s is a flow, which runs no sh of its own", t.Job.Name)
		} else {
			d.sh(c, v.Val)
		}
	}
	if v, ok := m["expect"]; ok {
		d.expect(c, v.Val, t)
	} else {
		d.add(root, "a case needs expect: with at least the status the run must end with")
	}
	if ps.Len() > before {
		return nil
	}
	return c
}

type decoder struct {
	file string
	ps   *jobs.Problems
}

func (d *decoder) add(n *yaml.Node, format string, args ...any) {
	line, col := 0, 0
	if n != nil {
		line, col = n.Line, n.Column
	}
	d.ps.Add(d.file, line, col, format, args...)
}

func (d *decoder) mapping(n *yaml.Node, what string, allowed ...string) map[string]jobs.Entry {
	out := map[string]jobs.Entry{}
	for _, e := range jobs.MappingEntries(n, what, allowed, d.add) {
		out[e.Key.Value] = e
	}
	return out
}

func (d *decoder) entries(n *yaml.Node, what string) []jobs.Entry {
	return jobs.MappingEntries(n, what, nil, d.add)
}

func (d *decoder) str(n *yaml.Node, what string) (string, bool) {
	n = jobs.ResolveAlias(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.add(n, "%s must be a string, found %s", what, jobs.KindName(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) oneOf(n *yaml.Node, what string, allowed []string) (string, bool) {
	s, ok := d.str(n, what)
	if !ok {
		return "", false
	}
	if !contains(allowed, s) {
		d.add(n, "%s must be one of %s, found %q%s", what, strings.Join(allowed, ", "), s, jobs.DidYouMean(s, allowed))
		return "", false
	}
	return s, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// params decodes the orchestration's params: known names, scalar values,
// booleans for boolean params, a choice among the choices.
func (d *decoder) params(c *Case, n *yaml.Node, t Target) {
	var names []string
	for _, p := range t.Job.Params {
		names = append(names, p.Name)
	}
	for _, e := range d.entries(n, "params") {
		p, ok := t.Job.Param(e.Key.Value)
		if !ok {
			d.add(e.Key, "job %s has no param %q%s", t.Job.Name, e.Key.Value, jobs.DidYouMean(e.Key.Value, names))
			continue
		}
		v := jobs.ResolveAlias(e.Val)
		if v == nil || v.Kind != yaml.ScalarNode {
			d.add(e.Val, "param %s must be a scalar, found %s", p.Name, jobs.KindName(v))
			continue
		}
		switch {
		case p.Type == jobs.Boolean:
			b, err := strconv.ParseBool(v.Value)
			if v.Tag != "!!bool" || err != nil {
				d.add(v, "param %s is a boolean: write true or false, found %q", p.Name, v.Value)
				continue
			}
			c.Params[p.Name] = b
		case v.Tag == "!!null":
			c.Params[p.Name] = ""
		case p.Type == jobs.Choice && !contains(p.Choices, v.Value):
			d.add(v, "%q is not a choice of param %s (%s)%s", v.Value, p.Name, strings.Join(p.Choices, ", "), jobs.DidYouMean(v.Value, p.Choices))
		default:
			c.Params[p.Name] = v.Value
		}
	}
}

// mocks decodes what each called job returns.
func (d *decoder) mocks(c *Case, n *yaml.Node, t Target) {
	for _, e := range d.entries(n, "mocks") {
		name := e.Key.Value
		job, ok := t.Lookup(name)
		if !ok {
			d.add(e.Key, "unknown job %q%s", name, jobs.DidYouMean(name, t.Names))
			continue
		}
		if !contains(t.Calls, name) {
			d.add(e.Key, "%s never calls %s, so its mock would never be used; remove it", t.Job.Name, name)
			continue
		}
		v := jobs.ResolveAlias(e.Val)
		mock := &Mock{}
		switch {
		case v != nil && v.Kind == yaml.SequenceNode:
			if len(v.Content) == 0 {
				d.add(v, "mocks.%s: an empty list mocks no call; give one result per call", name)
				continue
			}
			for i, item := range v.Content {
				if r := d.result(item, fmt.Sprintf("mocks.%s[%d]", name, i), job); r != nil {
					mock.Results = append(mock.Results, r)
				}
			}
		default:
			mock.Every = true
			if r := d.result(v, "mocks."+name, job); r != nil {
				mock.Results = append(mock.Results, r)
			}
		}
		c.Mocks[name] = mock
	}
}

// result decodes one mocked build and checks its data against the job's outputs.
func (d *decoder) result(n *yaml.Node, what string, job *jobs.Job) *Result {
	n = jobs.ResolveAlias(n)
	r := &Result{Status: "SUCCESS"}
	if n != nil {
		r.Line = n.Line
	}
	m := d.mapping(n, what, "status", "reason", "data", "report")
	if v, ok := m["status"]; ok {
		r.Status, _ = d.oneOf(v.Val, what+".status", buildStatuses)
	}
	if v, ok := m["reason"]; ok {
		r.Reason, _ = d.str(v.Val, what+".reason")
	}
	if v, ok := m["report"]; ok {
		b := jobs.ResolveAlias(v.Val)
		if b == nil || b.Tag != "!!bool" {
			d.add(v.Val, "%s.report must be true or false", what)
		} else {
			r.NoReport = b.Value == "false"
		}
	}
	if v, ok := m["data"]; ok {
		val, ok := d.value(v.Val, 0)
		obj, isObj := val.(map[string]any)
		switch {
		case !ok:
		case val == nil:
		case !isObj:
			d.add(v.Val, "%s.data must be a mapping (the report's data object)", what)
		default:
			r.Data = obj
			if r.NoReport {
				d.add(v.Key, "%s: a build without a report has no data; remove data or report: false", what)
			}
			if r.Status == "SUCCESS" {
				for _, msg := range jobs.CheckOutputs(job.Outputs, obj) {
					d.add(fieldNode(v.Val, msg), "%s.data does not match the outputs of %s: %s", what, job.Name, msg)
				}
			}
		}
	}
	return r
}

// fieldNode finds the value a CheckOutputs message ("a.b: want ...") is
// about in a data mapping, for its position; the mapping itself otherwise.
func fieldNode(data *yaml.Node, msg string) *yaml.Node {
	name, _, _ := strings.Cut(msg, ":")
	if i := strings.IndexAny(name, ".["); i >= 0 {
		name = name[:i]
	}
	if m := jobs.ResolveAlias(data); m != nil && m.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == name {
				return m.Content[i+1]
			}
		}
	}
	return data
}

// value converts YAML to a JSON value: objects, arrays, strings, float64
// numbers, booleans and null.
func (d *decoder) value(n *yaml.Node, depth int) (any, bool) {
	n = jobs.ResolveAlias(n)
	if n == nil {
		return nil, true
	}
	if depth > 64 {
		d.add(n, "the value is nested too deeply")
		return nil, false
	}
	switch n.Kind {
	case yaml.MappingNode:
		out := map[string]any{}
		ok := true
		for _, e := range d.entries(n, "an object") {
			v, vok := d.value(e.Val, depth+1)
			ok = ok && vok
			out[e.Key.Value] = v
		}
		return out, ok
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		ok := true
		for _, c := range n.Content {
			v, vok := d.value(c, depth+1)
			ok = ok && vok
			out = append(out, v)
		}
		return out, ok
	}
	switch n.Tag {
	case "!!null":
		return nil, true
	case "!!bool":
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err != nil {
			d.add(n, "invalid boolean %q", n.Value)
			return nil, false
		}
		return b, true
	case "!!int", "!!float":
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil {
			if i, err2 := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); err2 == nil {
				f, err = float64(i), nil
			}
		}
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.add(n, "%q is not a finite number", n.Value)
			return nil, false
		}
		return f, true
	}
	return n.Value, true
}

// sh decodes the sh mocks.
func (d *decoder) sh(c *Case, n *yaml.Node) {
	n = jobs.ResolveAlias(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		d.add(n, "sh must be a list of mocks (command: or regex:, stdout:, status:)")
		return
	}
	for i, item := range n.Content {
		what := fmt.Sprintf("sh[%d]", i)
		m := d.mapping(item, what, "command", "regex", "stdout", "status")
		s := &ShMock{Line: item.Line}
		cmd, hasCmd := m["command"]
		re, hasRe := m["regex"]
		switch {
		case hasCmd && hasRe:
			d.add(re.Key, "%s: give command (exact) or regex, not both", what)
		case hasCmd:
			s.Command, _ = d.str(cmd.Val, what+".command")
		case hasRe:
			s.Regex, _ = d.str(re.Val, what+".regex")
			if _, err := regexp.Compile(s.Regex); err != nil {
				d.add(re.Val, "%s.regex does not compile: %v", what, err)
			} else if strings.Contains(s.Regex, "(?P<") {
				d.add(re.Val, "%s.regex: named groups are written (?<name>...) in Java", what)
			}
		default:
			d.add(item, "%s needs command: (the exact script) or regex:", what)
		}
		if v, ok := m["stdout"]; ok {
			s.Stdout, _ = d.str(v.Val, what+".stdout")
		}
		if v, ok := m["status"]; ok {
			n := jobs.ResolveAlias(v.Val)
			st, err := strconv.Atoi(n.Value)
			if n.Tag != "!!int" || err != nil || st < 0 || st > 255 {
				d.add(v.Val, "%s.status must be an exit status, 0 to 255", what)
			}
			s.Status = st
		}
		c.Sh = append(c.Sh, s)
	}
}

// expect decodes the expectations.
func (d *decoder) expect(c *Case, n *yaml.Node, t Target) {
	m := d.mapping(n, "expect", "status", "reason", "reason_contains", "data", "calls", "not_called")
	e := &c.Expect
	if v, ok := m["status"]; ok {
		e.Status, _ = d.oneOf(v.Val, "expect.status", runStatuses)
	} else {
		d.add(n, "expect needs status: the status the run must end with (%s)", strings.Join(runStatuses, ", "))
	}
	if v, ok := m["reason"]; ok {
		if s, ok := d.str(v.Val, "expect.reason"); ok {
			e.Reason = &s
		}
	}
	if v, ok := m["reason_contains"]; ok {
		e.ReasonContains, _ = d.str(v.Val, "expect.reason_contains")
	}
	if v, ok := m["data"]; ok {
		val, ok := d.value(v.Val, 0)
		obj, isObj := val.(map[string]any)
		if ok && !isObj {
			d.add(v.Val, "expect.data must be a mapping of report data fields")
		} else if ok {
			e.Data = obj
			var names []string
			for _, o := range t.Job.Outputs {
				names = append(names, o.Name)
			}
			if len(t.Job.Outputs) > 0 {
				for _, de := range d.entries(v.Val, "expect.data") {
					if !contains(names, de.Key.Value) {
						d.add(de.Key, "expect.data: job %s declares no output %q%s", t.Job.Name, de.Key.Value, jobs.DidYouMean(de.Key.Value, names))
					}
				}
			}
		}
	}
	if v, ok := m["calls"]; ok {
		e.HasCalls = true
		list := jobs.ResolveAlias(v.Val)
		switch {
		case list != nil && list.Kind == yaml.ScalarNode && list.Tag == "!!null":
		case list == nil || list.Kind != yaml.SequenceNode:
			d.add(v.Val, "expect.calls must be a list of calls (job:, phase:, params:); [] for none")
		default:
			for i, item := range list.Content {
				if call, ok := d.call(item, fmt.Sprintf("expect.calls[%d]", i), t); ok {
					e.Calls = append(e.Calls, call)
				}
			}
		}
	}
	if v, ok := m["not_called"]; ok {
		list := jobs.ResolveAlias(v.Val)
		if list == nil || list.Kind != yaml.SequenceNode {
			d.add(v.Val, "expect.not_called must be a list of job names")
		} else {
			for _, item := range list.Content {
				if s, ok := d.str(item, "expect.not_called entry"); ok {
					if _, known := t.Lookup(s); !known {
						d.add(item, "unknown job %q%s", s, jobs.DidYouMean(s, t.Names))
						continue
					}
					e.NotCalled = append(e.NotCalled, s)
				}
			}
		}
	}
}

func (d *decoder) call(n *yaml.Node, what string, t Target) (ExpectCall, bool) {
	n = jobs.ResolveAlias(n)
	call := ExpectCall{}
	if n != nil {
		call.Line = n.Line
	}
	// A bare job name is the short form.
	if n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		call.Job = n.Value
	} else {
		m := d.mapping(n, what, "job", "phase", "params")
		v, ok := m["job"]
		if !ok {
			d.add(n, "%s needs job:", what)
			return call, false
		}
		call.Job, _ = d.str(v.Val, what+".job")
		if v, ok := m["phase"]; ok {
			call.Phase, _ = d.str(v.Val, what+".phase")
		}
		if v, ok := m["params"]; ok {
			call.Params = map[string]string{}
			for _, pe := range d.entries(v.Val, what+".params") {
				pv := jobs.ResolveAlias(pe.Val)
				if pv == nil || pv.Kind != yaml.ScalarNode {
					d.add(pe.Val, "%s.params.%s: a param is passed as text; write a scalar", what, pe.Key.Value)
					continue
				}
				if pv.Tag == "!!null" {
					call.Params[pe.Key.Value] = ""
				} else {
					call.Params[pe.Key.Value] = pv.Value
				}
			}
		}
	}
	job, ok := t.Lookup(call.Job)
	if !ok {
		d.add(n, "%s: unknown job %q%s", what, call.Job, jobs.DidYouMean(call.Job, t.Names))
		return call, false
	}
	var names []string
	for _, p := range job.Params {
		names = append(names, p.Name)
	}
	for _, pn := range sortedKeys(call.Params) {
		if _, ok := job.Param(pn); !ok && pn != "REPORT_RETURN_URL" && !strings.HasPrefix(pn, "JOBCTL_") {
			d.add(n, "%s: job %s has no param %q%s", what, call.Job, pn, jobs.DidYouMean(pn, names))
		}
	}
	return call, true
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Dir is where a repository's cases live.
const Dir = "mocks"

// CaseFiles lists the case files of a repository, relative to root and
// sorted: mocks/<job>/<case>.yaml, golden traces left out. A folder whose
// name is not a job is a problem.
func CaseFiles(root string, isJob func(string) bool, names []string, ps *jobs.Problems) ([]string, error) {
	dirs, err := os.ReadDir(filepath.Join(root, Dir))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", Dir, err)
	}
	var out []string
	for _, e := range dirs {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		if !e.IsDir() {
			ps.Add(Dir+"/"+name, 0, 0, "not a folder; cases live in mocks/<orchestration>/<case>.yaml")
			continue
		}
		if !isJob(name) {
			ps.Add(Dir+"/"+name, 0, 0, "no orchestration is named %s%s; cases live in mocks/<orchestration>/", name, jobs.DidYouMean(name, names))
			continue
		}
		files, err := os.ReadDir(filepath.Join(root, Dir, name))
		if err != nil {
			return nil, fmt.Errorf("listing %s/%s: %w", Dir, name, err)
		}
		for _, f := range files {
			fn := f.Name()
			if f.IsDir() || strings.HasPrefix(fn, ".") || strings.HasSuffix(fn, TraceSuffix) {
				continue
			}
			if !strings.HasSuffix(fn, ".yaml") {
				ps.Add(Dir+"/"+name+"/"+fn, 0, 0, "not a case file; a case is a .yaml file")
				continue
			}
			out = append(out, Dir+"/"+name+"/"+fn)
		}
	}
	sort.Strings(out)
	return out, nil
}
