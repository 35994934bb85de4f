package local

import (
	"errors"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// item is a job, a folder or the root: Jenkins' item groups and items.
// Every field is guarded by Master.mu.
type item struct {
	kind   itemKind
	name   string
	fold   string // foldName(name)
	parent *item  // nil for the root
	cfg    *jobConfig

	// Folders and the root.
	children    map[string]*item // by fold key
	sorted      []*item          // children by fold key
	views       []*view          // sorted by name
	primaryView string

	// Jobs.
	nextBuild int
	builds    []*build     // by number, oldest first
	queued    []*queueItem // this job's items still in the queue
	deleting  bool         // a delete is under way: nothing new starts
}

func (it *item) isJob() bool    { return it.kind == kindFreestyle || it.kind == kindPipeline }
func (it *item) isGroup() bool  { return it.kind == kindFolder || it.kind == kindRoot }
func (it *item) isFolder() bool { return it.kind == kindFolder }

// fullName is the item's name with its folders', slash-separated.
func (it *item) fullName() string {
	if it.parent == nil || it.parent.kind == kindRoot {
		return it.name
	}
	return it.parent.fullName() + "/" + it.name
}

// relURL is the item's URL relative to the root, e.g. job/F/job/C/.
func (it *item) relURL() string {
	if it.kind == kindRoot {
		return ""
	}
	return it.parent.relURL() + "job/" + escapeSegment(it.name) + "/"
}

// dir is the item's directory; childDir holds its children's.
func (it *item) dir(home string) string {
	if it.kind == kindRoot {
		return home
	}
	return filepath.Join(it.parent.childDir(home), it.name)
}

func (it *item) childDir(home string) string { return filepath.Join(it.dir(home), "jobs") }
func (it *item) viewDir(home string) string  { return filepath.Join(it.dir(home), "views") }

func (it *item) buildDir(home string, n int) string {
	return filepath.Join(it.dir(home), "builds", strconv.Itoa(n))
}

func (it *item) displayName() string {
	if it.cfg != nil && it.cfg.displayName != "" {
		return it.cfg.displayName
	}
	return it.name
}

func (it *item) fullDisplayName() string {
	if it.parent == nil || it.parent.kind == kindRoot {
		return it.displayName()
	}
	return it.parent.fullDisplayName() + " » " + it.displayName()
}

func (it *item) class() string {
	switch it.kind {
	case kindFreestyle:
		return classFreestyle
	case kindPipeline:
		return classPipeline
	case kindFolder:
		return classFolder
	}
	return "hudson.model.Hudson"
}

// child looks a child up by name, case-insensitively as Jenkins does.
func (it *item) child(name string) *item { return it.children[foldName(name)] }

func (it *item) addChild(c *item) {
	c.parent = it
	c.fold = foldName(c.name)
	it.children[c.fold] = c
	i := sort.Search(len(it.sorted), func(i int) bool { return it.sorted[i].fold >= c.fold })
	it.sorted = append(it.sorted, nil)
	copy(it.sorted[i+1:], it.sorted[i:])
	it.sorted[i] = c
}

func (it *item) removeChild(c *item) {
	delete(it.children, c.fold)
	for i, s := range it.sorted {
		if s == c {
			it.sorted = append(it.sorted[:i], it.sorted[i+1:]...)
			break
		}
	}
}

// jobs returns the item and every job below it.
func (it *item) walk(f func(*item)) {
	f(it)
	for _, c := range it.sorted {
		c.walk(f)
	}
}

func (it *item) view(name string) *view {
	for _, v := range it.views {
		if v.name == name {
			return v
		}
	}
	return nil
}

func (it *item) addView(v *view) {
	v.owner = it
	it.views = append(it.views, v)
	sort.Slice(it.views, func(i, j int) bool {
		return strings.ToLower(it.views[i].name) < strings.ToLower(it.views[j].name)
	})
}

func (it *item) removeView(v *view) {
	for i, x := range it.views {
		if x == v {
			it.views = append(it.views[:i], it.views[i+1:]...)
			return
		}
	}
}

// primary returns the group's primary view.
func (it *item) primary() *view {
	if v := it.view(it.primaryView); v != nil {
		return v
	}
	if len(it.views) > 0 {
		return it.views[0]
	}
	return nil
}

// Permalinks.

func (it *item) lastBuild() *build {
	if len(it.builds) == 0 {
		return nil
	}
	return it.builds[len(it.builds)-1]
}

func (it *item) firstBuild() *build {
	if len(it.builds) == 0 {
		return nil
	}
	return it.builds[0]
}

// lastWhere returns the newest completed build whose result passes ok.
func (it *item) lastWhere(ok func(result string) bool) *build {
	for i := len(it.builds) - 1; i >= 0; i-- {
		if b := it.builds[i]; !b.building && ok(b.result) {
			return b
		}
	}
	return nil
}

func (it *item) permalink(name string) (*build, bool) {
	switch name {
	case "lastBuild":
		return it.lastBuild(), true
	case "firstBuild":
		return it.firstBuild(), true
	case "lastCompletedBuild":
		return it.lastWhere(func(string) bool { return true }), true
	case "lastSuccessfulBuild":
		return it.lastWhere(func(r string) bool { return r == "SUCCESS" || r == "UNSTABLE" }), true
	case "lastStableBuild":
		return it.lastWhere(func(r string) bool { return r == "SUCCESS" }), true
	case "lastFailedBuild":
		return it.lastWhere(func(r string) bool { return r == "FAILURE" }), true
	case "lastUnstableBuild":
		return it.lastWhere(func(r string) bool { return r == "UNSTABLE" }), true
	case "lastUnsuccessfulBuild":
		return it.lastWhere(func(r string) bool { return r != "SUCCESS" }), true
	}
	return nil, false
}

func (it *item) build(n int) *build {
	i := sort.Search(len(it.builds), func(i int) bool { return it.builds[i].number >= n })
	if i < len(it.builds) && it.builds[i].number == n {
		return it.builds[i]
	}
	return nil
}

func (it *item) removeBuild(b *build) {
	for i, x := range it.builds {
		if x == b {
			it.builds = append(it.builds[:i], it.builds[i+1:]...)
			return
		}
	}
}

// color is the job's ball color: its last completed build's, _anime while
// a build runs.
func (it *item) color() string {
	if it.cfg != nil && it.cfg.disabled {
		return "disabled"
	}
	c := "notbuilt"
	if b := it.lastWhere(func(string) bool { return true }); b != nil {
		c = resultColor(b.result)
	}
	if lb := it.lastBuild(); lb != nil && lb.building {
		c += "_anime"
	}
	return c
}

func resultColor(result string) string {
	switch result {
	case "SUCCESS":
		return "blue"
	case "UNSTABLE":
		return "yellow"
	case "FAILURE":
		return "red"
	case "ABORTED":
		return "aborted"
	}
	return "notbuilt"
}

func (it *item) buildable() bool { return it.isJob() && !it.cfg.disabled }

// runningBuild returns the job's newest running build, if any.
func (it *item) runningBuild() *build {
	for i := len(it.builds) - 1; i >= 0; i-- {
		if it.builds[i].building {
			return it.builds[i]
		}
	}
	return nil
}

// estimatedDuration averages the last three successful builds' durations,
// as Jenkins does; -1 when there are none.
func (it *item) estimatedDuration() int64 {
	var sum, n int64
	for i := len(it.builds) - 1; i >= 0 && n < 3; i-- {
		if b := it.builds[i]; !b.building && (b.result == "SUCCESS" || b.result == "UNSTABLE") {
			sum += b.duration.Milliseconds()
			n++
		}
	}
	if n == 0 {
		return -1
	}
	return sum / n
}

// view is a root or folder view.
type view struct {
	owner    *item
	name     string
	class    string   // hudson.model.AllView, hudson.model.ListView, ...
	all      bool     // lists every item of its owner
	jobNames []string // a ListView's <jobNames>
	regex    string   // a ListView's <includeRegex>
	recurse  bool
	desc     *string
	doc      *xnode // its config (nil for the built-in "all")
}

// newView makes a view from its config element.
func newView(name string, doc *xnode) *view {
	v := &view{name: name, class: doc.name, doc: doc}
	if c := doc.attr("class"); c != "" {
		v.class = c
	}
	v.refresh()
	return v
}

// refresh re-reads the view's settings from its config.
func (v *view) refresh() {
	doc := v.doc
	v.all = v.class == classAllView
	v.jobNames = nil
	for _, s := range doc.child("jobNames").elems() {
		if s.name == "string" {
			v.jobNames = append(v.jobNames, s.textOf())
		}
	}
	v.regex = strings.TrimSpace(doc.child("includeRegex").textOf())
	v.recurse = strings.TrimSpace(doc.child("recurse").textOf()) == "true"
	v.desc = nil
	if d := doc.child("description"); d != nil {
		s := d.textOf()
		v.desc = &s
	}
}

// build is one run of a job. Fields are guarded by Master.mu; the running
// build's goroutine owns its log.
type build struct {
	job       *item
	number    int
	queueID   int64
	timestamp time.Time
	duration  time.Duration
	building  bool
	result    string // "" while building
	params    []paramValue
	hasParams bool // the job was parameterized: a ParametersAction exists
	causes    []cause
	artifacts []string // relative paths, sorted
	executor  int      // executor number; -1 for pipelines
	ws        string   // the workspace it runs in, while it runs
	log       *buildLog
	stopped   string        // why the build is being aborted; "" if it is not
	kill      func(error)   // cancels the build's context with a cause; nil when nothing runs
	done      chan struct{} // closed when the build has ended
	keepLog   bool
	git       *gitRevision // the revision its GitSCM checked out; nil: none
}

func (b *build) class() string {
	if b.job.kind == kindPipeline {
		return classPipelineBuild
	}
	return classFreestyleBuild
}

func (b *build) relURL() string { return b.job.relURL() + strconv.Itoa(b.number) + "/" }

// abort asks the build to stop; reason goes to its console. m.mu must be
// held.
func (b *build) abort(reason string) {
	if !b.building || b.stopped != "" {
		return
	}
	b.stopped = reason
	// A pipeline runner prints the cause itself, where the abort reaches
	// the script; a freestyle build's console gets it here.
	if b.log != nil && b.job.kind != kindPipeline {
		b.log.println(reason)
	}
	if b.kill != nil {
		b.kill(errors.New(reason))
	}
}

// cause is why a build was started.
type cause struct {
	Class            string  `json:"_class"`
	ShortDescription string  `json:"shortDescription"`
	UserID           *string `json:"userId,omitempty"`
	UserName         string  `json:"userName,omitempty"`
	Addr             string  `json:"addr,omitempty"`
	Note             string  `json:"note,omitempty"`
	UpstreamProject  string  `json:"upstreamProject,omitempty"`
	UpstreamBuild    int     `json:"upstreamBuild,omitempty"`
	UpstreamURL      string  `json:"upstreamUrl,omitempty"`
}

const (
	causeUser   = "hudson.model.Cause$UserIdCause"
	causeRemote = "hudson.model.Cause$RemoteCause"
	causeTimer  = "hudson.triggers.TimerTrigger$TimerTriggerCause"
)

func userCause(user string) cause {
	if user == "" {
		return cause{Class: causeUser, ShortDescription: "Started by user anonymous", UserName: "anonymous"}
	}
	u := user
	return cause{Class: causeUser, ShortDescription: "Started by user " + user, UserID: &u, UserName: user}
}

func timerCause() cause { return cause{Class: causeTimer, ShortDescription: "Started by timer"} }

func remoteCause(addr string) cause {
	return cause{Class: causeRemote, ShortDescription: "Started by remote host " + addr, Addr: addr}
}
