package master

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/jobctl/jobctl/compiler"
	"github.com/jobctl/jobctl/jobs"
)

// Build is what deploy pushes: a manifest and the XML it names.
type Build struct {
	Manifest *compiler.Manifest
	Folder   []byte            // the project folder's config.xml
	View     []byte            // the project view's config.xml, as compiled
	XML      map[string][]byte // job config.xml by deployed name
}

// FromResult is the Build of a compiled result.
func FromResult(r *compiler.Result) *Build {
	b := &Build{Manifest: r.Manifest(), Folder: r.Folder, View: r.View, XML: make(map[string][]byte, len(r.Defs))}
	for _, d := range r.Defs {
		b.XML[d.Deployed] = d.XML
	}
	return b
}

// ReadBuild reads a build folder written by jobctl build.
func ReadBuild(dir string) (*Build, error) {
	m, err := compiler.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	b := &Build{Manifest: m, XML: make(map[string][]byte, len(m.Jobs))}
	if b.Folder, err = os.ReadFile(filepath.Join(dir, "folder.xml")); err != nil {
		return nil, err
	}
	if b.View, err = os.ReadFile(filepath.Join(dir, "views", m.View+".xml")); err != nil {
		return nil, err
	}
	for _, j := range m.Jobs {
		if b.XML[j.Deployed], err = os.ReadFile(filepath.Join(dir, filepath.FromSlash(j.Definition))); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// DeployPlan is what a deploy will do, as data.
type DeployPlan struct {
	Project string `json:"project"`
	Folder  string `json:"folder"`
	// CreateFolder: the project folder does not exist yet.
	CreateFolder bool `json:"create_folder"`
	// Unmet are the plugin requirements the master does not meet; a plan
	// with any deploys nothing.
	Unmet []UnmetPlugin `json:"unmet_plugins"`
	// Create are the jobs to create, in dependency order (callees first).
	Create []PlannedJob `json:"create"`
	// Unchanged are the jobs that exist with the right content.
	Unchanged []PlannedJob `json:"unchanged"`
	// Drift are deployed names that exist on the master with other
	// content; a plan with any changes nothing.
	Drift []DriftJob `json:"drift"`
	// View is the project view, pointed at the latest versions.
	View ViewPlan `json:"view"`

	build *Build
}

// PlannedJob is one job of the build.
type PlannedJob struct {
	Name     string   `json:"name"`
	Deployed string   `json:"deployed"`
	Calls    []string `json:"calls"`
}

// UnmetPlugin is a plugin requirement the master does not meet.
type UnmetPlugin struct {
	Plugin     string   `json:"plugin"`
	Constraint string   `json:"constraint"`
	Installed  string   `json:"installed"` // "" when not installed; "V (disabled)" when inactive or disabled
	Jobs       []string `json:"jobs"`      // the common names that need it
}

func (u UnmetPlugin) String() string {
	inst := "not installed"
	if u.Installed != "" {
		inst = "installed " + u.Installed
	}
	return fmt.Sprintf("plugin %s %s: %s (needed by %s)", u.Plugin, u.Constraint, inst, strings.Join(u.Jobs, ", "))
}

// DriftJob is a deployed name whose job on the master is not what jobctl
// deployed under that name.
type DriftJob struct {
	Deployed string `json:"deployed"`
	Reason   string `json:"reason"`
}

// ViewPlan is the project view's change.
type ViewPlan struct {
	Name   string   `json:"name"`
	Create bool     `json:"create"`
	Update bool     `json:"update"`
	Jobs   []string `json:"jobs"`
	// Deployed is the deploy record the view's description will carry:
	// when each version still on the master was first deployed.
	Deployed map[string]string `json:"deployed"`

	xml []byte
}

// Changes reports whether the plan would write anything.
func (p *DeployPlan) Changes() bool {
	return p.CreateFolder || len(p.Create) > 0 || p.View.Create || p.View.Update
}

// OK reports whether the plan can be applied: no unmet plugin, no drift.
func (p *DeployPlan) OK() bool { return len(p.Unmet) == 0 && len(p.Drift) == 0 }

// Plan compares a build with what the master holds (the project folder's
// listing and the installed plugins). now is the deploy time recorded for
// versions the view's deploy record does not know yet (RFC 3339, UTC).
func Plan(b *Build, existing *Folder, plugins map[string]Plugin, now string) (*DeployPlan, error) {
	m := b.Manifest
	p := &DeployPlan{Project: m.Project, Folder: m.Folder, CreateFolder: !existing.Exists,
		Unmet: []UnmetPlugin{}, Create: []PlannedJob{}, Unchanged: []PlannedJob{}, Drift: []DriftJob{}, build: b}

	// Plugins: one line per plugin and constraint, naming the jobs.
	type key struct{ plugin, constraint string }
	unmet := map[key]*UnmetPlugin{}
	for _, j := range m.Jobs {
		for name, constraint := range j.Plugins {
			checks, err := jobs.VersionChecks(constraint)
			if err != nil {
				return nil, fmt.Errorf("%s: plugin %s: %w", j.Name, name, err)
			}
			inst, ok := plugins[name]
			usable := ok && inst.Active && inst.Enabled
			if usable && jobs.Holds(checks, PluginVersion(inst.Version)) {
				continue
			}
			k := key{name, constraint}
			if unmet[k] == nil {
				installed := inst.Version
				if ok && !usable {
					installed += " (disabled)"
				}
				unmet[k] = &UnmetPlugin{Plugin: name, Constraint: constraint, Installed: installed}
			}
			unmet[k].Jobs = append(unmet[k].Jobs, j.Name)
		}
	}
	for _, u := range unmet {
		sort.Strings(u.Jobs)
		p.Unmet = append(p.Unmet, *u)
	}
	sort.Slice(p.Unmet, func(i, k int) bool {
		if p.Unmet[i].Plugin != p.Unmet[k].Plugin {
			return p.Unmet[i].Plugin < p.Unmet[k].Plugin
		}
		return p.Unmet[i].Constraint < p.Unmet[k].Constraint
	})

	// Jobs: missing ones are created (in the manifest's dependency order),
	// present ones must carry the marker of exactly this definition.
	for _, j := range m.Jobs {
		pj := PlannedJob{Name: j.Name, Deployed: j.Deployed, Calls: append([]string{}, j.Calls...)}
		if _, ok := b.XML[j.Deployed]; !ok {
			return nil, fmt.Errorf("the build has no definition of %s", j.Deployed)
		}
		have := existing.Job(j.Deployed)
		if have == nil {
			p.Create = append(p.Create, pj)
			continue
		}
		if reason := drift(m.Project, j, have.Description); reason != "" {
			p.Drift = append(p.Drift, DriftJob{Deployed: j.Deployed, Reason: reason})
			continue
		}
		p.Unchanged = append(p.Unchanged, pj)
	}

	// The view: the latest versions, and the deploy record.
	present := map[string]bool{}
	for _, j := range existing.Jobs {
		present[j.Name] = true
	}
	var old *View
	if v := existing.View(m.View); v != nil {
		old = v
	}
	oldRecord := map[string]string{}
	if old != nil {
		oldRecord = ParseDeployRecord(old.Description)
	}
	for _, j := range m.Jobs {
		present[j.Deployed] = true // present once applied
	}
	record := map[string]string{}
	for name, at := range oldRecord {
		if present[name] {
			record[name] = at
		}
	}
	latest := make([]string, 0, len(m.Jobs))
	for _, j := range m.Jobs {
		latest = append(latest, j.Deployed)
		if _, ok := record[j.Deployed]; !ok {
			record[j.Deployed] = now
		}
	}
	sort.Strings(latest)
	xml, desc, err := viewXML(b.View, record)
	if err != nil {
		return nil, err
	}
	p.View = ViewPlan{Name: m.View, Jobs: latest, Deployed: record, xml: xml}
	switch {
	case old == nil:
		p.View.Create = true
	case !equalStrings(old.Jobs, latest) || strings.TrimSpace(old.Description) != strings.TrimSpace(desc):
		p.View.Update = true
	}
	return p, nil
}

// drift says why a job listed under a deployed name is not that definition
// ("" when it is).
func drift(project string, j compiler.ManifestJob, description string) string {
	mk, ok := jobs.ParseMarker(description)
	switch {
	case !ok:
		return "its description carries no jobctl marker: not deployed by jobctl"
	case mk.Project != project:
		return fmt.Sprintf("its marker names project %s", mk.Project)
	case mk.Name != j.Name || mk.Version != j.Version:
		return fmt.Sprintf("its marker names %s v%d", mk.Name, mk.Version)
	case mk.Hash != j.Hash:
		return fmt.Sprintf("its marker's hash is %s, the name's is %s: edited on the master", mk.Hash, j.Hash)
	}
	return ""
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// PlanDeploy lists the project folder (one request) and the plugins (one
// request) and plans the deploy of b at time now.
func (c *Client) PlanDeploy(ctx context.Context, b *Build, now time.Time) (*DeployPlan, error) {
	existing, err := c.ListFolder(ctx, b.Manifest.Folder)
	if err != nil {
		return nil, err
	}
	plugins, err := c.Plugins(ctx)
	if err != nil {
		return nil, err
	}
	return Plan(b, existing, plugins, now.UTC().Format(time.RFC3339))
}
