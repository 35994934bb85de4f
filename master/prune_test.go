package master_test

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jobctl/jobctl/jobs"
	"github.com/jobctl/jobctl/master"
)

var pruneNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

const week = 7 * 24 * time.Hour

// owned is a listed job jobctl deployed in project.
func owned(project, name string, version int, calls ...string) master.Job {
	hash := fmt.Sprintf("%012x", uint64(len(name)*1000003+version*7919))
	return master.Job{
		Name:        jobs.DeployedName(name, version, hash),
		Description: jobs.Describe("A job.", jobs.Marker{Project: project, Name: name, Kind: jobs.Worker, Version: version, Hash: hash, Calls: calls}),
	}
}

func dn(name string, version int) string { return owned("p", name, version).Name }

// ranAt gives a job a finished last build that ended at end.
func ranAt(j master.Job, end time.Time) master.Job {
	j.LastBuild = &master.LastBuild{Number: 3, Timestamp: end.Add(-time.Minute).UnixMilli(), Duration: time.Minute.Milliseconds(), Result: "SUCCESS"}
	return j
}

func building(j master.Job) master.Job {
	j.LastBuild = &master.LastBuild{Number: 4, Timestamp: pruneNow.Add(-30 * 24 * time.Hour).UnixMilli(), Building: true}
	j.Color = "blue_anime"
	return j
}

func queued(j master.Job) master.Job {
	j = ranAt(j, pruneNow.Add(-30*24*time.Hour))
	j.InQueue = true
	return j
}

func latestView(record map[string]string, names ...string) master.View {
	desc := "The latest versions."
	if record != nil {
		b := "<!-- jobctl-deployed {"
		keys := make([]string, 0, len(record))
		for k := range record {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i > 0 {
				b += ","
			}
			b += fmt.Sprintf("%q:%q", k, record[k])
		}
		desc += "\n\n" + b + "} -->"
	}
	sort.Strings(names)
	return master.View{Name: "latest", Description: desc, Jobs: names}
}

func ago(d time.Duration) string { return pruneNow.Add(-d).Format(time.RFC3339) }

func TestPlanPrune(t *testing.T) {
	day := 24 * time.Hour
	type verdict struct{ Deployed, Reason string }
	tests := []struct {
		name  string
		jobs  []master.Job
		view  *master.View
		want  []verdict // pruned ones have the reason prefixed with "prune: "
		order []string
	}{
		{
			name: "the highest version is latest; old ones idle are pruned",
			jobs: []master.Job{
				ranAt(owned("p", "fetch", 1), pruneNow.Add(-9*day)),
				ranAt(owned("p", "fetch", 2), pruneNow.Add(-2*day)),
				ranAt(owned("p", "fetch", 3), pruneNow.Add(-20*day)),
			},
			want: []verdict{
				{dn("fetch", 1), "prune: last ran 9d ago"},
				{dn("fetch", 2), "ran 2d ago"},
				{dn("fetch", 3), "latest"},
			},
			order: []string{dn("fetch", 1)},
		},
		{
			name: "the view's version is latest too (a half-failed deploy)",
			jobs: []master.Job{
				owned("p", "fetch", 1),
				owned("p", "fetch", 2),
				owned("p", "fetch", 3),
			},
			view: &master.View{Name: "latest", Jobs: []string{dn("fetch", 2)}},
			want: []verdict{
				{dn("fetch", 1), "never ran, no deploy time recorded"},
				{dn("fetch", 2), "latest"},
				{dn("fetch", 3), "latest"},
			},
			order: []string{},
		},
		{
			name: "never ran: aged from the deploy record",
			jobs: []master.Job{
				owned("p", "a", 1), owned("p", "a", 2), owned("p", "a", 3), owned("p", "a", 4),
			},
			view: ptr(latestView(map[string]string{
				dn("a", 1): ago(12 * day),
				dn("a", 2): ago(5 * time.Hour),
				dn("a", 3): "not a time",
				dn("a", 4): ago(time.Minute),
			}, dn("a", 4))),
			want: []verdict{
				{dn("a", 1), "prune: never ran, deployed 12d ago"},
				{dn("a", 2), "never ran, deployed 5h ago"},
				{dn("a", 3), "never ran, no deploy time recorded"},
				{dn("a", 4), "latest"},
			},
			order: []string{dn("a", 1)},
		},
		{
			name: "the window's edge is kept; just past it is pruned",
			jobs: []master.Job{
				ranAt(owned("p", "a", 1), pruneNow.Add(-week)),
				ranAt(owned("p", "a", 2), pruneNow.Add(-week-time.Second)),
				owned("p", "a", 3),
			},
			want: []verdict{
				{dn("a", 1), "ran 7d ago"},
				{dn("a", 2), "prune: last ran 7d ago"},
				{dn("a", 3), "latest"},
			},
			order: []string{dn("a", 2)},
		},
		{
			name: "running and queued are kept, and so is what they call",
			jobs: []master.Job{
				building(owned("p", "flow", 1, dn("work", 1))),
				queued(owned("p", "flow", 2, dn("work", 2))),
				owned("p", "flow", 3, dn("work", 3)),
				ranAt(owned("p", "work", 1), pruneNow.Add(-30*day)),
				ranAt(owned("p", "work", 2), pruneNow.Add(-30*day)),
				ranAt(owned("p", "work", 3), pruneNow.Add(-30*day)),
				ranAt(owned("p", "work", 4), pruneNow.Add(-30*day)),
			},
			want: []verdict{
				{dn("flow", 1), "running"},
				{dn("flow", 2), "queued"},
				{dn("flow", 3), "latest"},
				{dn("work", 1), "called by " + dn("flow", 1)},
				{dn("work", 2), "called by " + dn("flow", 2)},
				{dn("work", 3), "called by " + dn("flow", 3)},
				{dn("work", 4), "latest"},
			},
			order: []string{},
		},
		{
			name: "called through other jobs; orchestrations go first",
			jobs: []master.Job{
				ranAt(owned("p", "top", 1, dn("mid", 1)), pruneNow.Add(-day)),
				ranAt(owned("p", "top", 2, dn("mid", 2)), pruneNow.Add(-30*day)),
				owned("p", "top", 3),
				ranAt(owned("p", "mid", 1, dn("leaf", 1)), pruneNow.Add(-30*day)),
				ranAt(owned("p", "mid", 2, dn("leaf", 2), dn("leaf", 1)), pruneNow.Add(-30*day)),
				owned("p", "mid", 3),
				ranAt(owned("p", "leaf", 1), pruneNow.Add(-30*day)),
				ranAt(owned("p", "leaf", 2), pruneNow.Add(-30*day)),
				owned("p", "leaf", 3),
			},
			want: []verdict{
				{dn("leaf", 1), "called by " + dn("mid", 1)},
				{dn("leaf", 2), "prune: last ran 30d ago"},
				{dn("leaf", 3), "latest"},
				{dn("mid", 1), "called by " + dn("top", 1)},
				{dn("mid", 2), "prune: last ran 30d ago"},
				{dn("mid", 3), "latest"},
				{dn("top", 1), "ran 1d ago"},
				{dn("top", 2), "prune: last ran 30d ago"},
				{dn("top", 3), "latest"},
			},
			order: []string{dn("top", 2), dn("mid", 2), dn("leaf", 2)},
		},
		{
			name: "a cycle of calls (hand-made markers) and repeated calls still give an order",
			jobs: []master.Job{
				ranAt(owned("p", "a", 1, dn("b", 1), dn("b", 1)), pruneNow.Add(-30*day)),
				ranAt(owned("p", "b", 1, dn("a", 1)), pruneNow.Add(-30*day)),
				ranAt(owned("p", "c", 1, dn("a", 1), dn("a", 1)), pruneNow.Add(-30*day)),
				owned("p", "a", 2), owned("p", "b", 2), owned("p", "c", 2),
			},
			want: []verdict{
				{dn("a", 1), "prune: last ran 30d ago"},
				{dn("a", 2), "latest"},
				{dn("b", 1), "prune: last ran 30d ago"},
				{dn("b", 2), "latest"},
				{dn("c", 1), "prune: last ran 30d ago"},
				{dn("c", 2), "latest"},
			},
			order: []string{dn("c", 1), dn("a", 1), dn("b", 1)},
		},
		{
			name: "jobs jobctl does not own in this project are not candidates, and what they call is kept",
			jobs: func() []master.Job {
				other := owned("q", "x", 1) // another project's
				mine := owned("p", "x", 1)
				hand := master.Job{Name: mine.Name} // no marker
				tampered := owned("p", "y", 1, dn("z", 1))
				tampered.Name = strings.Replace(tampered.Name, "-v1-", "-v2-", 1) // marker says v1
				folder := master.Job{Name: "sub", Jobs: []master.Job{}}
				plain := master.Job{Name: "nightly-backup", Description: "by hand"}
				return []master.Job{
					ranAt(other, pruneNow.Add(-90*day)), hand, tampered, folder, plain,
					ranAt(owned("p", "z", 1), pruneNow.Add(-90*day)), owned("p", "z", 2),
				}
			}(),
			want: []verdict{
				{dn("z", 1), "called by " + strings.Replace(dn("y", 1), "-v1-", "-v2-", 1)},
				{dn("z", 2), "latest"},
			},
			order: []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &master.Folder{Name: "p", Exists: true, Jobs: tt.jobs}
			if tt.view != nil {
				f.Views = []master.View{*tt.view}
			}
			p := master.PlanPrune("p", f, pruneNow, week)
			var got []verdict
			for _, j := range p.Jobs {
				r := j.Reason
				if j.Prune {
					r = "prune: " + r
				}
				got = append(got, verdict{j.Deployed, r})
			}
			sort.Slice(got, func(i, k int) bool { return got[i].Deployed < got[k].Deployed })
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.order, p.Order); diff != "" {
				t.Errorf("order (-want +got):\n%s", diff)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestAge(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second: "0s", 0: "0s", 59 * time.Second: "59s", 61 * time.Second: "1m",
		5*time.Hour + 59*time.Minute: "5h", 47 * time.Hour: "1d", 9*24*time.Hour + time.Hour: "9d",
	} {
		if got := master.Age(d); got != want {
			t.Errorf("Age(%v) = %q, want %q", d, got, want)
		}
	}
}

// history is what a generated job's builds look like.
type history int

const (
	neverRecent  history = iota // never ran, deployed within the window
	neverOld                    // never ran, deployed before the window
	neverUnknown                // never ran, no deploy time recorded
	ranRecently                 // last build ended within the window
	ranLongAgo                  // last build ended before the window
	isBuilding                  // last build running (started long ago)
	isQueued                    // in the queue (last ran long ago)
	historyKinds
)

// genJob is a generated job and the facts the reference decides from.
type genJob struct {
	job     master.Job
	owned   bool // a candidate: jobctl's, in this project, name and marker agree
	name    string
	version int
	calls   []string // deployed names, per its marker (if it has one)
	marker  bool
	hist    history
}

// genFolder makes a random project folder: common names on levels (a
// name calls only names on lower levels: acyclic), versions with random
// gaps, random histories, a random view, and jobs that are not
// candidates: other projects', hand-made ones, ones whose marker does not
// match their name, a sub-folder.
func genFolder(r *rand.Rand) (*master.Folder, []genJob) {
	const project = "shop"
	var all []genJob
	nNames := 1 + r.IntN(8)
	type version struct {
		deployed string
		v        int
	}
	levels := make([]int, nNames)
	versions := make([][]version, nNames)
	hex := func() string { return fmt.Sprintf("%012x", r.Uint64()&(1<<48-1)) }
	record := map[string]string{}
	var view []string
	// Lower levels first, so callers can call what exists.
	for i := range nNames {
		levels[i] = r.IntN(3)
	}
	order := make([]int, nNames)
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return levels[order[a]] < levels[order[b]] })
	for _, i := range order {
		name := fmt.Sprintf("job_%d", i)
		nv := 1 + r.IntN(6)
		for v := 1; v <= nv; v++ {
			if r.IntN(4) == 0 && v < nv {
				continue // deleted earlier
			}
			hash := hex()
			deployed := jobs.DeployedName(name, v, hash)
			var calls []string
			for k := range nNames {
				if levels[k] < levels[i] && len(versions[k]) > 0 && r.IntN(2) == 0 {
					calls = append(calls, versions[k][r.IntN(len(versions[k]))].deployed)
					if r.IntN(5) == 0 { // and a version that is gone
						calls = append(calls, jobs.DeployedName(fmt.Sprintf("job_%d", k), 99, hex()))
					}
				}
			}
			kind := jobs.Worker
			if len(calls) > 0 {
				kind = jobs.Orchestration
			}
			j := master.Job{Name: deployed, Description: jobs.Describe("gen", jobs.Marker{Project: project, Name: name, Kind: kind, Version: v, Hash: hash, Calls: calls})}
			g := genJob{owned: true, name: name, version: v, calls: calls, marker: true, hist: randomHistory(r)}
			g.job = withHistory(r, j, g.hist, record)
			all = append(all, g)
			versions[i] = append(versions[i], version{deployed, v})
			if r.IntN(6) == 0 {
				view = append(view, deployed)
			}
		}
	}
	someCandidate := func() string {
		if len(all) == 0 {
			return "job_0-v1-000000000000"
		}
		return all[r.IntN(len(all))].job.Name
	}
	// Jobs that are not candidates.
	for i := range r.IntN(5) {
		name := fmt.Sprintf("job_%d%s", r.IntN(nNames+2), strings.Repeat("_x", i))
		v, hash := 1+r.IntN(9), hex()
		var calls []string
		if r.IntN(2) == 0 {
			calls = []string{someCandidate()}
		}
		mk := jobs.Marker{Project: project, Name: name, Kind: jobs.Orchestration, Version: v, Hash: hash, Calls: calls}
		g := genJob{marker: true, calls: calls, hist: history(r.IntN(int(historyKinds)))}
		var j master.Job
		switch r.IntN(6) {
		case 0: // another project's
			mk.Project = "other"
			j = master.Job{Name: jobs.DeployedName(name, v, hash), Description: jobs.Describe("", mk)}
		case 1: // made by hand, named like jobctl's
			j = master.Job{Name: jobs.DeployedName(name, v, hash), Description: "by hand"}
			g.marker, g.calls = false, nil
		case 2: // marker's hash disagrees with the name
			j = master.Job{Name: jobs.DeployedName(name, v, hex()), Description: jobs.Describe("", mk)}
		case 3: // marker's version disagrees
			j = master.Job{Name: jobs.DeployedName(name, v+1, hash), Description: jobs.Describe("", mk)}
		case 4: // not a deployed name
			j = master.Job{Name: "Nightly " + name, Description: jobs.Describe("", mk)}
		case 5: // a sub-folder
			j = master.Job{Name: jobs.DeployedName(name, v, hash), Jobs: []master.Job{}}
			g.marker, g.calls = false, nil
		}
		g.job = withHistory(r, j, g.hist, record)
		all = append(all, g)
	}
	r.Shuffle(len(all), func(i, k int) { all[i], all[k] = all[k], all[i] })
	f := &master.Folder{Name: project, Exists: true}
	for _, g := range all {
		f.Jobs = append(f.Jobs, g.job)
	}
	if r.IntN(5) > 0 {
		f.Views = []master.View{latestView(record, view...)}
	} else {
		for i := range all { // no view, no deploy record
			if all[i].hist == neverOld || all[i].hist == neverRecent {
				all[i].hist = neverUnknown
			}
		}
	}
	return f, all
}

// randomHistory picks a history, idle ones more often than the rest, so
// that both verdicts are common.
func randomHistory(r *rand.Rand) history {
	hs := []history{neverRecent, neverOld, neverOld, neverUnknown, ranRecently, ranLongAgo, ranLongAgo, ranLongAgo, isBuilding, isQueued}
	return hs[r.IntN(len(hs))]
}

// withHistory gives j a history; deploy times go to record.
func withHistory(r *rand.Rand, j master.Job, h history, record map[string]string) master.Job {
	day := int64(24 * time.Hour)
	recent := func() time.Time { return pruneNow.Add(-time.Duration(r.Int64N(int64(week - 2*time.Second)))) }
	old := func() time.Time { return pruneNow.Add(-week - time.Second - time.Duration(r.Int64N(60*day))) }
	switch h {
	case neverRecent:
		record[j.Name] = recent().Format(time.RFC3339)
	case neverOld:
		record[j.Name] = old().Format(time.RFC3339)
	case ranRecently:
		j = ranAt(j, recent())
		record[j.Name] = old().Format(time.RFC3339)
	case ranLongAgo:
		j = ranAt(j, old())
		if r.IntN(2) == 0 {
			record[j.Name] = recent().Format(time.RFC3339) // redeployed: the build counts
		}
	case isBuilding:
		j.LastBuild = &master.LastBuild{Number: 9, Timestamp: old().UnixMilli(), Building: true}
		if r.IntN(2) == 0 {
			j.Color = "red_anime"
		}
	case isQueued:
		j = ranAt(j, old())
		j.InQueue = true
	}
	return j
}

// mustKeep is the reference: the candidates that must be kept, by a
// fixpoint over the rules as the issue states them.
func mustKeep(all []genJob, view []string) (candidates, keep map[string]bool) {
	candidates, keep = map[string]bool{}, map[string]bool{}
	inView := map[string]bool{}
	for _, v := range view {
		inView[v] = true
	}
	highest := map[string]int{}
	for _, g := range all {
		if g.owned {
			candidates[g.job.Name] = true
			highest[g.name] = max(highest[g.name], g.version)
		}
	}
	for _, g := range all {
		if !g.owned {
			continue
		}
		switch {
		case g.version == highest[g.name], inView[g.job.Name]:
		case g.hist == isBuilding, g.hist == isQueued, g.hist == ranRecently, g.hist == neverRecent, g.hist == neverUnknown:
		default:
			continue
		}
		keep[g.job.Name] = true
	}
	for changed := true; changed; {
		changed = false
		for _, g := range all {
			if g.owned && !keep[g.job.Name] {
				continue // only kept jobs, and jobs never pruned, hold their callees
			}
			for _, c := range g.calls {
				if candidates[c] && !keep[c] {
					keep[c], changed = true, true
				}
			}
		}
	}
	return candidates, keep
}

// TestPlanPruneProperties checks the plan against the reference over
// random folders: exactly the candidates are listed, exactly what must be
// kept is kept, everything else is pruned, reasons name a kept caller,
// and the order deletes every caller before what it calls.
func TestPlanPruneProperties(t *testing.T) {
	iterations := 3000
	if testing.Short() {
		iterations = 300
	}
	pruned, kept := 0, 0
	for seed := range uint64(iterations) {
		r := rand.New(rand.NewPCG(seed, 42))
		f, all := genFolder(r)
		var view []string
		if v := f.View("latest"); v != nil {
			view = v.Jobs
		}
		candidates, keep := mustKeep(all, view)
		p := master.PlanPrune("shop", f, pruneNow, week)

		fail := func(format string, args ...any) {
			t.Helper()
			t.Errorf("seed %d: "+format, append([]any{seed}, args...)...)
		}
		byName := map[string]master.PruneJob{}
		for _, j := range p.Jobs {
			byName[j.Deployed] = j
			if !candidates[j.Deployed] {
				fail("%s is listed, but it is not a candidate", j.Deployed)
			}
		}
		for c := range candidates {
			j, ok := byName[c]
			switch {
			case !ok:
				fail("candidate %s is not listed", c)
			case keep[c] && j.Prune:
				fail("%s must be kept, and is pruned (%s)", c, j.Reason)
			case !keep[c] && !j.Prune:
				fail("%s may be pruned, and is kept (%s)", c, j.Reason)
			}
			if j.Prune {
				pruned++
			} else {
				kept++
			}
		}
		// A "called by" names a job that stays and calls it.
		stays := map[string][]string{}
		for _, g := range all {
			if !g.owned || keep[g.job.Name] {
				stays[g.job.Name] = g.calls
			}
		}
		for _, j := range p.Jobs {
			if j.Rule != master.KeepCalled {
				continue
			}
			calls, ok := stays[j.CalledBy]
			if !ok || !contains(calls, j.Deployed) {
				fail("%s: %q, which is not a kept caller of it", j.Deployed, j.Reason)
			}
		}
		// The order: each pruned job once, callers first.
		pos := map[string]int{}
		for i, n := range p.Order {
			if _, dup := pos[n]; dup {
				fail("%s is twice in the order", n)
			}
			pos[n] = i
			if !byName[n].Prune {
				fail("%s is in the order, and kept", n)
			}
		}
		for _, j := range p.Jobs {
			if !j.Prune {
				continue
			}
			if _, ok := pos[j.Deployed]; !ok {
				fail("%s is pruned, and not in the order", j.Deployed)
			}
			for _, c := range j.Calls {
				if pc, ok := pos[c]; ok && pc < pos[j.Deployed] {
					fail("%s is deleted before %s, which calls it", c, j.Deployed)
				}
			}
		}
	}
	t.Logf("%d folders: %d candidates pruned, %d kept", iterations, pruned, kept)
	if pruned == 0 || kept == 0 {
		t.Errorf("the generator is degenerate: %d pruned, %d kept", pruned, kept)
	}
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}
