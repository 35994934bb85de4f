package jobs

import (
	"path"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Watch makes a worker watch a branch of a git repository: Jenkins polls
// the repository (and takes push notifications) and, when new commits
// change files under Paths, builds the worker, which then runs Trigger
// with GIT_REF set to the commit. On a real Jenkins this is the git
// plugin's SCM polling with a path restriction, and the
// parameterized-trigger plugin's downstream build.
type Watch struct {
	// Repository is a git URL or an absolute local path.
	Repository string
	// Branch is the branch to watch (default "main").
	Branch string
	// Paths are folders in the repository, cleaned, without a trailing
	// '/'; a commit counts when it changes a file under one of them. None
	// means the whole repository.
	Paths []string
	// Poll is the Jenkins cron schedule of the polling (default
	// "H/5 * * * *"); "" polls only when the git server notifies Jenkins
	// of a push (written "none").
	Poll string
	// Trigger is the common name of the job to run on a change; it must
	// take a GIT_REF param.
	Trigger string
	// Line and Col are the position of the watch key; TriggerLine and
	// TriggerCol that of the trigger's value.
	Line, Col               int
	TriggerLine, TriggerCol int
}

// Defaults of a watch.
const (
	DefaultWatchBranch = "main"
	DefaultWatchPoll   = "H/5 * * * *"
)

// NoPoll, as watch.poll, turns the timed polling off: Jenkins then polls
// only when notified of a push (/git/notifyCommit).
const NoPoll = "none"

// WatchRefParam is the param a watch's trigger job is given the commit in.
const WatchRefParam = "GIT_REF"

var (
	// scpRE matches git's scp-like syntax: user@host:path.
	scpRE = regexp.MustCompile(`^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+$`)
	// branchRE is a conservative git branch name: no spaces, no shell or
	// regex specials, no "..", not starting with '-' or '/'.
	branchRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_./-]*$`)
)

// CheckRepository returns what is wrong with a git repository URL or
// path, or "".
func CheckRepository(s string) string {
	switch {
	case strings.TrimSpace(s) == "":
		return "cannot be empty; write a git URL or a local path"
	case strings.ContainsAny(s, " \t\r\n\"'\\`$<>&;|"):
		return "a repository URL or path cannot contain spaces, quotes, '\\', '`', '$', '<', '>', '&', ';' or '|'"
	case strings.HasPrefix(s, "/"), scpRE.MatchString(s):
		return ""
	}
	for _, scheme := range []string{"https://", "http://", "ssh://", "git://", "file://"} {
		if strings.HasPrefix(s, scheme) && len(s) > len(scheme) {
			return ""
		}
	}
	return "write a git URL (https://, ssh://, git://, user@host:path) or a local path (file://… or an absolute path)"
}

// CheckBranch returns what is wrong with a branch name, or "".
func CheckBranch(s string) string {
	if !branchRE.MatchString(s) || strings.Contains(s, "..") || strings.HasSuffix(s, "/") ||
		strings.HasSuffix(s, ".lock") || strings.Contains(s, "//") || len(s) > 200 {
		return "a branch name may hold letters, digits, '_', '.', '-' and '/', without \"..\", and not start with '-', '.' or '/'"
	}
	return ""
}

// CleanRepoPath cleans a folder inside a repository; ok is false when it
// leaves the repository or holds characters other than letters, digits,
// '.', '_', '-' and '/'. "" and "." are the whole repository ("").
func CleanRepoPath(s string) (string, bool) {
	clean := path.Clean(strings.TrimSpace(s))
	switch {
	case s == "" || clean == ".":
		return "", true
	case path.IsAbs(s) || clean == ".." || strings.HasPrefix(clean, "../") || !SafePath(clean):
		return "", false
	}
	return clean, true
}

func (d *decoder) watch(v field) *Watch {
	w := &Watch{Branch: DefaultWatchBranch, Poll: DefaultWatchPoll, Line: v.key.Line, Col: v.key.Column}
	f := d.mapping(v.val, "watch", "repository", "branch", "paths", "poll", "trigger")
	if x, ok := f["repository"]; ok {
		if s, ok := d.str(x.val, "watch.repository"); ok {
			if msg := CheckRepository(s); msg != "" {
				d.add(d.resolve(x.val), "watch.repository %q: %s", s, msg)
			}
			w.Repository = s
		}
	} else if d.resolve(v.val).Kind == yaml.MappingNode {
		d.add(v.key, "watch needs a repository (a git URL or a local path)")
	}
	if x, ok := f["branch"]; ok {
		if s, ok := d.str(x.val, "watch.branch"); ok {
			if msg := CheckBranch(s); msg != "" {
				d.add(d.resolve(x.val), "watch.branch %q: %s", s, msg)
			}
			w.Branch = s
		}
	}
	if x, ok := f["paths"]; ok {
		w.Paths = d.watchPaths(x.val)
	}
	if x, ok := f["poll"]; ok {
		if n := d.resolve(x.val); n.Kind == yaml.ScalarNode && n.Value == NoPoll {
			w.Poll = ""
		} else {
			w.Poll = d.scheduleAs(x.val, "watch.poll")
		}
	}
	if x, ok := f["trigger"]; ok {
		if s, ok := d.str(x.val, "watch.trigger"); ok {
			if msg := checkName(s); msg != "" {
				d.add(d.resolve(x.val), "watch.trigger %q: %s", s, msg)
			}
			n := d.resolve(x.val)
			w.Trigger, w.TriggerLine, w.TriggerCol = s, n.Line, n.Column
		}
	} else {
		d.ps.Add(d.file, w.Line, w.Col, "watch needs a trigger: the job to run when the watched paths change")
	}
	return w
}

// watchPaths reads watch.paths: a folder or a list of them. One that is
// the whole repository makes the list empty (everything is watched).
func (d *decoder) watchPaths(n *yaml.Node) []string {
	n = d.resolve(n)
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	var paths []string
	whole := false
	for _, it := range items {
		s, ok := d.str(it, "watch.paths entry")
		if !ok {
			continue
		}
		switch clean, ok := CleanRepoPath(s); {
		case !ok:
			d.add(d.resolve(it), "watch.paths %q must be a folder inside the repository, made of letters, digits, '.', '_', '-' and '/'", s)
		case clean == "":
			whole = true
		default:
			paths = append(paths, clean)
		}
	}
	if whole {
		return nil
	}
	return paths
}

// IncludedRegions is the git plugin's PathRestriction for the watched
// paths: one Java regex per line, matching every file under each path;
// "" watches the whole repository.
func (w *Watch) IncludedRegions() string {
	var lines []string
	for _, p := range w.Paths {
		lines = append(lines, regexp.QuoteMeta(p)+"/.*")
	}
	return strings.Join(lines, "\n")
}
