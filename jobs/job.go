package jobs

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Kind says what a job is: a worker does work, an orchestration runs workers.
type Kind string

const (
	Worker        Kind = "worker"
	Orchestration Kind = "orchestration"
)

// Job is one jobs/<name>/job.yaml, with the project's defaults applied.
type Job struct {
	// Name is the job's common name: the name of its folder under jobs/.
	Name string
	// File is the job.yaml's path relative to the repository root, with '/'.
	File string
	Kind Kind

	Description string
	Params      []Param
	Outputs     []Field

	// Script is a worker's body, relative to the repository root.
	Script string
	// Pipeline is a raw-Groovy orchestration's script, relative to the repository root.
	Pipeline string
	// Flow is a flow orchestration's definition: FlowFile names a file, or
	// FlowNode holds it inline in job.yaml.
	FlowFile string
	FlowNode *yaml.Node
	// BodyLine is the line of job.yaml that names the body (for messages).
	BodyLine, BodyCol int

	Label      string
	Schedule   string
	Concurrent bool
	Timeout    time.Duration
	Retries    int
	Keep       Keep
	Requires   Requires
	// Watch, for a worker, polls a git repository and runs a job when a
	// commit changes what it watches; nil for none.
	Watch *Watch
}

// Dir is the job's folder relative to the repository root.
func (j *Job) Dir() string { return path.Dir(j.File) }

// Param looks a parameter up by name.
func (j *Job) Param(name string) (Param, bool) {
	for _, p := range j.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// ParamType is the type of a job parameter.
type ParamType string

const (
	String   ParamType = "string"
	Boolean  ParamType = "boolean"
	Choice   ParamType = "choice"
	Password ParamType = "password"
)

// Param is a typed input of a job. Parameters arrive in worker bodies as
// environment variables of the same name.
type Param struct {
	Name        string
	Type        ParamType
	Description string
	Required    bool
	// Default is the default value as text ("true"/"false" for booleans).
	Default    string
	HasDefault bool
	// Choices lists a choice parameter's values; the default comes first, as
	// Jenkins takes the first choice as the default.
	Choices []string
	Line    int
	Col     int
}

// Requires lists what a job needs from the master and from its agent.
type Requires struct {
	Plugins []Requirement
	Tools   []Requirement
}

// A Requirement is a version constraint (hashicorp/go-version syntax) on a
// master plugin or an agent tool.
type Requirement struct {
	Name       string
	Constraint string
	// Probe is, for a tool, the shell command that prints its version.
	Probe string
	Line  int
	Col   int
}

var (
	nameRE      = regexp.MustCompile(`^[a-z][a-z0-9_]*(-[a-z0-9_]+)*$`)
	paramNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	toolNameRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.+-]*$`)
	pluginRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
)

var safePathRE = regexp.MustCompile(`^[A-Za-z0-9_.][A-Za-z0-9_.-]*(/[A-Za-z0-9_.][A-Za-z0-9_.-]*)*$`)

// SafePath reports whether a repository-relative path is made of plain
// characters only. Source paths are written into comments of generated
// Groovy and shell, so a line break or quote in one must never get there.
func SafePath(p string) bool { return safePathRE.MatchString(p) }

// MaxNameLength bounds common names so deployed names stay well inside file
// system limits on the master.
const MaxNameLength = 80

// checkName returns what is wrong with a common or project name, or "".
func checkName(s string) string {
	switch {
	case s == "":
		return "a name cannot be empty"
	case len(s) > MaxNameLength:
		return fmt.Sprintf("a name can be at most %d characters", MaxNameLength)
	case !nameRE.MatchString(s):
		return "a name must start with a lowercase letter and hold only lowercase letters, digits, '_' and single '-' (not at the end)"
	case deployedRE.MatchString(s):
		return "a name must not itself look like a deployed name (<name>-v<N>-<hash>)"
	}
	return ""
}

// CheckName reports whether s can be a job's common name.
func CheckName(s string) error {
	if msg := checkName(s); msg != "" {
		return fmt.Errorf("%q: %s", s, msg)
	}
	return nil
}

func checkLabel(s string) string {
	switch {
	case strings.TrimSpace(s) == "":
		return "a label cannot be empty; leave the key out to run anywhere"
	case strings.ContainsAny(s, "\n\r"):
		return "a label cannot span lines"
	case len(s) > 500:
		return "a label expression can be at most 500 characters"
	}
	return ""
}

// reservedParams are environment variables Jenkins or the worker wrapper
// set; a parameter of that name would be silently overwritten or break the agent.
var reservedParams = []string{
	"BASH_ENV", "BUILD_ID", "BUILD_NUMBER", "BUILD_TAG", "BUILD_URL", "ENV",
	"EXECUTOR_NUMBER", "HOME", "IFS", "JENKINS_HOME", "JENKINS_URL", "JOB_BASE_NAME",
	"JOB_NAME", "JOB_URL", "LD_LIBRARY_PATH", "LD_PRELOAD", "NODE_LABELS", "NODE_NAME",
	"PATH", "PWD", "SHELL", "WORKSPACE",
}

func checkParamName(s string) string {
	switch {
	case !paramNameRE.MatchString(s):
		return "a param name must be a valid environment variable name (letters, digits and '_', not starting with a digit)"
	case len(s) > 100:
		return "a param name can be at most 100 characters"
	case strings.HasPrefix(strings.ToUpper(s), "JOBCTL_"):
		return "names starting with JOBCTL_ are reserved for jobctl"
	case contains(reservedParams, strings.ToUpper(s)):
		return "this name is set by Jenkins or the shell on every build; choose another"
	}
	return ""
}

// validText reports what makes s unusable in a job definition, or "". Job
// XML cannot carry NUL or most control characters, and must be valid UTF-8.
func validText(s string) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	for i, r := range s {
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0xFFFE || r == 0xFFFF {
			return fmt.Sprintf("contains the control character U+%04X at byte %d, which Jenkins job XML cannot carry", r, i)
		}
	}
	return ""
}

// ValidText reports whether s can be carried in a job definition.
func ValidText(s string) error {
	if msg := validText(s); msg != "" {
		return fmt.Errorf("%s", msg)
	}
	return nil
}

var jobKeys = []string{
	"kind", "description", "params", "outputs", "script", "flow", "pipeline",
	"label", "schedule", "concurrent", "timeout", "retries", "keep", "requires",
	"watch",
}

// ParseJob parses the contents of jobs/<name>/job.yaml. file is its path
// relative to the repository root; defaults come from jobctl.yaml. Every
// problem is recorded in ps; the returned job is nil only when the file is
// not YAML at all.
func ParseJob(file, name string, data []byte, defaults Defaults, ps *Problems) *Job {
	d := &decoder{file: file, ps: ps}
	j := &Job{
		Name:       name,
		File:       file,
		Label:      defaults.Label,
		Concurrent: defaults.Concurrent,
		Timeout:    defaults.Timeout,
		Retries:    defaults.Retries,
		Keep:       defaults.Keep,
	}
	if msg := checkName(name); msg != "" {
		ps.Add(path.Dir(file), 0, 0, "job name %q (the folder's name): %s", name, msg)
	}
	root := ParseYAML(file, data, ps)
	if root == nil {
		return nil
	}
	f := d.mapping(root, "job", jobKeys...)

	if v, ok := f["kind"]; ok {
		if s, ok := d.str(v.val, "kind"); ok {
			switch Kind(s) {
			case Worker, Orchestration:
				j.Kind = Kind(s)
			default:
				d.add(v.val, "kind must be worker or orchestration, found %q%s", s, DidYouMean(s, []string{"worker", "orchestration"}))
			}
		}
	} else {
		d.add(root, "missing required key \"kind\" (worker or orchestration)")
	}
	if v, ok := f["description"]; ok {
		if s, ok := d.str(v.val, "description"); ok {
			if msg := validText(s); msg != "" {
				d.add(v.val, "description %s", msg)
			}
			j.Description = s
		}
	}
	if v, ok := f["params"]; ok {
		j.Params = d.params(v.val)
	}
	if v, ok := f["outputs"]; ok {
		j.Outputs = d.fields(v.val, "outputs", 0)
	}
	if v, ok := f["label"]; ok {
		j.Label = d.label(v.val)
	}
	if v, ok := f["schedule"]; ok {
		j.Schedule = d.schedule(v.val)
	}
	if v, ok := f["concurrent"]; ok {
		j.Concurrent, _ = d.boolean(v.val, "concurrent")
	}
	if v, ok := f["timeout"]; ok {
		j.Timeout = d.timeout(v.val)
	}
	if v, ok := f["retries"]; ok {
		j.Retries, _ = d.integer(v.val, "retries", 0, MaxRetries)
		if j.Kind == Orchestration {
			d.add(v.key, "retries applies to workers only; an orchestration decides itself which steps to retry")
		}
	}
	if v, ok := f["keep"]; ok {
		j.Keep = d.keepOver(v.val, defaults.Keep)
	}
	if v, ok := f["requires"]; ok {
		j.Requires = d.requires(v.val)
		if j.Kind == Orchestration && len(j.Requires.Tools) > 0 {
			d.add(v.val, "requires.tools applies to workers only: an orchestration runs no tools itself")
		}
	}
	if v, ok := f["watch"]; ok {
		j.Watch = d.watch(v)
		if j.Kind == Orchestration {
			d.add(v.key, "watch applies to workers only: the worker polls the repository and runs the job named by watch.trigger")
		}
	}
	d.body(j, f, root)
	return j
}

// body resolves which file holds the job's body and checks it fits the kind.
func (d *decoder) body(j *Job, f map[string]field, root *yaml.Node) {
	script, hasScript := f["script"]
	pipeline, hasPipeline := f["pipeline"]
	flow, hasFlow := f["flow"]
	dir := path.Dir(j.File)
	relFile := func(v field, what string) string {
		s, ok := d.str(v.val, what)
		if !ok {
			return ""
		}
		clean := path.Clean(s)
		if s == "" || path.IsAbs(s) || clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains(s, "\\") {
			d.add(v.val, "%s must name a file inside the job's folder, found %q", what, s)
			return ""
		}
		if !SafePath(clean) {
			d.add(v.val, "%s %q: file names may hold only letters, digits, '.', '_', '-' and '/'", what, s)
			return ""
		}
		j.BodyLine, j.BodyCol = v.val.Line, v.val.Column
		return path.Join(dir, clean)
	}
	switch j.Kind {
	case Worker:
		if hasPipeline {
			d.add(pipeline.key, "pipeline is for orchestrations; a worker's body is its script")
		}
		if hasFlow {
			d.add(flow.key, "flow is for orchestrations; a worker's body is its script")
		}
		if hasScript {
			j.Script = relFile(script, "script")
		} else {
			j.Script = path.Join(dir, "run.sh")
			j.BodyLine, j.BodyCol = root.Line, root.Column
		}
	case Orchestration:
		if hasScript {
			d.add(script.key, "script is for workers; an orchestration's body is a flow or a pipeline")
		}
		switch {
		case hasPipeline && hasFlow:
			d.add(flow.key, "an orchestration has either flow or pipeline, not both")
		case hasPipeline:
			j.Pipeline = relFile(pipeline, "pipeline")
		case hasFlow:
			if n := d.resolve(flow.val); n.Kind == yaml.ScalarNode {
				j.FlowFile = relFile(flow, "flow")
			} else {
				j.FlowNode = n
				j.BodyLine, j.BodyCol = n.Line, n.Column
			}
		default:
			// Neither key: the compiler looks for main.groovy, then flow.yaml.
			j.BodyLine, j.BodyCol = root.Line, root.Column
		}
	}
}

// keepOver reads a retention policy; fields it leaves out keep base's values.
func (d *decoder) keepOver(n *yaml.Node, base Keep) Keep {
	k := base
	f := d.mapping(n, "keep", "days", "builds")
	if x, ok := f["days"]; ok {
		k.Days, _ = d.integer(x.val, "keep days", 0, 100000)
	}
	if x, ok := f["builds"]; ok {
		k.Builds, _ = d.integer(x.val, "keep builds", 0, 1000000)
	}
	return k
}

var paramKeys = []string{"type", "required", "default", "description", "choices"}

func (d *decoder) params(n *yaml.Node) []Param {
	var out []Param
	for _, e := range d.entries(n, "params") {
		p := Param{Name: e.key.Value, Type: String, Line: e.key.Line, Col: e.key.Column}
		if msg := checkParamName(p.Name); msg != "" {
			d.add(e.key, "param %q: %s", p.Name, msg)
		}
		what := "param " + p.Name
		f := d.mapping(e.val, what, paramKeys...)
		if v, ok := f["type"]; ok {
			if s, ok := d.str(v.val, what+" type"); ok {
				switch ParamType(s) {
				case String, Boolean, Choice, Password:
					p.Type = ParamType(s)
				default:
					d.add(v.val, "%s: type must be string, boolean, choice or password, found %q%s", what, s,
						DidYouMean(s, []string{"string", "boolean", "choice", "password"}))
				}
			}
		}
		if v, ok := f["description"]; ok {
			if s, ok := d.str(v.val, what+" description"); ok {
				if msg := validText(s); msg != "" {
					d.add(v.val, "%s: description %s", what, msg)
				}
				p.Description = s
			}
		}
		if v, ok := f["required"]; ok {
			p.Required, _ = d.boolean(v.val, what+" required")
		}
		if v, ok := f["choices"]; ok {
			if p.Type != Choice {
				d.add(v.key, "%s: choices are only for type choice", what)
			} else if list, ok := d.strList(v.val, what+" choices"); ok {
				seen := map[string]bool{}
				for i, c := range list {
					cn := v.val.Content[i]
					switch {
					case strings.ContainsAny(c, "\r\n"):
						d.add(cn, "%s: a choice cannot contain a line break (Jenkins stores choices one per line)", what)
					case validText(c) != "":
						d.add(cn, "%s: choice %s", what, validText(c))
					case seen[c]:
						d.add(cn, "%s: choice %q is listed twice", what, c)
					}
					seen[c] = true
				}
				if len(list) == 0 {
					d.add(v.val, "%s: choices cannot be empty", what)
				}
				p.Choices = list
			}
		} else if p.Type == Choice {
			d.add(e.key, "%s: a choice param needs choices", what)
		}
		if v, ok := f["default"]; ok {
			d.paramDefault(&p, v, what)
		}
		out = append(out, p)
	}
	return out
}

func (d *decoder) paramDefault(p *Param, v field, what string) {
	switch p.Type {
	case Password:
		d.add(v.key, "%s: a password param cannot have a default (it would be stored in the job's XML); pass it when triggering the build", what)
		return
	case Boolean:
		b, ok := d.boolean(v.val, what+" default")
		if !ok {
			return
		}
		p.Default, p.HasDefault = fmt.Sprint(b), true
	default:
		s, ok := d.str(v.val, what+" default")
		if !ok {
			return
		}
		if msg := validText(s); msg != "" {
			d.add(v.val, "%s: default %s", what, msg)
			return
		}
		p.Default, p.HasDefault = s, true
		if p.Type == Choice && p.Choices != nil {
			i := indexOf(p.Choices, s)
			if i < 0 {
				d.add(v.val, "%s: default %q is not one of the choices%s", what, s, DidYouMean(s, p.Choices))
				return
			}
			// Jenkins takes the first choice as the default.
			reordered := append([]string{s}, p.Choices[:i]...)
			p.Choices = append(reordered, p.Choices[i+1:]...)
		}
	}
	if p.Required {
		d.add(v.key, "%s: a required param cannot have a default; drop one of the two", what)
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func (d *decoder) requires(n *yaml.Node) Requires {
	var r Requires
	f := d.mapping(n, "requires", "plugins", "tools")
	if v, ok := f["plugins"]; ok {
		for _, e := range d.entries(v.val, "requires.plugins") {
			req := Requirement{Name: e.key.Value, Line: e.key.Line, Col: e.key.Column}
			if !pluginRE.MatchString(req.Name) {
				d.add(e.key, "plugin %q: a plugin is named by its short name, e.g. workflow-job", req.Name)
			}
			if s, ok := d.str(e.val, "plugin "+req.Name+" version"); ok {
				req.Constraint = d.constraint(e.val, s, "plugin "+req.Name)
			}
			r.Plugins = append(r.Plugins, req)
		}
	}
	if v, ok := f["tools"]; ok {
		for _, e := range d.entries(v.val, "requires.tools") {
			req := Requirement{Name: e.key.Value, Line: e.key.Line, Col: e.key.Column}
			what := "tool " + req.Name
			if !toolNameRE.MatchString(req.Name) {
				d.add(e.key, "%s: a tool is named by its command, e.g. node or python3", what)
			}
			req.Probe = req.Name + " --version"
			val := d.resolve(e.val)
			if val.Kind == yaml.MappingNode {
				tf := d.mapping(val, what, "version", "probe")
				if x, ok := tf["version"]; ok {
					if s, ok := d.str(x.val, what+" version"); ok {
						req.Constraint = d.constraint(x.val, s, what)
					}
				} else {
					d.add(val, "%s: missing version, e.g. version: \">= 1.2\"", what)
				}
				if x, ok := tf["probe"]; ok {
					if s, ok := d.str(x.val, what+" probe"); ok {
						if strings.TrimSpace(s) == "" || validText(s) != "" {
							d.add(x.val, "%s: probe must be a shell command that prints the version", what)
						}
						req.Probe = s
					}
				}
			} else if s, ok := d.str(val, what+" version"); ok {
				req.Constraint = d.constraint(val, s, what)
			}
			r.Tools = append(r.Tools, req)
		}
	}
	return r
}

// constraint checks a version constraint and returns it, or "" after
// recording a problem.
func (d *decoder) constraint(n *yaml.Node, s, what string) string {
	if _, err := VersionChecks(s); err != nil {
		d.add(n, "%s: %v", what, err)
		return ""
	}
	return s
}
