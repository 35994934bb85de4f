package master

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jobctl/jobctl/compiler"
	"github.com/jobctl/jobctl/jobs"
)

// Pruning is plan, then apply, like deploying. PlanPrune is a pure
// function of a folder's listing (one request), the time and the window:
// it returns every version jobctl owns in the project, each marked kept
// (with the rule that keeps it) or pruned, and the order to delete in.
// ApplyPrune deletes, orchestrations before the workers they call.
//
// A job is a candidate only when jobctl owns it in this project: its
// description carries a marker naming the project, and its name is a
// deployed name (<name>-v<N>-<hash>) whose name, version and hash agree
// with the marker. Nothing else is listed, and nothing else is ever
// deleted.

// Rules: why a candidate is kept or pruned, most binding first.
const (
	KeepLatest     = "latest"     // the highest version of its name present, or listed in the project's view
	KeepRunning    = "running"    // its last build is building
	KeepQueued     = "queued"     // it waits in the queue
	KeepRecent     = "recent"     // it ran within the window
	KeepNew        = "new"        // it never ran, and was deployed within the window
	KeepUnrecorded = "unrecorded" // it never ran, and no deploy time is recorded for it
	KeepCalled     = "called"     // a kept job calls it, directly or through other jobs
	PruneIdle      = "idle"       // it last ran before the window
	PruneUnused    = "unused"     // it never ran, and was deployed before the window
)

// PrunePlan is what a prune will do, as data.
type PrunePlan struct {
	Project string `json:"project"`
	Folder  string `json:"folder"`
	// Exists is false when the project folder is not on the master.
	Exists bool      `json:"exists"`
	Now    time.Time `json:"now"`
	// Window is how long a version must have been idle to be pruned.
	Window time.Duration `json:"-"`
	// Jobs are the candidates, by common name then version.
	Jobs []PruneJob `json:"jobs"`
	// Order is the deployed names to delete, every caller before the
	// jobs it calls.
	Order []string `json:"order"`

	// after[x] are the jobs to delete (callers of x) that must be gone
	// before x is deleted.
	after map[string][]string
}

// PruneJob is one candidate.
type PruneJob struct {
	Deployed string   `json:"deployed"`
	Name     string   `json:"name"`
	Version  int      `json:"version"`
	Calls    []string `json:"calls"`
	Prune    bool     `json:"prune"`
	Rule     string   `json:"rule"`
	// Reason is the rule for people: "latest", "ran 2d ago", "called by
	// X", "last ran 9d ago", "never ran, deployed 12d ago".
	Reason string `json:"reason"`
	// CalledBy is the nearest kept caller, for the rule "called".
	CalledBy string `json:"called_by,omitempty"`
}

// Counts returns how many candidates are pruned and kept.
func (p *PrunePlan) Counts() (prune, keep int) {
	for _, j := range p.Jobs {
		if j.Prune {
			prune++
		} else {
			keep++
		}
	}
	return prune, keep
}

// Age renders a duration compactly, as prune's reasons do: 9d, 5h, 12m, 30s.
func Age(d time.Duration) string {
	switch {
	case d < 0:
		d = 0
		fallthrough
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 24*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	default:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
}

// OwnedVersion returns the marker of a listed job if jobctl owns it in
// project: the marker names the project and the job's name is the
// deployed name of exactly that marker's name, version and hash.
func OwnedVersion(project string, j *Job) (jobs.Marker, bool) {
	if j.Jobs != nil {
		return jobs.Marker{}, false // a folder
	}
	name, version, hash, ok := jobs.ParseDeployedName(j.Name)
	if !ok {
		return jobs.Marker{}, false
	}
	mk, ok := jobs.ParseMarker(j.Description)
	if !ok || mk.Project != project || mk.Name != name || mk.Version != version || mk.Hash != hash {
		return jobs.Marker{}, false
	}
	return mk, true
}

// PlanPrune plans the prune of project's folder f at time now: a version
// is kept when it is the latest of its name (the highest version present,
// or one the project's view lists: during a half-failed deploy both are),
// is building or queued, ran within window (its last build ended less
// than window ago), never ran and was deployed within window or has no
// recorded deploy time, or is called, directly or not, by a job that is
// kept (any job of the folder that is not pruned, owned or not, counts as
// a caller when its marker lists calls). Everything else is pruned.
func PlanPrune(project string, f *Folder, now time.Time, window time.Duration) *PrunePlan {
	p := &PrunePlan{Project: project, Folder: f.Name, Exists: f.Exists, Now: now, Window: window,
		Jobs: []PruneJob{}, Order: []string{}, after: map[string][]string{}}
	inView := map[string]bool{}
	record := map[string]string{}
	if v := f.View(compiler.ViewName); v != nil {
		for _, n := range v.Jobs {
			inView[n] = true
		}
		record = ParseDeployRecord(v.Description)
	}

	// The candidates, and the highest version of each name.
	type cand struct {
		job *Job
		mk  jobs.Marker
	}
	cands := map[string]cand{}
	highest := map[string]int{}
	type caller struct {
		name  string
		calls []string
	}
	var others []caller // jobs with a marker that are not candidates: never pruned
	for i := range f.Jobs {
		j := &f.Jobs[i]
		mk, ok := OwnedVersion(project, j)
		if !ok {
			if m, found := jobs.ParseMarker(j.Description); found && j.Jobs == nil {
				others = append(others, caller{j.Name, m.Calls})
			}
			continue
		}
		cands[j.Name] = cand{j, mk}
		if mk.Version > highest[mk.Name] {
			highest[mk.Name] = mk.Version
		}
	}

	// The rules of each candidate on its own.
	entries := make(map[string]*PruneJob, len(cands))
	for name, c := range cands {
		e := &PruneJob{Deployed: name, Name: c.mk.Name, Version: c.mk.Version, Calls: append([]string{}, c.mk.Calls...)}
		sort.Strings(e.Calls)
		e.Rule, e.Reason, e.Prune = rule(c.job, c.mk, highest[c.mk.Name], inView[name], record, now, window)
		entries[name] = e
	}

	// Whatever a kept job calls is kept: a breadth-first walk from the
	// kept jobs, so each is named with its nearest kept caller.
	var queue, roots []string
	for name, e := range entries {
		if !e.Prune {
			roots = append(roots, name)
		}
	}
	sort.Strings(roots)
	queue = append(queue, roots...)
	sort.Slice(others, func(i, k int) bool { return others[i].name < others[k].name })
	keep := func(caller string, callees []string) {
		cs := append([]string{}, callees...)
		sort.Strings(cs)
		for _, callee := range cs {
			if e := entries[callee]; e != nil && e.Prune {
				e.Prune, e.Rule, e.Reason, e.CalledBy = false, KeepCalled, "called by "+caller, caller
				queue = append(queue, callee)
			}
		}
	}
	for _, o := range others {
		keep(o.name, o.calls)
	}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		keep(name, entries[name].Calls)
	}

	for _, e := range entries {
		p.Jobs = append(p.Jobs, *e)
	}
	sort.Slice(p.Jobs, func(i, k int) bool {
		a, b := p.Jobs[i], p.Jobs[k]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return a.Deployed < b.Deployed
	})
	p.Order, p.after = deleteOrder(p.Jobs)
	return p
}

// rule decides a candidate on its own, before calls are followed.
func rule(j *Job, mk jobs.Marker, highest int, inView bool, record map[string]string, now time.Time, window time.Duration) (rule, reason string, prune bool) {
	switch {
	case mk.Version == highest || inView:
		return KeepLatest, "latest", false
	case j.LastBuild != nil && j.LastBuild.Building, strings.HasSuffix(j.Color, "_anime"):
		return KeepRunning, "running", false
	case j.InQueue:
		return KeepQueued, "queued", false
	case j.LastBuild != nil:
		end := time.UnixMilli(j.LastBuild.Timestamp + j.LastBuild.Duration)
		age := now.Sub(end)
		if age <= window {
			return KeepRecent, "ran " + Age(age) + " ago", false
		}
		return PruneIdle, "last ran " + Age(age) + " ago", true
	}
	at, err := time.Parse(time.RFC3339, record[j.Name])
	if err != nil {
		return KeepUnrecorded, "never ran, no deploy time recorded", false
	}
	age := now.Sub(at)
	if age <= window {
		return KeepNew, "never ran, deployed " + Age(age) + " ago", false
	}
	return PruneUnused, "never ran, deployed " + Age(age) + " ago", true
}

// deleteOrder orders the pruned jobs so that every caller comes before
// the jobs it calls (Kahn's algorithm over the calls among them, ties by
// name); calls that would close a cycle, which only a hand-made marker
// can make, are ignored. It returns the order and, for each job, the
// pruned callers to wait for.
func deleteOrder(js []PruneJob) ([]string, map[string][]string) {
	pruned := map[string]*PruneJob{}
	for i := range js {
		if js[i].Prune {
			pruned[js[i].Deployed] = &js[i]
		}
	}
	indeg := map[string]int{}
	callers := map[string][]string{}
	callees := map[string][]string{} // among the pruned, without repeats
	for name, j := range pruned {
		if _, ok := indeg[name]; !ok {
			indeg[name] = 0
		}
		seen := map[string]bool{}
		for _, c := range j.Calls {
			if pruned[c] != nil && c != name && !seen[c] {
				seen[c] = true
				indeg[c]++
				callees[name] = append(callees[name], c)
				callers[c] = append(callers[c], name)
			}
		}
	}
	ready := &nameHeap{}
	for name, d := range indeg {
		if d == 0 {
			ready.names = append(ready.names, name)
		}
	}
	heap.Init(ready)
	order := make([]string, 0, len(pruned))
	pos := map[string]int{}
	for len(order) < len(pruned) {
		if ready.Len() == 0 { // a cycle: take the least name left
			least := ""
			for name := range pruned {
				if _, ok := pos[name]; !ok && (least == "" || name < least) {
					least = name
				}
			}
			indeg[least] = 0
			heap.Push(ready, least)
		}
		name := heap.Pop(ready).(string)
		if _, done := pos[name]; done {
			continue
		}
		pos[name] = len(order)
		order = append(order, name)
		for _, c := range callees[name] {
			if _, done := pos[c]; done {
				continue
			}
			if indeg[c]--; indeg[c] == 0 {
				heap.Push(ready, c)
			}
		}
	}
	after := map[string][]string{}
	for c, cs := range callers {
		for _, caller := range cs {
			if pos[caller] < pos[c] {
				after[c] = append(after[c], caller)
			}
		}
		sort.Strings(after[c])
	}
	return order, after
}

// nameHeap is a min-heap of names.
type nameHeap struct{ names []string }

func (h *nameHeap) Len() int           { return len(h.names) }
func (h *nameHeap) Less(i, k int) bool { return h.names[i] < h.names[k] }
func (h *nameHeap) Swap(i, k int)      { h.names[i], h.names[k] = h.names[k], h.names[i] }
func (h *nameHeap) Push(x any)         { h.names = append(h.names, x.(string)) }
func (h *nameHeap) Pop() any {
	x := h.names[len(h.names)-1]
	h.names = h.names[:len(h.names)-1]
	return x
}

// PlanPrune lists the project folder (one request) and plans its prune.
func (c *Client) PlanPrune(ctx context.Context, project string, now time.Time, window time.Duration) (*PrunePlan, error) {
	f, err := c.ListFolder(ctx, project)
	if err != nil {
		return nil, err
	}
	return PlanPrune(project, f, now, window), nil
}

// Verbs of a prune's result.
const (
	Pruned    = "pruned"
	Kept      = "kept"
	Remaining = "remaining" // not deleted: a caller of it could not be deleted
)

// PruneResult is what ApplyPrune did to each job it was to delete, in
// the plan's order.
type PruneResult struct {
	Jobs []JobResult `json:"jobs"`
}

// Remaining returns the deployed names that were to be deleted and are
// still there (failed or not tried).
func (r *PruneResult) Remaining() []string {
	var out []string
	for _, j := range r.Jobs {
		if j.Verb != Pruned {
			out = append(out, j.Deployed)
		}
	}
	sort.Strings(out)
	return out
}

// PruneOptions tune ApplyPrune.
type PruneOptions struct {
	// Concurrency bounds the deletes in flight (default 8).
	Concurrency int
	// Progress, when set, is called after each job is deleted.
	Progress func(done, total int, deployed string)
}

// ApplyPrune deletes the plan's pruned jobs, each only once every pruned
// job that calls it is gone, with up to Concurrency deletes in flight. A
// delete is retried on 5xx and connection errors; a job already gone
// counts as deleted. When a delete fails, the jobs it calls are not
// deleted (it would still refer to them): they are reported remaining,
// and the error names what remains. Running prune again finishes the
// work.
func (c *Client) ApplyPrune(ctx context.Context, p *PrunePlan, opt PruneOptions) (*PruneResult, error) {
	n := opt.Concurrency
	if n <= 0 {
		n = 8
	}
	res := &PruneResult{Jobs: make([]JobResult, len(p.Order))}
	if len(p.Order) == 0 {
		return res, nil
	}
	index := make(map[string]int, len(p.Order))
	for i, name := range p.Order {
		index[name] = i
	}
	wait := make([][]int, len(p.Order))
	for i, name := range p.Order {
		for _, caller := range p.after[name] {
			wait[i] = append(wait[i], index[caller])
		}
	}
	var mu sync.Mutex
	count := 0
	runOrdered(ctx, len(p.Order), n, wait, func(i int) error {
		name := p.Order[i]
		if err := c.DeleteJob(ctx, p.Folder+"/"+name); err != nil {
			res.Jobs[i] = JobResult{Deployed: name, Verb: Failed, Error: err.Error()}
			return err
		}
		res.Jobs[i] = JobResult{Deployed: name, Verb: Pruned}
		mu.Lock()
		defer mu.Unlock()
		count++
		if opt.Progress != nil {
			opt.Progress(count, len(p.Order), name)
		}
		return nil
	}, func(i, dep int, depFailed bool) {
		var msg string
		if depFailed {
			msg = "not deleted: " + p.Order[dep] + ", which calls it, was not deleted"
		} else {
			msg = "not deleted: " + ctx.Err().Error()
		}
		res.Jobs[i] = JobResult{Deployed: p.Order[i], Verb: Remaining, Error: msg}
	})
	remaining := res.Remaining()
	if len(remaining) == 0 {
		return res, nil
	}
	var errs []error
	for _, j := range res.Jobs {
		if j.Verb == Failed {
			errs = append(errs, errors.New(j.Error))
		}
	}
	if len(errs) == 0 && ctx.Err() != nil {
		errs = append(errs, ctx.Err())
	}
	shown := remaining
	if len(shown) > 10 {
		shown = append(shown[:10:10], fmt.Sprintf("and %d more", len(remaining)-10))
	}
	errs = append(errs, fmt.Errorf("%d of %d job(s) to prune remain (%s); run prune again to finish", len(remaining), len(p.Order), strings.Join(shown, ", ")))
	return res, errors.Join(errs...)
}
