package flow

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/jobctl/jobctl/jobs"
)

// Callee is what the checker needs to know about a called job.
type Callee struct {
	Name    string
	Kind    jobs.Kind
	Params  []jobs.Param
	Outputs []jobs.Field
}

// Flow is a checked flow: phases run in order, the steps of a phase run
// concurrently, then the report is built.
type Flow struct {
	// File is the file the flow came from, for messages.
	File   string
	Phases []*Phase
	// Report is nil when the flow has no report section.
	Report *Report
}

// Phase is a group of steps that run concurrently.
type Phase struct {
	Pos  Pos
	Name string
	// When is nil when the phase always runs; otherwise a boolean expression.
	When  Expr
	Steps []*Step

	whenNode *yaml.Node
}

// Step calls one job.
type Step struct {
	Pos Pos
	// Name is the step's id, unique across the flow.
	Name string
	// Job is the callee's common name; Kind its kind (empty when unknown).
	Job  string
	Kind jobs.Kind
	// Params are the params passed, in the order written.
	Params       []*Arg
	AllowFailure bool
	// Retry is the number of extra attempts when the call fails.
	Retry int

	paramsNode *yaml.Node
}

// Arg is a named value: a param passed to a job, or a field of the report's data.
type Arg struct {
	Pos   Pos // the key's position
	Name  string
	Value Expr
	// ParamType is the type of the callee's param, for a param passed to
	// a job; empty for report data, object fields and unknown params.
	ParamType jobs.ParamType
}

// Report is how the flow builds its own report. Nil fields take their defaults.
type Report struct {
	Pos Pos
	// Status is nil for the default: SUCCESS unless a step that was not
	// allowed to fail failed.
	Status Expr
	Reason Expr
	Data   []*Arg
}

// Calls returns the common names of the jobs the flow calls, sorted, unique.
func (f *Flow) Calls() []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range f.Phases {
		for _, s := range p.Steps {
			if s.Job != "" && !seen[s.Job] {
				seen[s.Job] = true
				out = append(out, s.Job)
			}
		}
	}
	sort.Strings(out)
	return out
}

// DefaultOutcome is the flow's status and reason when its report leaves
// them out: FAILURE with "step <name> (<job>) failed: <reason>" for the
// first step, in flow order, that ran, ended other than SUCCESS and was not
// allowed to fail; otherwise SUCCESS and "".
func (f *Flow) DefaultOutcome(env Env) (status, reason string) {
	for _, p := range f.Phases {
		for _, s := range p.Steps {
			st, rs, _, ran := env.Step(s.Name)
			if !ran || st == "SUCCESS" || s.AllowFailure {
				continue
			}
			if rs == "" {
				rs = "it ended " + st
			}
			return "FAILURE", "step " + s.Name + " (" + s.Job + ") failed: " + rs
		}
	}
	return "SUCCESS", ""
}

// Step looks a step up by name.
func (f *Flow) Step(name string) (*Step, bool) {
	for _, p := range f.Phases {
		for _, s := range p.Steps {
			if s.Name == name {
				return s, true
			}
		}
	}
	return nil, false
}

var (
	phaseNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	reserved    = []string{"params", "true", "false", "null"}
)

// maxNameLen bounds phase and step names.
const maxNameLen = 80

type stepInfo struct {
	step   *Step
	phase  int
	callee Callee
	known  bool
}

type decoder struct {
	file   string
	ps     *jobs.Problems
	self   *jobs.Job
	callee func(string) (Callee, bool)
	names  []string
	flow   *Flow
	steps  map[string]*stepInfo
	phases map[string]int
}

// scope says where an expression is: which steps it may read (those of
// phases before phase) and how to name it in messages.
type scope struct {
	phase int
	what  string
}

// Parse decodes and checks a flow. file is the path used in messages; node
// is the flow's YAML node (a document, or the value of flow: in job.yaml);
// self is the orchestration; callee looks a called job up by common name,
// and names lists every common name for did-you-mean hints. Every problem is
// recorded in ps; the returned flow is never nil but is only meaningful when
// no problem was recorded.
func Parse(file string, node *yaml.Node, self *jobs.Job, callee func(name string) (Callee, bool), names []string, ps *jobs.Problems) *Flow {
	if self == nil {
		self = &jobs.Job{}
	}
	if callee == nil {
		callee = func(string) (Callee, bool) { return Callee{}, false }
	}
	d := &decoder{file: file, ps: ps, self: self, callee: callee, names: names,
		flow: &Flow{File: file}, steps: map[string]*stepInfo{}, phases: map[string]int{}}
	if node != nil && node.Kind == 0 {
		node = nil // the zero node: an empty document
	}
	if node != nil && node.Kind == yaml.DocumentNode {
		if len(node.Content) == 0 {
			node = nil
		} else {
			node = node.Content[0]
		}
	}
	node = resolve(node)
	if node == nil || (node.Kind == yaml.ScalarNode && node.Tag == "!!null") {
		line, col := 0, 0
		if node != nil {
			line, col = node.Line, node.Column
		}
		ps.Add(file, line, col, "the flow is empty; it needs phases")
		return d.flow
	}
	m := d.mapping(node, "flow", "phases", "report")
	if v, ok := m["phases"]; ok {
		d.decodePhases(v.val)
	} else if node.Kind == yaml.MappingNode {
		d.add(node, "flow: missing required key \"phases\"")
	}
	for i, p := range d.flow.Phases {
		d.checkPhase(i, p)
	}
	if v, ok := m["report"]; ok {
		d.decodeReport(v.val)
	} else if node.Kind == yaml.MappingNode {
		for _, o := range self.Outputs {
			if o.Required {
				d.add(node, "flow: job %s declares the required output %q; set it in report.data", self.Name, o.Name)
			}
		}
	}
	return d.flow
}

func (d *decoder) add(n *yaml.Node, format string, args ...any) {
	line, col := 0, 0
	if n != nil {
		line, col = n.Line, n.Column
	}
	d.ps.Add(d.file, line, col, format, args...)
}

func (d *decoder) addAt(p Pos, format string, args ...any) {
	d.ps.Add(d.file, p.Line, p.Col, format, args...)
}

func pos(n *yaml.Node) Pos { return Pos{Line: n.Line, Col: n.Column} }

func resolve(n *yaml.Node) *yaml.Node { return jobs.ResolveAlias(n) }

func kindName(n *yaml.Node) string { return jobs.KindName(n) }

type field struct {
	key, val *yaml.Node
}

// entries checks that n is a mapping with only allowed keys (any keys when
// allowed is empty) and returns its entries by key and in order.
func (d *decoder) entries(n *yaml.Node, what string, allowed ...string) (map[string]field, []field) {
	out := map[string]field{}
	var order []field
	for _, e := range jobs.MappingEntries(n, what, allowed, d.add) {
		f := field{key: e.Key, val: e.Val}
		out[e.Key.Value] = f
		order = append(order, f)
	}
	return out, order
}

func (d *decoder) mapping(n *yaml.Node, what string, allowed ...string) map[string]field {
	m, _ := d.entries(n, what, allowed...)
	return m
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (d *decoder) str(n *yaml.Node, what string) (string, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		if n != nil {
			d.add(n, "%s must be a string, found %s", what, kindName(n))
		}
		return "", false
	}
	return n.Value, true
}

func (d *decoder) boolean(n *yaml.Node, what string) bool {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		if n != nil {
			d.add(n, "%s must be true or false, found %s", what, kindName(n))
		}
		return false
	}
	b, _ := strconv.ParseBool(strings.ToLower(n.Value))
	return b
}

// display writes a phase, step or job name for a message: as it is when
// it is a valid name, quoted otherwise (it may hold anything, even a line
// break).
func display(s string) string {
	if checkName(s) == "" {
		return s
	}
	return strconv.Quote(s)
}

// checkName returns what is wrong with a phase or step name, or "".
func checkName(s string) string {
	switch {
	case len(s) > maxNameLen:
		return "a name can be at most 80 characters"
	case !phaseNameRE.MatchString(s):
		return "a name must start with a lowercase letter and hold only lowercase letters, digits and '_'"
	case contains(reserved, s):
		return "this name is reserved in expressions"
	}
	return ""
}

func (d *decoder) decodePhases(n *yaml.Node) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		if n != nil {
			d.add(n, "phases must be a list, found %s", kindName(n))
		}
		return
	}
	if len(n.Content) == 0 {
		d.add(n, "phases cannot be empty")
	}
	for _, pn := range n.Content {
		pn = resolve(pn)
		if pn == nil {
			continue
		}
		if pn.Kind != yaml.MappingNode {
			d.add(pn, "a phase must be a mapping (name, when, steps), found %s", kindName(pn))
			continue
		}
		idx := len(d.flow.Phases)
		ph := &Phase{Pos: pos(pn)}
		m := d.mapping(pn, "phase", "name", "when", "steps")
		what := "phase"
		if v, ok := m["name"]; ok {
			if s, ok := d.str(v.val, "phase name"); ok {
				ph.Name = s
				what = "phase " + display(s)
				if msg := checkName(s); msg != "" {
					d.add(v.val, "phase name %q: %s", s, msg)
				} else if prev, dup := d.phases[s]; dup {
					d.add(v.val, "phase name %q is used twice (first at line %d)", s, d.flow.Phases[prev].Pos.Line)
				} else {
					d.phases[s] = idx
				}
			}
		} else if pn.Kind == yaml.MappingNode {
			d.add(pn, "phase: missing required key \"name\"")
		}
		if v, ok := m["when"]; ok {
			ph.whenNode = v.val
		}
		if v, ok := m["steps"]; ok {
			sn := resolve(v.val)
			switch {
			case sn == nil:
			case sn.Kind != yaml.SequenceNode:
				d.add(sn, "%s: steps must be a list, found %s", what, kindName(sn))
			case len(sn.Content) == 0:
				d.add(sn, "%s: steps cannot be empty", what)
			default:
				for _, stn := range sn.Content {
					if st := d.decodeStep(stn, idx, what); st != nil {
						ph.Steps = append(ph.Steps, st)
					}
				}
			}
		} else if pn.Kind == yaml.MappingNode {
			d.add(pn, "%s: missing required key \"steps\"", what)
		}
		d.flow.Phases = append(d.flow.Phases, ph)
	}
}

func (d *decoder) decodeStep(n *yaml.Node, phase int, phaseWhat string) *Step {
	n = resolve(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.add(n, "%s: a step must be a mapping (job, name, params, allow_failure, retry), found %s", phaseWhat, kindName(n))
		return nil
	}
	st := &Step{Pos: pos(n)}
	m := d.mapping(n, phaseWhat+": step", "job", "name", "params", "allow_failure", "retry")
	info := &stepInfo{step: st, phase: phase}
	v, ok := m["job"]
	if !ok {
		d.add(n, "%s: step: missing required key \"job\"", phaseWhat)
		return nil
	}
	if s, ok := d.str(v.val, "step job"); ok {
		st.Job = s
		switch c, found := d.callee(s); {
		case s == d.self.Name && s != "":
			d.add(v.val, "a flow cannot call its own job %q", s)
		case !found:
			d.add(v.val, "unknown job %q%s", s, jobs.DidYouMean(s, d.names))
		default:
			info.callee, info.known = c, true
			st.Kind = c.Kind
		}
	}
	st.Name = st.Job
	nameNode := v.val
	if nv, ok := m["name"]; ok {
		nameNode = nv.val
		if s, ok := d.str(nv.val, "step name"); ok {
			st.Name = s
			if msg := checkName(s); msg != "" {
				d.add(nv.val, "step name %q: %s", s, msg)
				st.Name = ""
			}
		}
	} else if st.Job != "" {
		if msg := checkName(st.Job); msg != "" {
			d.add(v.val, "step %q: the job's name is not a valid step name (%s); give the step a name", st.Job, msg)
			st.Name = ""
		}
	}
	if st.Name != "" {
		if prev, dup := d.steps[st.Name]; dup {
			d.add(nameNode, "step name %q is used twice (first at line %d); give one of the steps a name", st.Name, prev.step.Pos.Line)
		} else {
			d.steps[st.Name] = info
		}
	}
	if v, ok := m["params"]; ok {
		st.paramsNode = v.val
	}
	if v, ok := m["allow_failure"]; ok {
		st.AllowFailure = d.boolean(v.val, "allow_failure")
	}
	if v, ok := m["retry"]; ok {
		rn := resolve(v.val)
		if rn == nil || rn.Kind != yaml.ScalarNode || rn.Tag != "!!int" {
			if rn != nil {
				d.add(rn, "retry must be an integer, found %s", kindName(rn))
			}
		} else if r, err := strconv.ParseInt(rn.Value, 0, 64); err != nil || r < 0 || r > jobs.MaxRetries {
			d.add(rn, "retry must be an integer from 0 to %d, found %s", jobs.MaxRetries, rn.Value)
		} else {
			st.Retry = int(r)
		}
	}
	return st
}

func (d *decoder) checkPhase(i int, ph *Phase) {
	if ph.whenNode != nil {
		sc := scope{phase: i, what: "the when of phase " + display(ph.Name)}
		if e := d.value(ph.whenNode, true); e != nil {
			if t := d.check(e, sc); t != Boolean && t != Any {
				d.addAt(e.Position(), "phase %s: when must be a boolean expression, found %s", display(ph.Name), t.article())
			}
			ph.When = e
		}
	}
	for _, st := range ph.Steps {
		d.checkStep(i, st)
	}
}

func (d *decoder) checkStep(phase int, st *Step) {
	info := d.steps[st.Name]
	if info == nil || info.step != st {
		info = &stepInfo{step: st, phase: phase}
		if c, ok := d.callee(st.Job); ok && st.Job != "" && st.Job != d.self.Name {
			info.callee, info.known = c, true
		}
	}
	label := st.Name
	if label == "" {
		label = display(st.Job)
	}
	sc := scope{phase: phase, what: "step " + label}
	_, list := d.entries(st.paramsNode, "step "+label+" params")
	given := map[string]bool{}
	var names []string
	for _, p := range info.callee.Params {
		names = append(names, p.Name)
	}
	for _, f := range list {
		arg := &Arg{Pos: pos(f.key), Name: f.key.Value}
		given[arg.Name] = true
		arg.Value = d.value(f.val, false)
		st.Params = append(st.Params, arg)
		if arg.Value == nil {
			continue
		}
		t := d.check(arg.Value, sc)
		if !info.known {
			continue
		}
		p, ok := paramOf(info.callee.Params, arg.Name)
		if !ok {
			d.add(f.key, "step %s: job %s has no param %q%s", label, st.Job, arg.Name, jobs.DidYouMean(arg.Name, names))
			continue
		}
		arg.ParamType = p.Type
		d.checkParam(label, st.Job, p, arg.Value, t)
	}
	if info.known {
		for _, p := range info.callee.Params {
			if p.Required && !given[p.Name] {
				d.addAt(st.Pos, "step %s: missing required param %s of job %s", label, p.Name, st.Job)
			}
		}
	}
}

func paramOf(list []jobs.Param, name string) (jobs.Param, bool) {
	for _, p := range list {
		if p.Name == name {
			return p, true
		}
	}
	return jobs.Param{}, false
}

// paramType is the type an expression reading a param of this kind has.
func paramType(t jobs.ParamType) Type {
	if t == jobs.Boolean {
		return Boolean
	}
	return String
}

// checkParam checks a value of static type t passed to param p.
func (d *decoder) checkParam(step, job string, p jobs.Param, e Expr, t Type) {
	at := e.Position()
	if t == Null {
		if p.Required {
			d.addAt(at, "step %s: param %s of job %s is required; it cannot be null", step, p.Name, job)
		}
		return
	}
	switch p.Type {
	case jobs.Boolean:
		if t != Boolean && t != Any {
			d.addAt(at, "step %s: param %s of job %s is a boolean, found %s", step, p.Name, job, t.article())
		}
	case jobs.Choice:
		if !t.scalar() {
			d.addAt(at, "step %s: param %s of job %s is a choice, found %s", step, p.Name, job, t.article())
			return
		}
		switch x := e.(type) {
		case *Lit:
			s, _ := Text(x.Val)
			if !contains(p.Choices, s) {
				d.addAt(at, "step %s: %q is not a choice of param %s of job %s (%s)%s", step, s, p.Name, job,
					strings.Join(p.Choices, ", "), jobs.DidYouMean(s, p.Choices))
			}
		case *ParamRef:
			// Passing a choice on: each of ours must be one of theirs.
			if own, ok := d.self.Param(x.Name); ok && own.Type == jobs.Choice {
				for _, c := range own.Choices {
					if !contains(p.Choices, c) {
						d.addAt(at, "step %s: choice %q of param %s is not a choice of param %s of job %s (%s)", step, c, x.Name, p.Name, job,
							strings.Join(p.Choices, ", "))
					}
				}
			}
		}
	default:
		// Objects and arrays are passed as their JSON text.
	}
}

func (d *decoder) decodeReport(n *yaml.Node) {
	n = resolve(n)
	if n == nil {
		return
	}
	r := &Report{Pos: pos(n)}
	d.flow.Report = r
	sc := scope{phase: len(d.flow.Phases), what: "the report"}
	m := d.mapping(n, "report", "status", "reason", "data")
	if v, ok := m["status"]; ok {
		if e := d.value(v.val, false); e != nil {
			r.Status = e
			if t := d.check(e, sc); t != String && t != Any {
				d.addAt(e.Position(), "report status must be a string, found %s", t.article())
			} else if lit, ok := e.(*Lit); ok && lit.Val != "SUCCESS" && lit.Val != "FAILURE" {
				s, _ := Text(lit.Val)
				d.addAt(e.Position(), "report status must be SUCCESS or FAILURE, found %q", s)
			}
		}
	}
	if v, ok := m["reason"]; ok {
		if e := d.value(v.val, false); e != nil {
			r.Reason = e
			if t := d.check(e, sc); !t.scalar() {
				d.addAt(e.Position(), "report reason must be a string, found %s", t.article())
			}
		}
	}
	given := map[string]bool{}
	var names []string
	for _, o := range d.self.Outputs {
		names = append(names, o.Name)
	}
	dataNode := n
	if v, ok := m["data"]; ok {
		dataNode = v.key
		_, list := d.entries(v.val, "report data")
		for _, f := range list {
			arg := &Arg{Pos: pos(f.key), Name: f.key.Value}
			given[arg.Name] = true
			arg.Value = d.value(f.val, false)
			r.Data = append(r.Data, arg)
			if arg.Value == nil {
				continue
			}
			t := d.check(arg.Value, sc)
			o, ok := fieldOf(d.self.Outputs, arg.Name)
			if !ok {
				d.add(f.key, "report data: job %s declares no output %q%s", d.self.Name, arg.Name, jobs.DidYouMean(arg.Name, names))
				continue
			}
			if !assignable(o.Type, t) {
				d.addAt(arg.Value.Position(), "report data: output %s of job %s is %s, found %s", o.Name, d.self.Name, Type(o.Type).article(), t.article())
			}
		}
	}
	for _, o := range d.self.Outputs {
		if o.Required && !given[o.Name] {
			d.add(dataNode, "report data: missing required output %s of job %s", o.Name, d.self.Name)
		}
	}
}

func fieldOf(list []jobs.Field, name string) (jobs.Field, bool) {
	for _, f := range list {
		if f.Name == name {
			return f, true
		}
	}
	return jobs.Field{}, false
}

// assignable reports whether a value of static type t fits an output of type ft.
func assignable(ft jobs.FieldType, t Type) bool {
	switch {
	case ft == jobs.TypeAny || ft == "" || t == Any || t == Null:
		return true
	case ft == jobs.TypeNumber:
		return t.numeric()
	}
	return Type(ft) == t
}

// value decodes a YAML scalar as an expression. In a value, a string is
// text with ${expr} interpolations, except that a plain (unquoted) scalar
// that is exactly one ${expr} is that expression with its own type. When
// bare is set (when:), a string is an expression without ${ }.
func (d *decoder) value(n *yaml.Node, bare bool) Expr {
	n = resolve(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		if bare {
			d.add(n, "when must be an expression, found %s", kindName(n))
			return nil
		}
		return d.composite(n, 0)
	}
	p := pos(n)
	switch n.Tag {
	case "!!null":
		return &Lit{Pos: p, T: Null}
	case "!!bool":
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err != nil {
			d.add(n, "invalid boolean %q", n.Value)
			return nil
		}
		return &Lit{Pos: p, Val: b, T: Boolean}
	case "!!int", "!!float":
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil {
			if i, err2 := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); err2 == nil {
				f, err = float64(i), nil
			}
		}
		if err != nil || f != f || f > 1e308 || f < -1e308 {
			d.add(n, "%q is not a finite number", n.Value)
			return nil
		}
		t := Number
		if n.Tag == "!!int" {
			t = Integer
		}
		return &Lit{Pos: p, Val: f, T: t}
	}
	at := scalarPos(n)
	if bare && !strings.HasPrefix(strings.TrimSpace(n.Value), "${") {
		e, err := parseExprAt(n.Value, at)
		if err != nil {
			d.syntax(err, at)
			return nil
		}
		return e
	}
	t, err := parseTemplateAt(n.Value, at)
	if err != nil {
		d.syntax(err, at)
		return nil
	}
	quoted := n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0
	if len(t.Parts) == 1 && t.Parts[0].Expr != nil && (!quoted || bare) {
		return t.Parts[0].Expr
	}
	if bare {
		d.add(n, "when must be one expression, without text around it")
		return nil
	}
	if len(t.Parts) == 0 {
		return &Lit{Pos: p, Val: "", T: String}
	}
	if len(t.Parts) == 1 && t.Parts[0].Expr == nil {
		return &Lit{Pos: p, Val: t.Parts[0].Text, T: String}
	}
	return t
}

// maxValueDepth bounds the nesting of mappings and sequences in a value.
const maxValueDepth = 32

// composite decodes a mapping as a Map and a sequence as a List, their
// entries as values.
func (d *decoder) composite(n *yaml.Node, depth int) Expr {
	if depth >= maxValueDepth {
		d.add(n, "the value is nested more than %d levels deep", maxValueDepth)
		return nil
	}
	elem := func(c *yaml.Node) Expr {
		if c = resolve(c); c != nil && (c.Kind == yaml.MappingNode || c.Kind == yaml.SequenceNode) {
			return d.composite(c, depth+1)
		}
		return d.value(c, false)
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := &Map{Pos: pos(n)}
		_, list := d.entries(n, "an object value")
		for _, f := range list {
			e := elem(f.val)
			if e == nil {
				e = &Lit{Pos: pos(f.val), T: Any} // reported; keeps the shape
			}
			m.Fields = append(m.Fields, &Arg{Pos: pos(f.key), Name: f.key.Value, Value: e})
		}
		return m
	case yaml.SequenceNode:
		l := &List{Pos: pos(n)}
		for _, c := range n.Content {
			e := elem(c)
			if e == nil {
				e = &Lit{Pos: pos(c), T: Any}
			}
			l.Items = append(l.Items, e)
		}
		return l
	}
	d.add(n, "a value must be a string, a number, true, false, null, ${expression}, a mapping or a list, found %s", kindName(n))
	return nil
}

func (d *decoder) syntax(err error, at func(int) Pos) {
	if se, ok := err.(*SyntaxError); ok {
		d.addAt(at(se.Offset), "%s", se.Msg)
		return
	}
	d.addAt(at(0), "%v", err)
}

// scalarPos maps a byte offset in a scalar's value to its place in the
// file: the node's column, plus one for an opening quote, plus the
// characters before the offset as written (an escaped quote or backslash
// takes two). Block scalars, whose lines are re-indented, map to the node.
func scalarPos(n *yaml.Node) func(int) Pos {
	base := pos(n)
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return func(int) Pos { return base }
	}
	single := n.Style&yaml.SingleQuotedStyle != 0
	double := n.Style&yaml.DoubleQuotedStyle != 0
	v := n.Value
	return func(off int) Pos {
		off = max(0, min(off, len(v)))
		before := v[:off]
		col := n.Column + utf8.RuneCountInString(before)
		switch {
		case single:
			col += 1 + strings.Count(before, "'")
		case double:
			col++
			for i := 0; i < len(before); i++ {
				if c := before[i]; c == '"' || c == '\\' || c < 0x20 {
					col++
				}
			}
		}
		return Pos{Line: n.Line, Col: col}
	}
}
