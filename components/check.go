package components

import (
	"fmt"
	"sort"
	"strings"

	"github.com/jobctl/jobctl/jobs"
)

// Check runs the checks that span files: dependencies name existing
// components, there are no dependency cycles, and components that share
// an environment agree on the versions of the tools they both need.
func Check(cs []*Component, ps *jobs.Problems) { check(cs, nil, ps) }

// check is Check where the components named in broken exist but could not
// be parsed: depending on them is no problem, and they take no part in the
// other checks.
func check(cs []*Component, broken []string, ps *jobs.Problems) {
	byName := map[string]*Component{}
	names := append([]string(nil), broken...)
	for _, c := range cs {
		byName[c.Name] = c
		names = append(names, c.Name)
	}
	for _, c := range cs {
		for _, r := range c.DependsOn {
			if byName[r.Name] == nil && !contains(broken, r.Name) {
				ps.Add(c.File, r.Line, r.Col, "depends_on: no component %q (no %s/%s.yaml)%s", r.Name, Dir, r.Name, jobs.DidYouMean(r.Name, names))
			}
		}
	}
	checkCycles(cs, byName, ps)
	checkTools(cs, ps)
}

// checkCycles reports every dependency cycle once, at the depends_on entry
// that closes it, naming it as a → b → c → a.
func checkCycles(cs []*Component, byName map[string]*Component, ps *jobs.Problems) {
	const (
		unseen = iota
		active
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(c *Component)
	visit = func(c *Component) {
		state[c.Name] = active
		stack = append(stack, c.Name)
		for _, r := range c.DependsOn {
			dep := byName[r.Name]
			if dep == nil {
				continue
			}
			switch state[dep.Name] {
			case unseen:
				visit(dep)
			case active:
				i := len(stack) - 1
				for stack[i] != dep.Name {
					i--
				}
				cycle := append(append([]string(nil), stack[i:]...), dep.Name)
				ps.Add(c.File, r.Line, r.Col, "dependency cycle: %s", strings.Join(cycle, " → "))
			}
		}
		stack = stack[:len(stack)-1]
		state[c.Name] = done
	}
	for _, c := range cs {
		if state[c.Name] == unseen {
			visit(c)
		}
	}
}

// checkTools reports, for every pair of components that share an
// environment (by name), each tool both require with constraints that no
// version satisfies together. Whether the two depend on each other does not
// matter: they run on the same agents in that environment.
func checkTools(cs []*Component, ps *jobs.Problems) {
	for i, a := range cs {
		for _, b := range cs[i+1:] {
			shared := sharedEnvironments(a, b)
			if len(shared) == 0 {
				continue
			}
			for _, ta := range a.Tools {
				for _, tb := range b.Tools {
					if ta.Name != tb.Name || ta.Checks == nil || tb.Checks == nil {
						continue
					}
					if satisfiable(append(append([]jobs.VersionCheck(nil), ta.Checks...), tb.Checks...)) {
						continue
					}
					envs := "environment " + shared[0]
					if len(shared) > 1 {
						envs = "environments " + strings.Join(shared, ", ")
					}
					ps.Add(a.File, ta.Line, ta.Col,
						"tool %s: %s needs %q but %s (%s:%d:%d) needs %q; no version satisfies both, and both run in %s",
						ta.Name, a.Name, ta.Constraint, b.Name, b.File, tb.Line, tb.Col, tb.Constraint, envs)
				}
			}
		}
	}
}

func sharedEnvironments(a, b *Component) []string {
	var out []string
	for _, e := range a.Environments {
		if _, ok := b.Environment(e.Name); ok {
			out = append(out, e.Name)
		}
	}
	sort.Strings(out)
	return out
}

// satisfiable reports whether some release version passes every check.
//
// The method: versions are dotted digits compared segment by segment,
// missing segments counting as 0 (jobs.CompareVersions), so the smallest
// version is 0 and between any two different versions lie infinitely many
// others (1.2 < 1.2.0.0.1 < 1.2.0.1). The checks (with ~> already expanded
// to >= and <, and a bare version to =) therefore describe one interval,
// the intersection of the lower bounds (>, >=, =) and upper bounds (<, <=,
// =), minus finitely many points (!=). Such a set is empty exactly when the
// interval is empty, or is a single point that a != excludes: an interval
// with more than one point holds infinitely many versions, so a finite
// number of exclusions cannot empty it. Pre-release versions never reach
// here: jobs.VersionChecks rejects them, as tools print release versions.
func satisfiable(checks []jobs.VersionCheck) bool {
	lo, loIncl := "0", true
	hi, hiIncl, bounded := "", false, false
	var excluded []string
	raise := func(v string, incl bool) {
		switch c := jobs.CompareVersions(v, lo); {
		case c > 0:
			lo, loIncl = v, incl
		case c == 0:
			loIncl = loIncl && incl
		}
	}
	lower := func(v string, incl bool) {
		if !bounded {
			hi, hiIncl, bounded = v, incl, true
			return
		}
		switch c := jobs.CompareVersions(v, hi); {
		case c < 0:
			hi, hiIncl = v, incl
		case c == 0:
			hiIncl = hiIncl && incl
		}
	}
	for _, c := range checks {
		switch c.Op {
		case ">=":
			raise(c.Version, true)
		case ">":
			raise(c.Version, false)
		case "<=":
			lower(c.Version, true)
		case "<":
			lower(c.Version, false)
		case "=":
			raise(c.Version, true)
			lower(c.Version, true)
		case "!=":
			excluded = append(excluded, c.Version)
		default:
			panic(fmt.Sprintf("components: unknown version operator %q", c.Op))
		}
	}
	if !bounded {
		return true
	}
	switch c := jobs.CompareVersions(lo, hi); {
	case c < 0:
		return true
	case c > 0 || !loIncl || !hiIncl:
		return false
	}
	for _, x := range excluded {
		if jobs.CompareVersions(x, lo) == 0 {
			return false
		}
	}
	return true
}

// Order groups components into dependency levels: every component comes
// after all it depends on, and components in the same level are independent
// of each other, so that stage and release orchestrations can run a level
// concurrently. Each level is sorted by name. Unknown dependencies are
// ignored; components caught in a cycle (which Check reports) come last,
// in one level.
func Order(cs []*Component) [][]*Component {
	byName := map[string]bool{}
	for _, c := range cs {
		byName[c.Name] = true
	}
	placed := map[string]bool{}
	rest := append([]*Component(nil), cs...)
	sort.Slice(rest, func(i, j int) bool { return rest[i].Name < rest[j].Name })
	var levels [][]*Component
	for len(rest) > 0 {
		var level, next []*Component
		for _, c := range rest {
			ready := true
			for _, r := range c.DependsOn {
				if byName[r.Name] && !placed[r.Name] {
					ready = false
					break
				}
			}
			if ready {
				level = append(level, c)
			} else {
				next = append(next, c)
			}
		}
		if len(level) == 0 {
			levels = append(levels, next)
			break
		}
		for _, c := range level {
			placed[c.Name] = true
		}
		levels = append(levels, level)
		rest = next
	}
	return levels
}
