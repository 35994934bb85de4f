package local

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/jobctl/jobctl/cron"
)

// What the master reads from configs. A job's config summary is parsed
// once, when the config is created or replaced, and kept in memory; its
// steps (which can be large) are read from disk when a build starts.

// Root elements, and the Java classes they stand for.
const (
	rootFreestyle = "project"
	rootPipeline  = "flow-definition"
	rootFolder    = "com.cloudbees.hudson.plugins.folder.Folder"

	classFreestyle = "hudson.model.FreeStyleProject"
	classPipeline  = "org.jenkinsci.plugins.workflow.job.WorkflowJob"
	classFolder    = "com.cloudbees.hudson.plugins.folder.Folder"

	classFreestyleBuild = "hudson.model.FreeStyleBuild"
	classPipelineBuild  = "org.jenkinsci.plugins.workflow.job.WorkflowRun"

	classAllView  = "hudson.model.AllView"
	classListView = "hudson.model.ListView"

	propParams        = "hudson.model.ParametersDefinitionProperty"
	propDiscarder     = "jenkins.model.BuildDiscarderProperty"
	propNoConcurrent  = "org.jenkinsci.plugins.workflow.job.properties.DisableConcurrentBuildsJobProperty"
	propPipelineTrigs = "org.jenkinsci.plugins.workflow.job.properties.PipelineTriggersJobProperty"
	timerTrigger      = "hudson.triggers.TimerTrigger"
	scmTriggerClass   = "hudson.triggers.SCMTrigger"
	cpsDefinition     = "org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition"
)

type itemKind uint8

const (
	kindRoot itemKind = iota
	kindFreestyle
	kindPipeline
	kindFolder
)

// kindOf maps a config's root element to an item kind.
func kindOf(root string) (itemKind, bool) {
	switch root {
	case rootFreestyle, classFreestyle:
		return kindFreestyle, true
	case rootPipeline, classPipeline:
		return kindPipeline, true
	case rootFolder:
		return kindFolder, true
	}
	return 0, false
}

func (k itemKind) String() string {
	switch k {
	case kindFreestyle:
		return "freestyle job"
	case kindPipeline:
		return "pipeline job"
	case kindFolder:
		return "folder"
	}
	return "Jenkins"
}

// jobConfig is the in-memory summary of a job's or folder's config.
type jobConfig struct {
	description *string // nil when the config has none
	displayName string
	disabled    bool
	concurrent  bool
	params      []paramDef
	quietPeriod int // seconds; -1: the master's
	timers      []*cron.Spec
	timerText   []string
	git         *gitSCM // the job's GitSCM; nil: none
	// An SCMTrigger: polls on its specs (none: only when notified, as
	// with an empty spec in Jenkins); ignoreHooks makes /git/notifyCommit
	// pass the job by.
	scmTrigger  bool
	polls       []*cron.Spec
	ignoreHooks bool
	rotator     logRotator
	authToken   string
	label       string
	views       []*view // a folder's views, from its folderViews
	primaryView string
}

// paramDef is a parameter definition.
type paramDef struct {
	class       string // e.g. hudson.model.StringParameterDefinition
	name        string
	description *string
	def         string // the default, as text
	trim        bool
	choices     []string
}

// valueClass is the class of the values a definition makes.
func (p paramDef) valueClass() string {
	switch p.class {
	case "hudson.model.ChoiceParameterDefinition":
		return "hudson.model.StringParameterValue"
	}
	if c, ok := strings.CutSuffix(p.class, "Definition"); ok {
		return c + "Value"
	}
	return "hudson.model.StringParameterValue"
}

// typeName is what Jenkins' ParameterDefinition.getType returns: the
// class's simple name.
func (p paramDef) typeName() string {
	return p.class[strings.LastIndexByte(p.class, '.')+1:]
}

// defaultValue is the value a build gets when none is given.
func (p paramDef) defaultValue() paramValue {
	v := paramValue{class: p.valueClass(), name: p.name, value: p.def}
	switch p.class {
	case "hudson.model.BooleanParameterDefinition":
		v.value = strconv.FormatBool(strings.EqualFold(strings.TrimSpace(p.def), "true"))
	case "hudson.model.ChoiceParameterDefinition":
		v.value = ""
		if len(p.choices) > 0 {
			v.value = p.choices[0]
		}
	}
	return v
}

// value makes the value of a parameter given as text; it returns the
// message Jenkins refuses the value with, or "".
func (p paramDef) value(s string) (paramValue, string) {
	v := paramValue{class: p.valueClass(), name: p.name, value: s}
	switch p.class {
	case "hudson.model.BooleanParameterDefinition":
		v.value = strconv.FormatBool(strings.EqualFold(s, "true") || s == "on")
	case "hudson.model.ChoiceParameterDefinition":
		ok := false
		for _, c := range p.choices {
			ok = ok || c == s
		}
		if !ok {
			return v, fmt.Sprintf("Illegal choice for parameter %s: %s", p.name, s)
		}
	case "hudson.model.StringParameterDefinition":
		if p.trim {
			v.value = strings.TrimSpace(s)
		}
	}
	return v, ""
}

// paramValue is a build's parameter value.
type paramValue struct {
	class string // e.g. hudson.model.StringParameterValue
	name  string
	value string // as text; "true"/"false" for booleans
}

func (v paramValue) secret() bool { return v.class == "hudson.model.PasswordParameterValue" }

// logRotator is a BuildDiscarderProperty's LogRotator; -1 means unset.
type logRotator struct {
	daysToKeep, numToKeep, artifactDaysToKeep, artifactNumToKeep int
}

func (r logRotator) enabled() bool {
	return r.daysToKeep > 0 || r.numToKeep > 0 || r.artifactDaysToKeep > 0 || r.artifactNumToKeep > 0
}

// configError is a config the master cannot load (Jenkins answers 500).
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

// readConfig parses a config document and summarises it.
func readConfig(data []byte) (itemKind, *xnode, []byte, *jobConfig, error) {
	root, doc, err := parseXML(data)
	if err != nil {
		return 0, nil, nil, nil, err
	}
	kind, ok := kindOf(root.name)
	if !ok {
		return 0, nil, nil, nil, &configError{fmt.Sprintf("cannot load a config whose root element is <%s>: this master knows <%s> (freestyle jobs), <%s> (pipelines) and <%s> (folders)",
			root.name, rootFreestyle, rootPipeline, rootFolder)}
	}
	cfg, err := summarise(kind, root)
	if err != nil {
		return 0, nil, nil, nil, err
	}
	return kind, root, doc, cfg, nil
}

func summarise(kind itemKind, root *xnode) (*jobConfig, error) {
	cfg := &jobConfig{quietPeriod: -1, rotator: logRotator{-1, -1, -1, -1}}
	if d := root.child("description"); d != nil {
		s := d.textOf()
		cfg.description = &s
	}
	cfg.displayName = strings.TrimSpace(root.child("displayName").textOf())
	if kind == kindFolder {
		cfg.views, cfg.primaryView = folderViews(root)
		return cfg, nil
	}
	cfg.disabled = strings.TrimSpace(root.child("disabled").textOf()) == "true"
	cfg.authToken = strings.TrimSpace(root.child("authToken").textOf())
	cfg.label = strings.TrimSpace(root.child("assignedNode").textOf())
	if q := strings.TrimSpace(root.child("quietPeriod").textOf()); q != "" {
		if n, err := strconv.Atoi(q); err == nil && n >= 0 {
			cfg.quietPeriod = n
		}
	}
	props := root.child("properties")
	if kind == kindFreestyle {
		cfg.concurrent = strings.TrimSpace(root.child("concurrentBuild").textOf()) == "true"
	} else {
		cfg.concurrent = props.child(propNoConcurrent) == nil
	}
	for _, p := range props.path(propParams, "parameterDefinitions").elems() {
		def := paramDef{class: p.name, name: strings.TrimSpace(p.child("name").textOf()), def: p.child("defaultValue").textOf()}
		if d := p.child("description"); d != nil {
			s := d.textOf()
			def.description = &s
		}
		def.trim = strings.TrimSpace(p.child("trim").textOf()) == "true"
		if c := p.child("choices"); c != nil {
			def.choices = choices(c)
		}
		if def.name == "" {
			continue
		}
		cfg.params = append(cfg.params, def)
	}
	strategy := props.path(propDiscarder, "strategy")
	if strategy == nil {
		strategy = root.child("logRotator")
	}
	if strategy != nil {
		cfg.rotator = logRotator{
			daysToKeep:         intOr(strategy.child("daysToKeep").textOf(), -1),
			numToKeep:          intOr(strategy.child("numToKeep").textOf(), -1),
			artifactDaysToKeep: intOr(strategy.child("artifactDaysToKeep").textOf(), -1),
			artifactNumToKeep:  intOr(strategy.child("artifactNumToKeep").textOf(), -1),
		}
	}
	var triggers []*xnode
	triggers = append(triggers, root.child("triggers").elems()...)
	triggers = append(triggers, props.path(propPipelineTrigs, "triggers").elems()...)
	for _, t := range triggers {
		if t.name != timerTrigger {
			continue
		}
		text := t.child("spec").textOf()
		spec, err := cron.Parse(text)
		if err != nil {
			return nil, &configError{fmt.Sprintf("invalid timer trigger spec %q: %v", text, err)}
		}
		cfg.timers = append(cfg.timers, spec)
		cfg.timerText = append(cfg.timerText, text)
	}
	for _, t := range triggers {
		if t.name != scmTriggerClass {
			continue
		}
		text := t.child("spec").textOf()
		spec, err := cron.Parse(text)
		if err != nil {
			return nil, &configError{fmt.Sprintf("invalid SCM trigger spec %q: %v", text, err)}
		}
		cfg.scmTrigger = true
		cfg.polls = append(cfg.polls, spec)
		cfg.ignoreHooks = cfg.ignoreHooks || strings.TrimSpace(t.child("ignorePostCommitHooks").textOf()) == "true"
	}
	if scm := root.child("scm"); scm != nil && scm.attr("class") == classGitSCM {
		cfg.git = readGitSCM(scm)
	}
	return cfg, nil
}

// choices reads a ChoiceParameterDefinition's choices: a list of <string>
// (possibly wrapped in an <a class="string-array">), or lines of text.
func choices(c *xnode) []string {
	var out []string
	var walk func(n *xnode)
	walk = func(n *xnode) {
		for _, k := range n.elems() {
			if k.name == "string" {
				out = append(out, k.textOf())
			} else {
				walk(k)
			}
		}
	}
	walk(c)
	if out == nil {
		for _, l := range strings.Split(c.textOf(), "\n") {
			if l = strings.TrimRight(l, "\r"); strings.TrimSpace(l) != "" {
				out = append(out, l)
			}
		}
	}
	return out
}

func intOr(s string, def int) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return def
	}
	return n
}

// folderViews reads a folder's views from its folderViews.
func folderViews(root *xnode) ([]*view, string) {
	fv := root.child("folderViews")
	var views []*view
	for _, v := range fv.child("views").elems() {
		name := strings.TrimSpace(v.child("name").textOf())
		if name == "" || checkName(name) != "" {
			continue
		}
		vw := newView(name, v)
		views = append(views, vw)
	}
	return views, strings.TrimSpace(fv.child("primaryView").textOf())
}

// freestyleSteps are what a freestyle build runs, read at its start.
type freestyleSteps struct {
	shells   []shellStep
	archiver *archiver
	triggers []buildTrigger // parameterized-trigger BuildTrigger configs, in order
	skipped  []string       // builders and publishers this master does not run
}

type shellStep struct {
	command        string
	unstableReturn int // 0: none
}

type archiver struct {
	artifacts, excludes string
	allowEmpty          bool
	onlyIfSuccessful    bool
	defaultExcludes     bool
	caseSensitive       bool
}

// readSteps reads a freestyle job's builders and publishers.
func readSteps(root *xnode) freestyleSteps {
	var s freestyleSteps
	for _, b := range root.child("builders").elems() {
		switch b.name {
		case "hudson.tasks.Shell":
			s.shells = append(s.shells, shellStep{command: b.child("command").textOf(), unstableReturn: intOr(b.child("unstableReturn").textOf(), 0)})
		default:
			s.skipped = append(s.skipped, "builder "+b.name)
		}
	}
	for _, p := range root.child("publishers").elems() {
		switch p.name {
		case "hudson.tasks.ArtifactArchiver":
			a := &archiver{
				artifacts:        p.child("artifacts").textOf(),
				excludes:         p.child("excludes").textOf(),
				allowEmpty:       strings.TrimSpace(p.child("allowEmptyArchive").textOf()) == "true",
				onlyIfSuccessful: strings.TrimSpace(p.child("onlyIfSuccessful").textOf()) == "true",
				defaultExcludes:  strings.TrimSpace(p.child("defaultExcludes").textOf()) != "false",
				caseSensitive:    strings.TrimSpace(p.child("caseSensitive").textOf()) != "false",
			}
			s.archiver = a
		case classBuildTrigger:
			s.triggers = append(s.triggers, readBuildTriggers(p)...)
		default:
			s.skipped = append(s.skipped, "publisher "+p.name)
		}
	}
	for _, w := range root.child("buildWrappers").elems() {
		if !strings.HasPrefix(w.name, "hudson.plugins.timestamper.") {
			s.skipped = append(s.skipped, "build wrapper "+w.name)
		}
	}
	return s
}
