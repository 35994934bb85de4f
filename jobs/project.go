package jobs

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/jobctl/jobctl/cron"
	"gopkg.in/yaml.v3"
)

// ProjectFile is the name of the project settings file at a repository's root.
const ProjectFile = "jobctl.yaml"

// Project is a job repository's jobctl.yaml.
type Project struct {
	// Name is the project's name; it becomes the Jenkins folder its jobs live in.
	Name     string
	Defaults Defaults
	// MasterURL is the Jenkins master to talk to when JENKINS_URL is unset.
	MasterURL string
	Prune     Prune
}

// Defaults are the settings every job inherits unless its job.yaml says otherwise.
type Defaults struct {
	Label      string
	Keep       Keep
	Timeout    time.Duration
	Retries    int
	Concurrent bool
}

// Keep is a build retention policy. Zero means "no limit" for that field.
type Keep struct {
	Days   int
	Builds int
}

// Prune holds the nightly prune settings. With a Schedule, jobctl
// generates a job that runs jobctl prune on it.
type Prune struct {
	Schedule  string
	OlderThan time.Duration
	// Label is the agent label of the prune job: agents that have jobctl
	// installed ("" takes the project's default label).
	Label string
	// Line and Col are the position of the prune key.
	Line, Col int
}

// DefaultKeep is the retention used when jobctl.yaml sets none: Jenkins
// masters fill their disks with build logs otherwise.
var DefaultKeep = Keep{Days: 3, Builds: 200}

// DefaultPruneWindow is how long a version must have been idle before prune removes it.
const DefaultPruneWindow = 7 * 24 * time.Hour

// ReadProject reads root/jobctl.yaml. The returned error is an *InputError
// carrying every problem found.
func ReadProject(root string) (*Project, error) {
	path := filepath.Join(root, ProjectFile)
	data, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, &InputError{Problems: []*Problem{{File: ProjectFile, Msg: fmt.Sprintf("not found in %s; is this a job repository? (run jobctl in the folder that holds jobctl.yaml, or pass -C DIR)", root)}}}
		}
		return nil, fmt.Errorf("reading %s: %w", ProjectFile, err)
	}
	var ps Problems
	p := ParseProject(ProjectFile, data, &ps)
	if err := ps.Err(); err != nil {
		return nil, err
	}
	return p, nil
}

// ParseProject parses the contents of a jobctl.yaml, recording problems in ps.
func ParseProject(file string, data []byte, ps *Problems) *Project {
	d := &decoder{file: file, ps: ps}
	p := &Project{
		Defaults: Defaults{Keep: DefaultKeep},
		Prune:    Prune{OlderThan: DefaultPruneWindow},
	}
	root := ParseYAML(file, data, ps)
	if root == nil {
		return p
	}
	f := d.mapping(root, ProjectFile, "project", "defaults", "master", "prune")
	if v, ok := f["project"]; ok {
		if s, ok := d.str(v.val, "project"); ok {
			if msg := checkName(s); msg != "" {
				d.add(v.val, "project %q: %s", s, msg)
			}
			p.Name = s
		}
	} else {
		d.add(root, "missing required key \"project\" (the project's name; it becomes the Jenkins folder its jobs live in)")
	}
	if v, ok := f["defaults"]; ok {
		df := d.mapping(v.val, "defaults", "label", "keep", "timeout", "retries", "concurrent")
		if x, ok := df["label"]; ok {
			p.Defaults.Label = d.label(x.val)
		}
		if x, ok := df["keep"]; ok {
			p.Defaults.Keep = d.keepOver(x.val, DefaultKeep)
		}
		if x, ok := df["timeout"]; ok {
			p.Defaults.Timeout = d.timeout(x.val)
		}
		if x, ok := df["retries"]; ok {
			p.Defaults.Retries, _ = d.integer(x.val, "retries", 0, MaxRetries)
		}
		if x, ok := df["concurrent"]; ok {
			p.Defaults.Concurrent, _ = d.boolean(x.val, "concurrent")
		}
	}
	if v, ok := f["master"]; ok {
		mf := d.mapping(v.val, "master", "url")
		if x, ok := mf["url"]; ok {
			if s, ok := d.str(x.val, "master url"); ok {
				u, err := url.Parse(s)
				switch {
				case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
					d.add(x.val, "master url %q must be an http:// or https:// URL", s)
				case u.User != nil:
					d.add(x.val, "master url must not carry credentials; set JENKINS_USER and JENKINS_API_TOKEN in the environment instead")
				default:
					p.MasterURL = s
				}
			}
		}
	}
	if v, ok := f["prune"]; ok {
		pf := d.mapping(v.val, "prune", "schedule", "older_than", "label")
		p.Prune.Line, p.Prune.Col = v.key.Line, v.key.Column
		if x, ok := pf["schedule"]; ok {
			p.Prune.Schedule = d.schedule(x.val)
		}
		if x, ok := pf["label"]; ok {
			p.Prune.Label = d.label(x.val)
		}
		if x, ok := pf["older_than"]; ok {
			p.Prune.OlderThan, _ = d.duration(x.val, "older_than")
		}
	}
	return p
}

// timeout reads a timeout: a duration, or "none" for no timeout.
func (d *decoder) timeout(n *yaml.Node) time.Duration {
	if s, ok := d.str(n, "timeout"); ok && s == "none" {
		return 0
	}
	v, _ := d.duration(n, "timeout")
	return v
}

// MaxRetries bounds retries: a worker retried more often than this is a loop.
const MaxRetries = 20

func (d *decoder) label(n *yaml.Node) string {
	s, ok := d.str(n, "label")
	if !ok {
		return ""
	}
	if msg := checkLabel(s); msg != "" {
		d.add(n, "label %q: %s", s, msg)
	}
	return s
}

// schedule reads a Jenkins cron spec and reports its syntax errors at the
// position inside the YAML file when the value is on one line.
func (d *decoder) schedule(n *yaml.Node) string { return d.scheduleAs(n, "schedule") }

// scheduleAs is schedule, naming the value what in messages.
func (d *decoder) scheduleAs(n *yaml.Node, what string) string {
	s, ok := d.str(n, what)
	if !ok {
		return ""
	}
	if _, err := cron.Parse(s); err != nil {
		line, col := n.Line, n.Column
		var se *cron.SyntaxError
		if errors.As(err, &se) {
			switch {
			case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
				line, col = n.Line+se.Line, 0
			case se.Line == 1:
				col = n.Column + se.Col - 1
				if n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0 {
					col++
				}
			}
			d.ps.Add(d.file, line, col, "%s: %s", what, se.Msg)
		} else {
			d.ps.Add(d.file, line, col, "%s: %v", what, err)
		}
		return ""
	}
	return s
}
