// Package components reads component files (components/<name>.yaml): a
// deployable module described once, with its repository, tool requirements,
// build/test/stage/release commands, environments and dependencies. From
// them jobctl generates ordinary job sources (DESIGN.md §9); this package
// only parses and validates them, and orders them by dependency.
package components

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/jobctl/jobctl/cron"
	"github.com/jobctl/jobctl/jobs"
)

// Dir is the folder of component files, relative to the repository root.
const Dir = "components"

// Component is one components/<name>.yaml.
type Component struct {
	// Name is the file's name without .yaml; File its path relative to the
	// repository root, with '/'.
	Name string
	File string

	Description string
	// Repository is a git URL or a local path (file://… or /abs/path).
	Repository string
	// Path is the folder in the repository whose changes trigger the
	// build-test job, cleaned and without a trailing '/'; "" is the whole
	// repository.
	Path string
	// Branch is the branch build-test builds and watches (default "main").
	Branch string
	// ProductionRef is the git ref (tag or branch) naming the version that
	// runs in production (default "production"): integration jobs stage
	// it. The component's release commands are expected to move it.
	ProductionRef string
	// Poll is how often Jenkins polls the repository for changes under
	// Path (Jenkins cron, default "H/5 * * * *"), or "none" to build only
	// on push notifications.
	Poll string
	// Timeout bounds each generated worker's run, as written ("30m",
	// "none"); "" takes the project's default.
	Timeout string

	Tools                       []Tool
	Build, Test, Stage, Release []Command
	Environments                []Environment
	DependsOn                   []Ref

	// Line and Col are the position of the file's top-level mapping.
	Line, Col int
}

// Tool is one tool requirement: a go-version constraint on the version the
// tool prints. A bare version ("8.12.0") means exactly that version.
type Tool struct {
	Name       string
	Constraint string
	// Checks is Constraint compiled to plain comparisons (jobs.VersionChecks).
	Checks    []jobs.VersionCheck
	Line, Col int
}

// Command is one shell command of a step.
type Command struct {
	Run       string
	Line, Col int
}

// Environment is a place the component is staged and released to, with
// the variables its commands see.
type Environment struct {
	Name      string
	Vars      []Var
	Line, Col int
}

// Var is one environment variable, in the order written.
type Var struct {
	Name, Value string
	Line, Col   int
}

// Ref names another component, at the place it is named.
type Ref struct {
	Name      string
	Line, Col int
}

// Environment looks an environment up by name.
func (c *Component) Environment(name string) (Environment, bool) {
	for _, e := range c.Environments {
		if e.Name == name {
			return e, true
		}
	}
	return Environment{}, false
}

// Load reads every components/*.yaml under root, sorted by name, and checks
// them together. A missing components folder is no components. Every
// problem in every file is reported in one *jobs.InputError.
func Load(root string) ([]*Component, error) {
	entries, err := os.ReadDir(filepath.Join(root, Dir))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", Dir, err)
	}
	var ps jobs.Problems
	var cs []*Component
	var broken []string // components whose file has problems
	for _, e := range entries {
		name := e.Name()
		file := Dir + "/" + name
		switch {
		case strings.HasPrefix(name, "."):
			continue
		case e.IsDir() || !strings.HasSuffix(name, ".yaml"):
			ps.Add(file, 0, 0, "not a component file; every component is described in components/<name>.yaml")
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, Dir, name))
		if err != nil {
			ps.Add(file, 0, 0, "%v", err)
			continue
		}
		if c := Parse(file, data, &ps); c != nil {
			cs = append(cs, c)
		} else {
			broken = append(broken, strings.TrimSuffix(name, ".yaml"))
		}
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
	// The cross-file checks run on the files that parse; a file with
	// problems still counts as an existing dependency.
	check(cs, broken, &ps)
	if err := ps.Err(); err != nil {
		return nil, err
	}
	return cs, nil
}

var keys = []string{
	"description", "repository", "path", "tools", "build", "test", "stage",
	"release", "environments", "depends_on", "branch", "production_ref", "timeout", "poll",
}

var (
	// The same rules as job params (jobs/job.go) and tools (requires.tools).
	varNameRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	toolNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.+-]*$`)
)

// reservedVars are set by Jenkins, the shell or the worker wrapper (as for
// job params), plus the variables generated workers set themselves: the
// environment's name, the git ref to check out and the hash checked out.
var reservedVars = []string{
	"BASH_ENV", "BUILD_ID", "BUILD_NUMBER", "BUILD_TAG", "BUILD_URL", "ENV", "ENVIRONMENT",
	"EXECUTOR_NUMBER", "GIT_HASH", "GIT_REF", "HOME", "IFS", "JENKINS_HOME", "JENKINS_URL",
	"JOB_BASE_NAME", "JOB_NAME", "JOB_URL", "LD_LIBRARY_PATH", "LD_PRELOAD", "NODE_LABELS",
	"NODE_NAME", "PATH", "PWD", "SHELL", "WORKSPACE",
}

// checkVarName returns what is wrong with a variable name, or "", in the
// words jobs uses for param names.
func checkVarName(s string) string {
	switch {
	case !varNameRE.MatchString(s):
		return "a variable name must be a valid environment variable name (letters, digits and '_', not starting with a digit)"
	case len(s) > 100:
		return "a variable name can be at most 100 characters"
	case strings.HasPrefix(strings.ToUpper(s), "JOBCTL_"):
		return "names starting with JOBCTL_ are reserved for jobctl"
	case contains(reservedVars, strings.ToUpper(s)):
		return "this name is set by Jenkins, the shell or jobctl on every build; choose another"
	}
	return ""
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

// str reads a scalar as text: numbers and booleans are taken as written.
func (d *decoder) str(n *yaml.Node, what string) (string, bool) {
	n = jobs.ResolveAlias(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		found := "nothing"
		if n != nil {
			found = jobs.KindName(n)
		}
		d.add(n, "%s must be a string, found %s", what, found)
		return "", false
	}
	return n.Value, true
}

// text reads a single-line-or-more string that a job definition can carry.
func (d *decoder) text(n *yaml.Node, what string) (string, bool) {
	s, ok := d.str(n, what)
	if !ok {
		return "", false
	}
	if err := jobs.ValidText(s); err != nil {
		d.add(jobs.ResolveAlias(n), "%s %v", what, err)
		return "", false
	}
	return s, true
}

// list reads a list of scalars, or a single scalar as a list of one.
func (d *decoder) list(n *yaml.Node, what string) []*yaml.Node {
	n = jobs.ResolveAlias(n)
	switch {
	case n.Kind == yaml.ScalarNode && n.Tag == "!!null":
		return nil
	case n.Kind == yaml.ScalarNode:
		return []*yaml.Node{n}
	case n.Kind == yaml.SequenceNode:
		return n.Content
	}
	d.add(n, "%s must be a list, found %s", what, jobs.KindName(n))
	return nil
}

// Parse parses the contents of a component file; file is its path relative
// to the repository root and names the component. Every problem is recorded
// in ps; the component is returned only when the file has none.
func Parse(file string, data []byte, ps *jobs.Problems) *Component {
	before := ps.Len()
	d := &decoder{file: file, ps: ps}
	c := &Component{Name: strings.TrimSuffix(path.Base(file), ".yaml"), File: file,
		Branch: DefaultBranch, ProductionRef: DefaultProductionRef, Poll: jobs.DefaultWatchPoll}
	if err := jobs.CheckName(c.Name); err != nil {
		ps.Add(file, 0, 0, "component name (the file's name): %v", err)
	}
	root := jobs.ParseYAML(file, data, ps)
	if root == nil {
		return nil
	}
	root = jobs.ResolveAlias(root)
	c.Line, c.Col = root.Line, root.Column
	f := map[string]jobs.Entry{}
	for _, e := range jobs.MappingEntries(root, "component", keys, d.add) {
		f[e.Key.Value] = e
	}
	if ps.Len() > before && root.Kind != yaml.MappingNode {
		return nil // not a mapping: nothing else to say
	}
	if e, ok := f["description"]; ok {
		c.Description, _ = d.text(e.Val, "description")
	}
	if e, ok := f["repository"]; ok {
		c.Repository = d.repository(e.Val)
	} else {
		d.add(root, "missing required key \"repository\" (a git URL or a local path)")
	}
	if e, ok := f["path"]; ok {
		c.Path = d.path(e.Val)
	}
	if e, ok := f["branch"]; ok {
		c.Branch = d.ref(e.Val, "branch")
	}
	if e, ok := f["production_ref"]; ok {
		c.ProductionRef = d.ref(e.Val, "production_ref")
	}
	if e, ok := f["poll"]; ok {
		if s, ok := d.str(e.Val, "poll"); ok {
			if _, err := cron.Parse(s); err != nil && s != jobs.NoPoll {
				d.add(jobs.ResolveAlias(e.Val), "poll %q: write a Jenkins cron schedule such as \"H/5 * * * *\", or none to build on push notifications only: %v", s, err)
			}
			c.Poll = s
		}
	}
	if e, ok := f["timeout"]; ok {
		if s, ok := d.str(e.Val, "timeout"); ok {
			if _, err := jobs.ParseDuration(s); err != nil && s != "none" {
				d.add(jobs.ResolveAlias(e.Val), "timeout %q: write a duration such as 30m or 1h30m, or none", s)
			}
			c.Timeout = s
		}
	}
	if e, ok := f["tools"]; ok {
		c.Tools = d.tools(e.Val)
	}
	if e, ok := f["build"]; ok {
		n := ps.Len()
		if c.Build = d.commands(e.Val, "build"); len(c.Build) == 0 && ps.Len() == n {
			d.add(jobs.ResolveAlias(e.Val), "build needs at least one command")
		}
	} else {
		d.add(root, "missing required key \"build\" (a list of shell commands)")
	}
	for _, step := range []struct {
		key string
		to  *[]Command
	}{{"test", &c.Test}, {"stage", &c.Stage}, {"release", &c.Release}} {
		if e, ok := f[step.key]; ok {
			*step.to = d.commands(e.Val, step.key)
		}
	}
	if e, ok := f["environments"]; ok {
		c.Environments = d.environments(e.Val)
	}
	if len(c.Environments) == 0 {
		for _, step := range []struct {
			key  string
			cmds []Command
		}{{"stage", c.Stage}, {"release", c.Release}} {
			if len(step.cmds) > 0 {
				d.add(f[step.key].Key, "%s needs at least one environment to run in; add environments:", step.key)
			}
		}
	}
	if e, ok := f["depends_on"]; ok {
		c.DependsOn = d.dependsOn(e.Val, c.Name)
	}
	if ps.Len() > before {
		return nil
	}
	return c
}

func (d *decoder) repository(n *yaml.Node) string {
	s, ok := d.text(n, "repository")
	if !ok {
		return ""
	}
	if msg := jobs.CheckRepository(s); msg != "" {
		d.add(jobs.ResolveAlias(n), "repository %q: %s", s, msg)
		return ""
	}
	return s
}

// Defaults of a component file.
const (
	DefaultBranch        = "main"
	DefaultProductionRef = "production"
)

// ref reads a branch or tag name.
func (d *decoder) ref(n *yaml.Node, what string) string {
	s, ok := d.str(n, what)
	if !ok {
		return ""
	}
	if msg := jobs.CheckBranch(s); msg != "" {
		d.add(jobs.ResolveAlias(n), "%s %q: %s", what, s, msg)
	}
	return s
}

func (d *decoder) path(n *yaml.Node) string {
	s, ok := d.text(n, "path")
	if !ok {
		return ""
	}
	clean, ok := jobs.CleanRepoPath(s)
	if !ok {
		d.add(jobs.ResolveAlias(n), "path %q must be a folder inside the repository, made of letters, digits, '.', '_', '-' and '/'", s)
	}
	return clean
}

func (d *decoder) tools(n *yaml.Node) []Tool {
	var out []Tool
	for _, e := range jobs.MappingEntries(n, "tools", nil, d.add) {
		t := Tool{Name: e.Key.Value, Line: e.Key.Line, Col: e.Key.Column}
		what := "tool " + t.Name
		if !toolNameRE.MatchString(t.Name) {
			d.add(e.Key, "%s: a tool is named by its command, e.g. node or python3", what)
		}
		if s, ok := d.str(e.Val, what+" version"); ok {
			checks, err := jobs.VersionChecks(s)
			if err != nil {
				d.add(jobs.ResolveAlias(e.Val), "%s: %v", what, err)
			} else if !satisfiable(checks) {
				d.add(jobs.ResolveAlias(e.Val), "%s: the constraint %q can never hold", what, s)
			}
			t.Constraint, t.Checks = s, checks
		}
		out = append(out, t)
	}
	return out
}

func (d *decoder) commands(n *yaml.Node, what string) []Command {
	var out []Command
	for _, c := range d.list(n, what) {
		s, ok := d.text(c, what+" command")
		if !ok {
			continue
		}
		if strings.TrimSpace(s) == "" {
			d.add(c, "%s: a command cannot be empty", what)
			continue
		}
		out = append(out, Command{Run: s, Line: c.Line, Col: c.Column})
	}
	return out
}

func (d *decoder) environments(n *yaml.Node) []Environment {
	var out []Environment
	for _, e := range jobs.MappingEntries(n, "environments", nil, d.add) {
		env := Environment{Name: e.Key.Value, Line: e.Key.Line, Col: e.Key.Column}
		if err := jobs.CheckName(env.Name); err != nil {
			d.add(e.Key, "environment name %v", err)
		}
		what := "environment " + env.Name
		for _, v := range jobs.MappingEntries(e.Val, what, nil, d.add) {
			name := v.Key.Value
			if msg := checkVarName(name); msg != "" {
				d.add(v.Key, "%s: variable %q: %s", what, name, msg)
			}
			val, _ := d.text(v.Val, what+": variable "+name)
			env.Vars = append(env.Vars, Var{Name: name, Value: val, Line: v.Key.Line, Col: v.Key.Column})
		}
		out = append(out, env)
	}
	return out
}

func (d *decoder) dependsOn(n *yaml.Node, self string) []Ref {
	var out []Ref
	seen := map[string]int{}
	for _, x := range d.list(n, "depends_on") {
		s, ok := d.str(x, "depends_on entry")
		if !ok {
			continue
		}
		switch line, dup := seen[s]; {
		case jobs.CheckName(s) != nil:
			d.add(x, "depends_on: %v", jobs.CheckName(s))
		case s == self:
			d.add(x, "depends_on: a component cannot depend on itself")
		case dup:
			d.add(x, "depends_on: %q is listed twice (first at line %d)", s, line)
		default:
			seen[s] = x.Line
			out = append(out, Ref{Name: s, Line: x.Line, Col: x.Column})
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
