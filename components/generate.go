package components

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/jobctl/jobctl/jobs"
	"github.com/jobctl/jobctl/templates"
)

// File is one generated job source file.
type File struct {
	// Path is relative to the generated tree's root, with '/':
	// jobs/<name>/job.yaml, jobs/<name>/run.sh, jobs/<name>/flow.yaml.
	Path string
	Data []byte
	// From is the component file it was generated from ("" for the
	// per-environment jobs, which come from every component file).
	From string
}

// The steps of a component, in the order they run.
const (
	StepBuild   = "build"
	StepTest    = "test"
	StepStage   = "stage"
	StepRelease = "release"
)

// Names of the generated jobs.

// StepJob is the worker that runs one step of component c: web-build.
func StepJob(c, step string) string { return c + "-" + step }

// BuildTestJob and the others name a component's orchestrations.
func BuildTestJob(c string) string             { return c + "-build-test" }
func BuildTestStageJob(c string) string        { return c + "-build-test-stage" }
func BuildTestStageReleaseJob(c string) string { return c + "-build-test-stage-release" }
func IntegrationJob(c string) string           { return c + "-integration" }
func WatchJob(c string) string                 { return c + "-watch" }

// EnvJob is the per-environment orchestration of a step: qa-stage.
func EnvJob(env, step string) string { return env + "-" + step }

// RefParam is the param of per-environment and integration jobs that
// names the git ref of component c: WEB_GIT_REF.
func RefParam(c string) string { return strings.ToUpper(identifier(c)) + "_GIT_REF" }

// identifier turns a component name into a flow step name: '-' is '_'.
func identifier(c string) string { return strings.ReplaceAll(c, "-", "_") }

//go:embed step.sh
var stepScript string

// Generate generates the job sources of components that Load read and
// checked. taken are the names of the repository's own jobs: a generated
// job may not take one of them, nor the name of another generated job;
// such clashes are reported in one *jobs.InputError. The output is sorted
// by path and the same for the same input.
func Generate(cs []*Component, taken []string) ([]File, error) {
	g := &generator{byName: map[string]*Component{}, dependents: map[string][]*Component{},
		jobs: map[string]*genJob{}, order: Order(cs)}
	for _, c := range cs {
		g.byName[c.Name] = c
		for _, r := range c.DependsOn {
			g.dependents[r.Name] = append(g.dependents[r.Name], c)
		}
	}
	var ps jobs.Problems
	hand := map[string]bool{}
	for _, n := range taken {
		hand[n] = true
	}
	idents := map[string]*Component{}
	for _, c := range cs {
		if prev, ok := idents[identifier(c.Name)]; ok {
			ps.Add(c.File, c.Line, c.Col, "component %s and component %s (%s) differ only in '-' and '_'; generated param and step names would clash: rename one", c.Name, prev.Name, prev.File)
		}
		idents[identifier(c.Name)] = c
		g.component(c)
	}
	g.environments()
	// Clashes: a generated name must be new.
	names := make([]string, 0, len(g.jobs))
	for n := range g.jobs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		j := g.jobs[n]
		if err := jobs.CheckName(n); err != nil {
			ps.Add(j.at.File, j.at.Line, j.at.Col, "generates the job %s (%s), but %v: shorten the component's or the environment's name", n, j.what, err)
		}
		if hand[n] {
			ps.Add(j.at.File, j.at.Line, j.at.Col, "generates the job %s, but jobs/%s/job.yaml already defines it: rename the component or the job", n, n)
		}
	}
	for _, p := range g.problems {
		ps.Add(p.at.File, p.at.Line, p.at.Col, "%s", p.msg)
	}
	if err := ps.Err(); err != nil {
		return nil, err
	}
	var out []File
	for _, n := range names {
		out = append(out, g.jobs[n].files...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

type generator struct {
	byName map[string]*Component
	// dependents are the components that depend on each, directly.
	dependents map[string][]*Component
	order      [][]*Component
	jobs       map[string]*genJob
	// problems are found while generating: clashing names, integration
	// jobs with no environment to stage into.
	problems []genProblem
}

type genJob struct {
	at    *Component // where a problem with it is reported
	what  string     // what it is, for messages
	files []File
}

type genProblem struct {
	at  *Component
	msg string
}

// add records a generated job, or a problem when its name is taken. from
// is the component file it comes from ("" for per-environment jobs); at
// is where a problem with it is reported.
func (g *generator) add(name, what string, at *Component, from string, files ...File) {
	if prev, ok := g.jobs[name]; ok {
		g.problems = append(g.problems, genProblem{at, fmt.Sprintf("generates the job %s (%s), which is also %s: rename a component or an environment", name, what, prev.what)})
		return
	}
	for i := range files {
		files[i].Path = "jobs/" + name + "/" + files[i].Path
		files[i].From = from
	}
	g.jobs[name] = &genJob{at: at, what: what, files: files}
}

func (c *Component) commands(step string) []Command {
	switch step {
	case StepBuild:
		return c.Build
	case StepTest:
		return c.Test
	case StepStage:
		return c.Stage
	case StepRelease:
		return c.Release
	}
	return nil
}

func (c *Component) envNames() []string {
	out := make([]string, len(c.Environments))
	for i, e := range c.Environments {
		out[i] = e.Name
	}
	return out
}

// component generates one component's workers and orchestrations.
func (g *generator) component(c *Component) {
	for _, step := range []string{StepBuild, StepTest, StepStage, StepRelease} {
		if len(c.commands(step)) > 0 {
			g.add(StepJob(c.Name, step), c.Name+"'s "+step+" worker", c, c.File, g.stepWorker(c, step)...)
		}
	}
	g.add(BuildTestJob(c.Name), c.Name+"'s build-test orchestration", c, c.File, g.pipeline(c, false, false)...)
	if len(c.Stage) > 0 {
		g.add(BuildTestStageJob(c.Name), c.Name+"'s build-test-stage orchestration", c, c.File, g.pipeline(c, true, false)...)
	}
	if len(c.Release) > 0 {
		g.add(BuildTestStageReleaseJob(c.Name), c.Name+"'s build-test-stage-release orchestration", c, c.File, g.pipeline(c, len(c.Stage) > 0, true)...)
	}
	if len(c.Stage) > 0 {
		if files := g.integration(c); files != nil {
			g.add(IntegrationJob(c.Name), c.Name+"'s integration orchestration", c, c.File, files...)
		}
	}
	g.add(WatchJob(c.Name), c.Name+"'s watch worker", c, c.File, g.watch(c)...)
}

// ---------------------------------------------------------------- text

// QuoteYAML quotes s as a YAML scalar, so that it is read back as exactly
// s: JSON strings are YAML double-quoted scalars.
func QuoteYAML(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

type text struct{ strings.Builder }

func (t *text) line(format string, args ...any) {
	fmt.Fprintf(t, format, args...)
	t.WriteByte('\n')
}

func header(t *text, c *Component, name string) {
	from := "the component files"
	if c != nil {
		from = c.File
	}
	t.line("# %s: generated by jobctl from %s; edit that, not this file.", name, comment(from))
}

// comment makes s safe in a '#' comment line of a script or YAML file:
// line breaks become spaces.
func comment(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }

func timeoutLine(t *text, c *Component) {
	if c.Timeout != "" {
		t.line("timeout: %s", QuoteYAML(c.Timeout))
	}
}

func refParam(t *text, name, def, desc string) {
	t.line("  %s:", name)
	t.line("    type: string")
	t.line("    default: %s", QuoteYAML(def))
	t.line("    description: %s", QuoteYAML(desc))
}

func envParam(t *text, envs []string, desc string) {
	t.line("  ENVIRONMENT:")
	t.line("    type: choice")
	t.line("    choices: [%s]", quoteList(envs))
	t.line("    default: %s", QuoteYAML(envs[0]))
	t.line("    description: %s", QuoteYAML(desc))
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = QuoteYAML(x)
	}
	return strings.Join(q, ", ")
}

// ---------------------------------------------------------------- workers

var stepVerb = map[string]string{
	StepBuild: "Builds", StepTest: "Tests", StepStage: "Stages", StepRelease: "Releases",
}

func (g *generator) stepWorker(c *Component, step string) []File {
	name := StepJob(c.Name, step)
	var y text
	header(&y, c, name)
	y.line("kind: worker")
	where := ""
	if c.Path != "" {
		where = " in " + c.Path + "/"
	}
	desc := fmt.Sprintf("%s %s: checks out %s at GIT_REF, makes sure its tools are present and runs its %s commands%s.", stepVerb[step], c.Name, c.Repository, step, where)
	y.line("description: %s", QuoteYAML(desc))
	y.line("params:")
	refParam(&y, "GIT_REF", c.Branch, "The branch, tag or commit of "+c.Repository+" to "+step+".")
	switch step {
	case StepStage, StepRelease:
		envParam(&y, c.envNames(), "The environment to "+step+" "+c.Name+" in; its variables are set for the commands.")
	case StepTest:
		y.line("  ENVIRONMENT:")
		y.line("    type: string")
		y.line("    default: \"\"")
		y.line("    description: %s", QuoteYAML("The environment the tests run against (its variables are set), e.g. in an integration run; empty for none."))
	}
	y.line("outputs:")
	y.line("  git_hash: {type: string, required: true, description: \"The commit that was checked out.\"}")
	y.line("script: run.sh")
	timeoutLine(&y, c)

	var s text
	s.line("#!/usr/bin/env bash")
	header(&s, c, name)
	s.line("#")
	s.line("# %s", comment(desc))
	s.line("set -uo pipefail")
	s.line("")
	s.line("component=%s", templates.QuoteShell(c.Name))
	s.line("step=%s", templates.QuoteShell(step))
	s.line("repository=%s", templates.QuoteShell(c.Repository))
	s.line("folder=%s", templates.QuoteShell(c.Path))
	var names, constraints, checks []string
	for _, t := range c.Tools {
		names = append(names, templates.QuoteShell(t.Name))
		constraints = append(constraints, templates.QuoteShell(t.Constraint))
		var cs []string
		for _, ch := range t.Checks {
			cs = append(cs, ch.Op+" "+ch.Version)
		}
		checks = append(checks, templates.QuoteShell(strings.Join(cs, " ")))
	}
	s.line("tools=(%s)", strings.Join(names, " "))
	s.line("constraints=(%s)", strings.Join(constraints, " "))
	s.line("checks=(%s)", strings.Join(checks, " "))
	s.line("commands=(")
	for _, cmd := range c.commands(step) {
		s.line("\t%s", templates.QuoteShell(cmd.Run))
	}
	s.line(")")
	mode := "none"
	switch step {
	case StepTest:
		mode = "optional"
	case StepStage, StepRelease:
		mode = "required"
	}
	s.line("environment_mode=%s", mode)
	s.line("environments=%s", templates.QuoteShell(strings.Join(c.envNames(), ", ")))
	s.line("")
	s.line("# environment adds the variables of the environment named $1 to vars,")
	s.line("# as NAME=value for env(1): only the commands see them.")
	s.line("environment() {")
	s.line("\tcase $1 in")
	for _, e := range c.Environments {
		s.line("\t%s)", templates.QuoteShell(e.Name))
		for _, v := range e.Vars {
			s.line("\t\tvars+=(%s)", templates.QuoteShell(v.Name+"="+v.Value))
		}
		s.line("\t\t;;")
	}
	s.line("\t*) return 1 ;;")
	s.line("\tesac")
	s.line("}")
	s.WriteString(stepScript)
	return []File{{Path: "job.yaml", Data: []byte(y.String())}, {Path: "run.sh", Data: []byte(s.String())}}
}

// watch generates the worker that Jenkins' git polling runs when the
// watched path changes, and that then runs build-test on the commit.
func (g *generator) watch(c *Component) []File {
	name := WatchJob(c.Name)
	where := "the repository"
	if c.Path != "" {
		where = c.Path + "/"
	}
	var y text
	header(&y, c, name)
	y.line("kind: worker")
	desc := fmt.Sprintf("Watches %s of %s on %s: Jenkins polls it (and takes push notifications), runs this job when new commits change files there, and this job runs %s on the commit.", where, c.Repository, c.Branch, BuildTestJob(c.Name))
	y.line("description: %s", QuoteYAML(desc))
	y.line("outputs:")
	y.line("  git_hash: {type: string, required: true, description: \"The commit that changed %s.\"}", where)
	y.line("concurrent: false")
	y.line("watch:")
	y.line("  repository: %s", QuoteYAML(c.Repository))
	y.line("  branch: %s", QuoteYAML(c.Branch))
	if c.Path != "" {
		y.line("  paths: [%s]", QuoteYAML(c.Path))
	}
	if c.Poll != jobs.DefaultWatchPoll {
		y.line("  poll: %s", QuoteYAML(c.Poll))
	}
	y.line("  trigger: %s", BuildTestJob(c.Name))
	y.line("script: run.sh")

	var s text
	s.line("#!/usr/bin/env bash")
	header(&s, c, name)
	s.line("#")
	s.line("# Jenkins checked out the new commit (GIT_COMMIT) before this runs; when")
	s.line("# it succeeds, Jenkins runs %s with GIT_REF=$GIT_COMMIT.", BuildTestJob(c.Name))
	s.line("set -u")
	s.line("if [[ ! ${GIT_COMMIT:-} =~ ^[0-9a-f]{40}$ ]]; then")
	s.line("\techo \"no GIT_COMMIT: Jenkins' git polling starts this job\" >\"$JOBCTL_REPORT_REASON\"")
	s.line("\texit 1")
	s.line("fi")
	s.line("printf '{\"git_hash\":\"%%s\"}\\n' \"$GIT_COMMIT\" >\"$JOBCTL_REPORT_DATA\"")
	s.line("echo %s\"$GIT_COMMIT\"", templates.QuoteShell(where+" changed at "))
	return []File{{Path: "job.yaml", Data: []byte(y.String())}, {Path: "run.sh", Data: []byte(s.String())}}
}

// ---------------------------------------------------------------- flows

type flowStep struct {
	name, job string
	params    [][2]string // name, value as YAML
}

type flowPhase struct {
	name  string
	steps []flowStep
}

func writeFlow(t *text, phases []flowPhase, report [][2]string) {
	t.line("phases:")
	for _, ph := range phases {
		t.line("  - name: %s", ph.name)
		t.line("    steps:")
		for _, st := range ph.steps {
			t.line("      - job: %s", st.job)
			t.line("        name: %s", st.name)
			if len(st.params) > 0 {
				t.line("        params:")
				for _, p := range st.params {
					t.line("          %s: %s", p[0], p[1])
				}
			}
		}
	}
	if len(report) > 0 {
		t.line("report:")
		t.line("  data:")
		for _, r := range report {
			t.line("    %s: %s", r[0], r[1])
		}
	}
}

func orchestration(c *Component, name, desc string, params func(*text), outputs [][2]string) text {
	var y text
	header(&y, c, name)
	y.line("kind: orchestration")
	y.line("description: %s", QuoteYAML(desc))
	y.line("params:")
	params(&y)
	if len(outputs) > 0 {
		y.line("outputs:")
		for _, o := range outputs {
			y.line("  %s: {type: string, description: %s}", o[0], QuoteYAML(o[1]))
		}
	}
	y.line("flow: flow.yaml")
	return y
}

// pipeline generates build-test, build-test-stage or
// build-test-stage-release.
func (g *generator) pipeline(c *Component, stage, release bool) []File {
	name, what := BuildTestJob(c.Name), "builds and tests"
	switch {
	case release:
		name, what = BuildTestStageReleaseJob(c.Name), "builds, tests, stages and releases"
		if !stage {
			what = "builds, tests and releases"
		}
	case stage:
		name, what = BuildTestStageJob(c.Name), "builds, tests and stages"
	}
	desc := fmt.Sprintf("%s %s %s at GIT_REF, one step after the other, each on the commit the build checked out.", strings.ToUpper(what[:1])+what[1:], c.Name, map[bool]string{true: "in ENVIRONMENT", false: ""}[stage || release])
	desc = strings.Replace(desc, "  ", " ", 1)
	y := orchestration(c, name, desc, func(t *text) {
		refParam(t, "GIT_REF", c.Branch, "The branch, tag or commit of "+c.Repository+" to build.")
		if stage || release {
			envParam(t, c.envNames(), "The environment to stage and release "+c.Name+" in.")
		}
	}, [][2]string{{"git_hash", "The commit that was built."}})
	hash := "${build.data.git_hash}"
	phases := []flowPhase{{name: "build", steps: []flowStep{{name: "build", job: StepJob(c.Name, StepBuild), params: [][2]string{{"GIT_REF", "${params.GIT_REF}"}}}}}}
	if len(c.Test) > 0 {
		phases = append(phases, flowPhase{name: "test", steps: []flowStep{{name: "test", job: StepJob(c.Name, StepTest), params: [][2]string{{"GIT_REF", hash}}}}})
	}
	if stage {
		phases = append(phases, flowPhase{name: "stage", steps: []flowStep{{name: "stage", job: StepJob(c.Name, StepStage), params: [][2]string{{"GIT_REF", hash}, {"ENVIRONMENT", "${params.ENVIRONMENT}"}}}}})
	}
	if release {
		phases = append(phases, flowPhase{name: "release", steps: []flowStep{{name: "release", job: StepJob(c.Name, StepRelease), params: [][2]string{{"GIT_REF", hash}, {"ENVIRONMENT", "${params.ENVIRONMENT}"}}}}})
	}
	var f text
	header(&f, c, name)
	writeFlow(&f, phases, [][2]string{{"git_hash", hash}})
	return []File{{Path: "job.yaml", Data: []byte(y.String())}, {Path: "flow.yaml", Data: []byte(f.String())}}
}

// closure returns the components c depends on, directly or not, in
// dependency levels (as Order), and those that depend on c, directly or
// not, sorted by name.
func (g *generator) closure(c *Component) (deps [][]*Component, dependents []*Component) {
	in := map[string]bool{}
	var visit func(x *Component)
	visit = func(x *Component) {
		for _, r := range x.DependsOn {
			if d := g.byName[r.Name]; d != nil && !in[d.Name] {
				in[d.Name] = true
				visit(d)
			}
		}
	}
	visit(c)
	for _, level := range g.order {
		var l []*Component
		for _, x := range level {
			if in[x.Name] {
				l = append(l, x)
			}
		}
		if len(l) > 0 {
			deps = append(deps, l)
		}
	}
	seen := map[string]bool{}
	var up func(x *Component)
	up = func(x *Component) {
		for _, d := range g.dependents[x.Name] {
			if !seen[d.Name] {
				seen[d.Name] = true
				dependents = append(dependents, d)
				up(d)
			}
		}
	}
	up(c)
	sort.Slice(dependents, func(i, j int) bool { return dependents[i].Name < dependents[j].Name })
	return deps, dependents
}

// integration generates c's integration job: it stages the production
// versions of everything c depends on into a test environment, stages c,
// and runs the tests of everything that depends on c against it. Its
// environments are those of c that every staged dependency also has.
func (g *generator) integration(c *Component) []File {
	name := IntegrationJob(c.Name)
	deps, dependents := g.closure(c)
	var envs []string
	for _, e := range c.envNames() {
		ok := true
		for _, level := range deps {
			for _, d := range level {
				if _, has := d.Environment(e); len(d.Stage) > 0 && !has {
					ok = false
				}
			}
		}
		if ok {
			envs = append(envs, e)
		}
	}
	if len(envs) == 0 {
		g.problems = append(g.problems, genProblem{c, fmt.Sprintf("%s stages %s and what it depends on into one environment, but they share none: give them a common test environment", name, c.Name)})
		return nil
	}
	var phases []flowPhase
	var report [][2]string
	var outputs [][2]string
	for i, level := range deps {
		ph := flowPhase{name: fmt.Sprintf("dependencies_%d", i+1)}
		for _, d := range level {
			if len(d.Stage) == 0 {
				continue
			}
			ph.steps = append(ph.steps, flowStep{name: identifier(d.Name), job: StepJob(d.Name, StepStage),
				params: [][2]string{{"GIT_REF", "${params." + RefParam(d.Name) + "}"}, {"ENVIRONMENT", "${params.ENVIRONMENT}"}}})
		}
		if len(ph.steps) > 0 {
			phases = append(phases, ph)
		}
	}
	self := "stage_" + identifier(c.Name)
	phases = append(phases, flowPhase{name: "stage", steps: []flowStep{{name: self, job: StepJob(c.Name, StepStage),
		params: [][2]string{{"GIT_REF", "${params.GIT_REF}"}, {"ENVIRONMENT", "${params.ENVIRONMENT}"}}}}})
	report = append(report, [2]string{"git_hash", "${" + self + ".data.git_hash}"})
	outputs = append(outputs, [2]string{"git_hash", "The commit of " + c.Name + " that was staged."})
	var tests flowPhase
	tests.name = "dependents"
	for _, d := range dependents {
		if len(d.Test) == 0 {
			continue
		}
		tests.steps = append(tests.steps, flowStep{name: "test_" + identifier(d.Name), job: StepJob(d.Name, StepTest),
			params: [][2]string{{"GIT_REF", "${params." + RefParam(d.Name) + "}"}, {"ENVIRONMENT", "${params.ENVIRONMENT}"}}})
	}
	if len(tests.steps) > 0 {
		phases = append(phases, tests)
	}
	desc := fmt.Sprintf("Integration of %s: stages the production versions of what it depends on into ENVIRONMENT, stages %s at GIT_REF, then runs the tests of every component that depends on it there.", c.Name, c.Name)
	y := orchestration(c, name, desc, func(t *text) {
		refParam(t, "GIT_REF", c.Branch, "The branch, tag or commit of "+c.Name+" to integrate.")
		envParam(t, envs, "The test environment to stage into.")
		for _, level := range deps {
			for _, d := range level {
				if len(d.Stage) > 0 {
					refParam(t, RefParam(d.Name), d.ProductionRef, "The version of "+d.Name+" to stage: by default the ref that names what runs in production.")
				}
			}
		}
		for _, d := range tests.steps {
			dc := g.byName[strings.TrimSuffix(d.job, "-"+StepTest)]
			refParam(t, RefParam(dc.Name), dc.Branch, "The branch, tag or commit of "+dc.Name+" whose tests run.")
		}
	}, outputs)
	var f text
	header(&f, c, name)
	writeFlow(&f, phases, report)
	return []File{{Path: "job.yaml", Data: []byte(y.String())}, {Path: "flow.yaml", Data: []byte(f.String())}}
}

// environments generates <env>-stage and <env>-release: every component
// that has the environment and the step, in dependency order, the
// components of a level at the same time.
func (g *generator) environments() {
	seen := map[string]bool{}
	var envs []string
	for _, level := range g.order {
		for _, c := range level {
			for _, e := range c.Environments {
				if !seen[e.Name] {
					seen[e.Name] = true
					envs = append(envs, e.Name)
				}
			}
		}
	}
	sort.Strings(envs)
	for _, env := range envs {
		for _, step := range []string{StepStage, StepRelease} {
			g.envJob(env, step)
		}
	}
}

func (g *generator) envJob(env, step string) {
	name := EnvJob(env, step)
	var phases []flowPhase
	var members []*Component
	var report, outputs [][2]string
	for _, level := range g.order {
		ph := flowPhase{name: fmt.Sprintf("level_%d", len(phases)+1)}
		for _, c := range level {
			if _, ok := c.Environment(env); !ok || len(c.commands(step)) == 0 {
				continue
			}
			members = append(members, c)
			id := identifier(c.Name)
			ph.steps = append(ph.steps, flowStep{name: id, job: StepJob(c.Name, step),
				params: [][2]string{{"GIT_REF", "${params." + RefParam(c.Name) + "}"}, {"ENVIRONMENT", QuoteYAML(env)}}})
			report = append(report, [2]string{id, "${" + id + ".data.git_hash}"})
			outputs = append(outputs, [2]string{id, "The commit of " + c.Name + " that was " + step + "d."})
		}
		if len(ph.steps) > 0 {
			phases = append(phases, ph)
		}
	}
	if len(members) == 0 {
		return
	}
	at := members[0]
	desc := fmt.Sprintf("%s every component into %s, in dependency order; the components of a level run at the same time, and a failure stops the levels after it.", stepVerb[step], env)
	y := orchestration(nil, name, desc, func(t *text) {
		for _, c := range members {
			refParam(t, RefParam(c.Name), c.Branch, "The branch, tag or commit of "+c.Name+" to "+step+".")
		}
	}, outputs)
	var f text
	header(&f, nil, name)
	writeFlow(&f, phases, report)
	g.add(name, "the "+step+" orchestration of environment "+env, at, "",
		File{Path: "job.yaml", Data: []byte(y.String())}, File{Path: "flow.yaml", Data: []byte(f.String())})
}

// RenderDir is where jobctl components render writes the generated job
// sources by default, relative to the repository root; messages about a
// generated job name its files there.
const RenderDir = "build/components"
