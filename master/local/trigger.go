package local

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The parameterized-trigger plugin's BuildTrigger publisher: when a
// freestyle build ends with a result its condition accepts, it queues
// builds of other jobs with parameters made from the build's environment.

const (
	classBuildTrigger     = "hudson.plugins.parameterizedtrigger.BuildTrigger"
	classPredefinedParams = "hudson.plugins.parameterizedtrigger.PredefinedBuildParameters"
	classCurrentParams    = "hudson.plugins.parameterizedtrigger.CurrentBuildParameters"
	causeUpstream         = "hudson.model.Cause$UpstreamCause"
	triggerTag            = "[parameterized-trigger]"
)

// buildTrigger is one BuildTriggerConfig.
type buildTrigger struct {
	projects     string // comma-separated names, relative to the job's folder
	condition    string
	sources      []paramSource // its parameter configs, in order
	unsupported  []string      // parameter configs this master does not know
	withNoParams bool
}

// paramSource is a parameter config: predefined properties or the
// current build's parameters.
type paramSource struct {
	current    bool
	properties string
}

// readBuildTriggers reads a BuildTrigger publisher's configs.
func readBuildTriggers(p *xnode) []buildTrigger {
	var out []buildTrigger
	for _, c := range p.child("configs").elems() {
		t := buildTrigger{
			projects:     c.child("projects").textOf(),
			condition:    strings.TrimSpace(c.child("condition").textOf()),
			withNoParams: strings.TrimSpace(c.child("triggerWithNoParameters").textOf()) == "true",
		}
		if t.condition == "" {
			t.condition = "SUCCESS"
		}
		for _, pc := range c.child("configs").elems() {
			switch pc.name {
			case classPredefinedParams:
				t.sources = append(t.sources, paramSource{properties: pc.child("properties").textOf()})
			case classCurrentParams:
				t.sources = append(t.sources, paramSource{current: true})
			default:
				t.unsupported = append(t.unsupported, pc.name)
			}
		}
		out = append(out, t)
	}
	return out
}

// conditionMet is ResultCondition.isMet; ok is false for an unknown
// condition.
func conditionMet(cond, result string) (met, ok bool) {
	order := map[string]int{"SUCCESS": 0, "UNSTABLE": 1, "FAILURE": 2, "NOT_BUILT": 3, "ABORTED": 4}
	r := order[result]
	switch cond {
	case "SUCCESS":
		return result == "SUCCESS", true
	case "UNSTABLE":
		return result == "UNSTABLE", true
	case "FAILED_OR_BETTER":
		return r <= order["FAILURE"], true
	case "UNSTABLE_OR_BETTER":
		return r <= order["UNSTABLE"], true
	case "UNSTABLE_OR_WORSE":
		return r >= order["UNSTABLE"], true
	case "FAILED":
		return result == "FAILURE", true
	case "ALWAYS":
		return true, true
	}
	return false, false
}

// kv is a parameter given by name.
type kv struct{ name, value string }

// triggerDownstream runs a build's BuildTrigger configs once its result
// is known.
func (m *Master) triggerDownstream(r *runContext, triggers []buildTrigger, result string) {
	log := r.b.log
	env := map[string]string{}
	for _, e := range r.env {
		k, v, _ := strings.Cut(e, "=")
		env[k] = v
	}
	for _, t := range triggers {
		met, ok := conditionMet(t.condition, result)
		if !ok {
			log.println(fmt.Sprintf("WARNING: %s unknown trigger condition %q: not triggering %s", triggerTag, t.condition, strings.TrimSpace(t.projects)))
			continue
		}
		if !met {
			continue
		}
		for _, u := range t.unsupported {
			log.println(fmt.Sprintf("WARNING: %s the local master does not support %s; ignored", triggerTag, u))
		}
		if len(t.sources) == 0 && !t.withNoParams {
			log.println(triggerTag + " Downstream builds will not be triggered as no parameter is set.")
			continue
		}
		var given []kv
		set := func(name, value string) {
			for i := range given {
				if given[i].name == name {
					given[i].value = value
					return
				}
			}
			given = append(given, kv{name, value})
		}
		for _, s := range t.sources {
			if s.current {
				for _, p := range r.b.params {
					set(p.name, p.value)
				}
				continue
			}
			for _, p := range parseProperties(s.properties) {
				set(p.name, expandVars(p.value, env))
			}
		}
		for _, name := range strings.Split(expandVars(t.projects, env), ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			log.println(m.triggerOne(r, name, given))
		}
	}
}

// triggerOne queues a build of the job named name (relative to the
// triggering job's folder) and returns the console line saying so.
func (m *Master) triggerOne(r *runContext, name string, given []kv) string {
	m.mu.Lock()
	up := r.b.job
	target := m.resolveItem(name, up.parent)
	switch {
	case target == nil || !target.isJob() || target.deleting:
		m.mu.Unlock()
		return fmt.Sprintf("ERROR: %s no job named %s (from %s): not triggered", triggerTag, name, up.fullName())
	case target.cfg.disabled:
		m.mu.Unlock()
		return fmt.Sprintf("ERROR: Skipping %s: it is disabled", target.fullName())
	}
	// Parameters the target does not define are dropped, as Jenkins does;
	// those it defines and that are not given take their defaults.
	params := make([]paramValue, 0, len(target.cfg.params))
	for _, d := range target.cfg.params {
		v := d.defaultValue()
		for _, g := range given {
			if g.name == d.name {
				v, _ = d.value(g.value)
			}
		}
		params = append(params, v)
	}
	c := cause{
		Class:            causeUpstream,
		ShortDescription: fmt.Sprintf("Started by upstream project %q build number %d", up.fullName(), r.b.number),
		UpstreamProject:  up.fullName(),
		UpstreamBuild:    r.b.number,
		UpstreamURL:      up.relURL(),
	}
	m.enqueue(target, params, []cause{c}, m.quietPeriod(target))
	line := "Triggering a new build of " + target.fullDisplayName()
	m.mu.Unlock()
	m.saveQueue()
	return line
}

// resolveItem finds an item by a name relative to a folder, as Jenkins'
// getItem(name, context) does: "/a/b" from the root, ".." and "." as
// in paths, and, when that finds nothing, the name as a full name. m.mu
// must be held.
func (m *Master) resolveItem(name string, ctx *item) *item {
	if !strings.HasPrefix(name, "/") && ctx != nil {
		it := ctx
		for _, tok := range strings.Split(name, "/") {
			switch tok {
			case "", ".":
				continue
			case "..":
				it = it.parent
			default:
				if it.isGroup() {
					it = it.child(tok)
				} else {
					it = nil
				}
			}
			if it == nil {
				break
			}
		}
		if it != nil && it != ctx && it.kind != kindRoot {
			return it
		}
	}
	var parts []string
	for _, p := range strings.Split(name, "/") {
		if p != "" && p != "." {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return nil
	}
	return m.lookup(strings.Join(parts, "/"))
}

// parseProperties reads Java properties text (key=value, key: value or
// key value lines; # and ! comments; backslash escapes and line
// continuations), in order.
func parseProperties(text string) []kv {
	var out []kv
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimLeft(lines[i], " \t\f")
		if l == "" || l[0] == '#' || l[0] == '!' {
			continue
		}
		// Join continuation lines: an odd number of trailing backslashes.
		for trailingBackslashes(l)%2 == 1 && i+1 < len(lines) {
			i++
			l = l[:len(l)-1] + strings.TrimLeft(lines[i], " \t\f")
		}
		if trailingBackslashes(l)%2 == 1 {
			l = l[:len(l)-1]
		}
		// The key ends at the first unescaped '=', ':' or blank.
		k := 0
		for k < len(l) {
			c := l[k]
			if c == '\\' {
				k += 2
				continue
			}
			if c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f' {
				break
			}
			k++
		}
		k = min(k, len(l))
		key, rest := l[:k], l[k:]
		rest = strings.TrimLeft(rest, " \t\f")
		if rest != "" && (rest[0] == '=' || rest[0] == ':') {
			rest = strings.TrimLeft(rest[1:], " \t\f")
		}
		out = append(out, kv{unescapeProperty(key), unescapeProperty(rest)})
	}
	return out
}

func trailingBackslashes(s string) int {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n
}

func unescapeProperty(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+4 < len(s) {
				if n, err := strconv.ParseUint(s[i+1:i+5], 16, 16); err == nil {
					b.WriteRune(rune(n))
					i += 4
					continue
				}
			}
			b.WriteByte('u')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

var macroRe = regexp.MustCompile(`\$([A-Za-z0-9_]+|\{[A-Za-z0-9_.]+\})`)

// expandVars expands $NAME and ${NAME} from env, as Jenkins'
// Util.replaceMacro does: unknown names are left as they are.
func expandVars(s string, env map[string]string) string {
	return macroRe.ReplaceAllStringFunc(s, func(ref string) string {
		name := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(ref, "$"), "{"), "}")
		if v, ok := env[name]; ok {
			return v
		}
		return ref
	})
}
