// Package compiler turns a job repository into immutable, versioned Jenkins
// job definitions: it loads the repository, resolves the jobs' references
// to each other, orders them so that callees come first, includes the
// library code each job uses, renders each definition, hashes it together
// with the deployed names of what it calls, and assigns versions from the lock.
package compiler

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/jobctl/jobctl/flow"
	"github.com/jobctl/jobctl/groovy"
	"github.com/jobctl/jobctl/jobs"
	"github.com/jobctl/jobctl/templates"
)

// Definition is one compiled job: an immutable value that carries its digest.
type Definition struct {
	Job      *jobs.Job
	Version  int
	Hash     string
	Deployed string
	// Status says how the definition relates to the lock it was built against.
	Status jobs.Status
	// XML is the job's config.xml as it is posted to the master.
	XML []byte
	// Calls are the common names of the jobs it calls, sorted; CallsDeployed
	// their deployed names in the same order.
	Calls         []string
	CallsDeployed []string
	// Plugins are the master plugins it needs: its own requirements and
	// those of the XML jobctl generates for it.
	Plugins []jobs.Requirement
	// LineMap maps a pipeline's script lines back to source lines.
	LineMap *LineMap
	// Script is an orchestration's pipeline script, as in the XML.
	Script string
	// Flow is a flow orchestration's checked flow; nil otherwise.
	Flow *flow.Flow
}

// Name is the job's common name.
func (d *Definition) Name() string { return d.Job.Name }

// Result is a compiled repository.
type Result struct {
	Project *jobs.Project
	// Defs are in dependency order: every job comes after the jobs it calls.
	Defs []*Definition
	// Lock is the lock after this build: one entry per job.
	Lock *jobs.Lock
	// Folder and View are the project folder's and view's XML.
	Folder []byte
	View   []byte
}

// Def returns the definition of a common name.
func (r *Result) Def(name string) *Definition {
	for _, d := range r.Defs {
		if d.Job.Name == name {
			return d
		}
	}
	return nil
}

// hashPrefix versions the hash input: change it when the meaning of a hash changes.
const hashPrefix = "jobctl definition v1\n"

// workerArtifacts is what every worker archives: its report.
const workerArtifacts = "report.json"

// ReportReturnURL is the parameter every worker accepts: where to POST its
// report when the build ends, for callers that were handed a promise.
const ReportReturnURL = "REPORT_RETURN_URL"

// reportReturnParam is the REPORT_RETURN_URL param jobctl adds to workers
// and flow orchestrations that do not declare it.
var reportReturnParam = templates.Param{Type: "string", Name: ReportReturnURL,
	Description: "Set by callers that hold a promise: the URL the build's report.json is POSTed to when it ends. Leave empty otherwise."}

// Options change what Compile produces.
type Options struct {
	// Noop compiles workers that only report what mock cases prescribe
	// (see Noop); nil compiles the real jobs.
	Noop *Noop
}

// Compile compiles a loaded repository against a lock. It reports every
// problem it finds in one *jobs.InputError and produces nothing then.
func Compile(r *Repo, lock *jobs.Lock, opt Options) (*Result, error) {
	tmpl, err := templates.Load(r.TemplatesDir)
	if err != nil {
		return nil, &jobs.InputError{Problems: []*jobs.Problem{{File: "templates", Msg: err.Error()}}}
	}
	var ps jobs.Problems
	project := r.Project
	if opt.Noop != nil {
		// A copy: the folder, the markers and the view of a noop build
		// never mix with the real jobs'.
		cp := *r.Project
		cp.Name += NoopProjectSuffix
		project = &cp
	}
	c := &compilation{
		repo:    r,
		project: project,
		tmpl:    tmpl,
		sh:      newShLib(r.LibSh, &ps),
		gvy:     newGvyLib(r.LibGvy, &ps),
		byName:  map[string]*Source{},
		noop:    opt.Noop,
	}
	for _, s := range r.Jobs {
		c.byName[s.Job.Name] = s
		c.names = append(c.names, s.Job.Name)
	}
	sort.Strings(c.names)
	c.resolve(&ps)
	order := c.order(&ps)
	if err := ps.Err(); err != nil {
		return nil, err
	}

	res := &Result{Project: project, Lock: &jobs.Lock{}}
	done := map[string]*Definition{}
	for _, level := range order {
		defs := make([]*Definition, len(level))
		perJob := make([]jobs.Problems, len(level))
		parallel(len(level), func(i int) {
			defs[i] = c.compileJob(c.byName[level[i]], done, lock, &perJob[i])
		})
		for i := range perJob {
			ps.Merge(&perJob[i])
		}
		if ps.Len() > 0 {
			return nil, ps.Err()
		}
		for _, d := range defs {
			done[d.Job.Name] = d
			res.Defs = append(res.Defs, d)
			res.Lock.Set(d.Job.Name, d.Version, d.Hash)
		}
	}
	folder := folderDescription(project.Name)
	if opt.Noop != nil {
		folder += " A noop build of " + r.Project.Name + " (jobctl build --noop): its workers only report what the mock cases prescribe."
	}
	if res.Folder, err = tmpl.Folder(templates.Folder{Description: folder}); err != nil {
		return nil, err
	}
	latest := make([]string, len(res.Defs))
	for i, d := range res.Defs {
		latest[i] = d.Deployed
	}
	if res.View, err = tmpl.View(templates.View{Name: ViewName, Description: "The latest version of every job of " + project.Name + ", as deployed by jobctl.", Jobs: latest}); err != nil {
		return nil, err
	}
	return res, nil
}

// ViewName is the name of the view that lists a project's latest versions.
const ViewName = "latest"

func folderDescription(project string) string {
	return "Jobs of the " + project + " project, deployed by jobctl. Job definitions here are immutable: change them in the job repository."
}

type compilation struct {
	repo *Repo
	// project is the project compiled into: the repository's, or its
	// noop copy.
	project *jobs.Project
	tmpl    *templates.Set
	sh      *shLib
	gvy     *gvyLib
	byName  map[string]*Source
	names   []string

	// For orchestrations: the parsed main script, the lib files it uses and
	// the common names it calls.
	parsed  map[string]*groovy.File
	libsFor map[string][]int
	calls   map[string][]string
	// flows holds the checked flow of each flow orchestration.
	flows map[string]*flow.Flow
	noop  *Noop
}

// resolve parses every orchestration, checks each job it names exists and
// records the call edges.
func (c *compilation) resolve(ps *jobs.Problems) {
	c.parsed = map[string]*groovy.File{}
	c.libsFor = map[string][]int{}
	c.calls = map[string][]string{}

	// References in lib files are checked once, at their own position.
	libCalls := make([][]string, len(c.gvy.files))
	for i, pf := range c.gvy.parsed {
		libCalls[i] = c.checkRefs(c.gvy.files[i].Path, pf.Refs, ps)
	}

	c.flows = map[string]*flow.Flow{}
	var orch []*Source
	for _, name := range c.names {
		s := c.byName[name]
		switch {
		case s.Flow != nil:
			f := flow.Parse(s.BodyFile, s.Flow, s.Job, c.callee, c.names, ps)
			c.flows[name] = f
			c.calls[name] = f.Calls()
		case s.Job.Kind == jobs.Orchestration:
			orch = append(orch, s)
		case s.Job.Watch != nil:
			c.resolveWatch(s.Job, ps)
		}
	}
	files := make([]*groovy.File, len(orch))
	errs := make([]error, len(orch))
	parallel(len(orch), func(i int) {
		files[i], errs[i] = groovy.Parse(orch[i].Body)
	})
	for i, s := range orch {
		name := s.Job.Name
		if errs[i] != nil {
			addGroovyError(ps, s.BodyFile, errs[i])
			continue
		}
		pf := files[i]
		for _, p := range pf.Problems {
			ps.Add(s.BodyFile, p.Pos.Line, p.Pos.Col, "%s", p.Msg)
		}
		checkHoistable(s.BodyFile, pf, s.Job.Timeout > 0, ps)
		c.parsed[name] = pf
		set := map[string]bool{}
		for _, n := range c.checkRefs(s.BodyFile, pf.Refs, ps) {
			set[n] = true
		}
		libs := c.gvy.For(pf.Idents)
		c.libsFor[name] = libs
		for _, li := range libs {
			for _, n := range libCalls[li] {
				set[n] = true
			}
		}
		for n := range set {
			c.calls[name] = append(c.calls[name], n)
		}
		sort.Strings(c.calls[name])
	}
}

// resolveWatch checks a worker's watch trigger: a known job that takes
// the commit in a string GIT_REF param. The trigger is a call.
func (c *compilation) resolveWatch(j *jobs.Job, ps *jobs.Problems) {
	w := j.Watch
	if w.Trigger == "" {
		return
	}
	t, ok := c.byName[w.Trigger]
	switch {
	case !ok:
		ps.Add(j.File, w.TriggerLine, w.TriggerCol, "watch.trigger: unknown job %q%s", w.Trigger, jobs.DidYouMean(w.Trigger, c.names))
		return
	case t.Job.Name == j.Name:
		ps.Add(j.File, w.TriggerLine, w.TriggerCol, "watch.trigger: a job cannot trigger itself")
		return
	}
	if p, ok := t.Job.Param(jobs.WatchRefParam); !ok || p.Type != jobs.String {
		ps.Add(j.File, w.TriggerLine, w.TriggerCol, "watch.trigger: %s must take the commit in a string param %s; add it to %s", w.Trigger, jobs.WatchRefParam, t.Job.File)
		return
	}
	for _, p := range t.Job.Params {
		if p.Required && p.Name != jobs.WatchRefParam && !p.HasDefault {
			ps.Add(j.File, w.TriggerLine, w.TriggerCol, "watch.trigger: %s has the required param %s, which a watch cannot give; give it a default", w.Trigger, p.Name)
		}
	}
	c.calls[j.Name] = []string{w.Trigger}
}

// callee tells the flow checker what it needs to know about a job.
func (c *compilation) callee(name string) (flow.Callee, bool) {
	s, ok := c.byName[name]
	if !ok {
		return flow.Callee{}, false
	}
	j := s.Job
	return flow.Callee{Name: j.Name, Kind: j.Kind, Params: j.Params, Outputs: j.Outputs}, true
}

// checkRefs reports references to jobs that do not exist and returns the
// names of those that do.
func (c *compilation) checkRefs(file string, refs []groovy.JobRef, ps *jobs.Problems) []string {
	var out []string
	for _, ref := range refs {
		if _, ok := c.byName[ref.Name]; ok {
			out = append(out, ref.Name)
			continue
		}
		hint := jobs.DidYouMean(ref.Name, c.names)
		if name, _, _, ok := jobs.ParseDeployedName(ref.Name); ok {
			if _, known := c.byName[name]; known {
				hint = fmt.Sprintf("; name the job by its common name %q and jobctl picks the version", name)
			}
		}
		ps.Add(file, ref.Pos.Line, ref.Pos.Col, "unknown job %q%s", ref.Name, hint)
	}
	return out
}

// order sorts the jobs into levels: every job's callees are in earlier
// levels; names are sorted within a level. A cycle is a problem that names it.
func (c *compilation) order(ps *jobs.Problems) [][]string {
	level := map[string]int{}
	state := map[string]int{} // 0 new, 1 visiting, 2 done
	var stack []string
	var visit func(n string) bool
	visit = func(n string) bool {
		switch state[n] {
		case 1:
			i := len(stack) - 1
			for stack[i] != n {
				i--
			}
			cycle := append(append([]string(nil), stack[i:]...), n)
			src := c.byName[n]
			ps.Add(src.BodyFile, 0, 0, "jobs call each other in a cycle: %s; an orchestration cannot (indirectly) call itself", strings.Join(cycle, " → "))
			return false
		case 2:
			return true
		}
		state[n] = 1
		stack = append(stack, n)
		lv, ok := 0, true
		for _, callee := range c.calls[n] {
			if !visit(callee) {
				ok = false
				break
			}
			lv = max(lv, level[callee]+1)
		}
		stack = stack[:len(stack)-1]
		state[n] = 2
		level[n] = lv
		return ok
	}
	for _, n := range c.names {
		if state[n] == 0 && !visit(n) {
			return nil
		}
	}
	var levels [][]string
	for _, n := range c.names {
		lv := level[n]
		for len(levels) <= lv {
			levels = append(levels, nil)
		}
		levels[lv] = append(levels[lv], n)
	}
	return levels
}

// compileJob renders one job. done holds the definitions of its callees.
func (c *compilation) compileJob(s *Source, done map[string]*Definition, lock *jobs.Lock, ps *jobs.Problems) *Definition {
	j := s.Job
	d := &Definition{Job: j, Calls: c.calls[j.Name]}
	for _, n := range d.Calls {
		d.CallsDeployed = append(d.CallsDeployed, done[n].Deployed)
	}
	x := templates.Job{
		Label:      j.Label,
		Concurrent: j.Concurrent,
		Keep:       templates.NewKeep(j.Keep.Days, j.Keep.Builds),
		Schedule:   j.Schedule,
		Params:     xmlParams(j.Params),
	}
	render := c.tmpl.Pipeline
	switch j.Kind {
	case jobs.Worker:
		var cmd templates.Escaped
		var ok bool
		if c.noop != nil {
			cmd, ok = c.noopWorkerCommand(s, ps)
		} else {
			cmd, ok = c.workerCommand(s, ps)
		}
		if !ok {
			return d
		}
		x.Command, x.Artifacts = cmd, workerArtifacts
		if w := j.Watch; w != nil && c.noop == nil {
			x.Watch = &templates.Watch{URL: w.Repository, Branch: w.Branch, IncludedRegions: w.IncludedRegions(),
				Poll: w.Poll, Trigger: done[w.Trigger].Deployed, Params: jobs.WatchRefParam + "=${GIT_COMMIT}"}
		}
		if _, declared := j.Param(ReportReturnURL); !declared {
			x.Params = append(x.Params, reportReturnParam)
		}
		if c.noop != nil {
			x.Params = append(x.Params, noopCaseParam, noopCallParam)
		}
		render = c.tmpl.Freestyle
	case jobs.Orchestration:
		deployed := func(name string) string { return done[name].Deployed }
		if f := c.flows[j.Name]; f != nil {
			d.Flow = f
			params := func(name string) []jobs.Param { return c.byName[name].Job.Params }
			x.Script, d.LineMap = flowScript(j, f, deployed, params, j.Label, j.Timeout, c.noop != nil)
			if _, declared := j.Param(ReportReturnURL); !declared {
				x.Params = append(x.Params, reportReturnParam)
			}
			break
		}
		main := prepareGroovy(s.BodyFile, s.Body, c.parsed[j.Name], deployed, j.Timeout > 0)
		var libs []*parsedGroovy
		for _, li := range c.libsFor[j.Name] {
			f := c.gvy.files[li]
			libs = append(libs, prepareGroovy(f.Path, f.Data, c.gvy.parsed[li], deployed, false))
		}
		x.Script, d.LineMap = assemblePipeline(j, main, libs, j.Timeout, c.noop != nil)
	}
	if c.noop != nil && j.Kind == jobs.Orchestration {
		x.Params = append(x.Params, noopCaseParam)
	}
	d.Script = x.Script
	d.Plugins = plugins(j, len(d.Calls) > 0, d.Flow != nil, x.Watch != nil)

	marker := jobs.Marker{Project: c.project.Name, Name: j.Name, Kind: j.Kind, Calls: d.CallsDeployed}
	x.Description = jobs.Describe(j.Description, marker)
	anonymous, err := render(x)
	if err != nil {
		ps.Add("templates", 0, 0, "%v", err)
		return d
	}
	sum := sha256.New()
	sum.Write([]byte(hashPrefix))
	sum.Write(anonymous)
	d.Hash = hex.EncodeToString(sum.Sum(nil))[:jobs.HashLen]
	d.Version, d.Status = lock.Assign(j.Name, d.Hash)
	d.Deployed = jobs.DeployedName(j.Name, d.Version, d.Hash)

	marker.Version, marker.Hash = d.Version, d.Hash
	final := jobs.Describe(j.Description, marker)
	if d.XML = withDescription(anonymous, x.Description, final); d.XML == nil {
		x.Description = final
		if d.XML, err = render(x); err != nil {
			ps.Add("templates", 0, 0, "%v", err)
		}
	}
	return d
}

// withDescription returns the job XML doc, rendered with the description
// old, with the description new instead, or nil when old does not appear
// exactly once as a description element (a template override may render
// it otherwise; the caller then renders again). Escaped text never holds a
// raw '<', so the element can only be the one the template wrote. It saves
// rendering every definition twice.
func withDescription(doc []byte, old, new string) []byte {
	elem := func(s string) []byte { return []byte("<description>" + templates.EscapeXML(s) + "</description>") }
	from := elem(old)
	i := bytes.Index(doc, from)
	if i < 0 || bytes.Index(doc[i+len(from):], from) >= 0 {
		return nil
	}
	to := elem(new)
	out := make([]byte, 0, len(doc)-len(from)+len(to))
	out = append(out, doc[:i]...)
	out = append(out, to...)
	return append(out, doc[i+len(from):]...)
}

// workerCommand renders the wrapper script a worker's shell step runs.
func (c *compilation) workerCommand(s *Source, ps *jobs.Problems) (templates.Escaped, bool) {
	j := s.Job
	first, _, _ := strings.Cut(string(s.Body), "\n")
	w := templates.WorkerScript{
		Process: j.Name,
		Source:  s.BodyFile,
		Body:    s.Body,
		Timeout: j.Timeout,
		Retries: j.Retries,
	}
	if runsBash(first) {
		w.Lib = c.sh.For(s.Body)
	}
	for _, p := range j.Params {
		if p.Required {
			w.Required = append(w.Required, p.Name)
		}
	}
	for _, t := range j.Requires.Tools {
		checks, err := jobs.VersionChecks(t.Constraint)
		if err != nil {
			ps.Add(j.File, t.Line, t.Col, "tool %s: %v", t.Name, err)
			return "", false
		}
		tc := templates.ToolCheck{Name: t.Name, Constraint: t.Constraint, Probe: t.Probe}
		for _, ch := range checks {
			tc.Checks = append(tc.Checks, templates.VersionCheck{Op: ch.Op, Version: ch.Version})
		}
		w.Tools = append(w.Tools, tc)
	}
	cmd, err := templates.RenderWorkerCommand(w)
	if err != nil {
		ps.Add(j.File, 0, 0, "rendering the worker script: %v", err)
		return "", false
	}
	return cmd, true
}

// runsBash reports whether a shebang line runs bash, directly or through env.
func runsBash(shebang string) bool {
	fields := strings.Fields(strings.TrimPrefix(shebang, "#!"))
	if len(fields) == 0 {
		return false
	}
	interp := path.Base(fields[0])
	if interp == "env" {
		for _, f := range fields[1:] {
			if !strings.HasPrefix(f, "-") {
				return path.Base(f) == "bash"
			}
		}
		return false
	}
	return interp == "bash"
}

func xmlParams(ps []jobs.Param) []templates.Param {
	out := make([]templates.Param, len(ps))
	for i, p := range ps {
		out[i] = templates.Param{Type: string(p.Type), Name: p.Name, Description: p.Description, Default: p.Default, Choices: p.Choices}
		if p.Type == jobs.Boolean && !p.HasDefault {
			out[i].Default = "false"
		}
	}
	return out
}

// plugins returns the plugins a job needs: those jobctl's own XML needs and
// those the job declares, sorted by name. A declared constraint wins.
func plugins(j *jobs.Job, calls, isFlow, watch bool) []jobs.Requirement {
	req := map[string]jobs.Requirement{}
	implicit := func(name string) { req[name] = jobs.Requirement{Name: name, Constraint: ">= 0"} }
	if j.Kind == jobs.Orchestration {
		implicit("workflow-job")
		implicit("workflow-cps")
		if calls {
			implicit("pipeline-build-step")
		}
		if j.Timeout > 0 {
			implicit("workflow-basic-steps")
		}
	}
	if isFlow {
		// The steps generated flow code uses: stage; node and sh;
		// readFile, writeFile, archiveArtifacts, withEnv, timeout;
		// copyArtifacts.
		for _, name := range []string{"pipeline-stage-step", "workflow-durable-task-step", "workflow-basic-steps", "copyartifact"} {
			implicit(name)
		}
		// readJSON with returnPojo: true (plain maps, real nulls).
		req["pipeline-utility-steps"] = jobs.Requirement{Name: "pipeline-utility-steps", Constraint: ">= 2.9.0"}
	}
	if watch {
		// GitSCM with a PathRestriction; the parameterized BuildTrigger.
		implicit("git")
		implicit("parameterized-trigger")
	}
	for _, p := range j.Requires.Plugins {
		req[p.Name] = p
	}
	out := make([]jobs.Requirement, 0, len(req))
	for _, r := range req {
		out = append(out, jobs.Requirement{Name: r.Name, Constraint: r.Constraint})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}
