package local

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// The git plugin's GitSCM (checkout before a freestyle build's steps,
// with PathRestriction), SCMTrigger polling, and the git plugin's
// /git/notifyCommit. Git runs as the git command, with argument vectors
// (never a shell), without a terminal to prompt on and with a timeout.

const (
	classGitSCM          = "hudson.plugins.git.GitSCM"
	classPathRestriction = "hudson.plugins.git.extensions.impl.PathRestriction"
	causeSCM             = "hudson.triggers.SCMTrigger$SCMTriggerCause"

	// gitTimeout bounds each git command, as the git plugin's default
	// timeout of 10 minutes does.
	gitTimeout = 10 * time.Minute
	// remoteRefspec is what a checkout fetches, as the git plugin does.
	remoteRefspec = "+refs/heads/*:refs/remotes/origin/*"
)

// gitSCM is a job's GitSCM.
type gitSCM struct {
	urls     []string // the remotes' URLs; builds and polling use the first
	branch   string   // the first branch spec, as written
	restrict bool     // a PathRestriction is set
	included []*regexp.Regexp
	excluded []*regexp.Regexp
	regexErr error // a region that does not compile: polling fails
}

func (g *gitSCM) url() string {
	if len(g.urls) == 0 {
		return ""
	}
	return g.urls[0]
}

// readGitSCM reads a <scm class="hudson.plugins.git.GitSCM"> element.
func readGitSCM(scm *xnode) *gitSCM {
	g := &gitSCM{}
	for _, rc := range scm.child("userRemoteConfigs").elems() {
		if u := strings.TrimSpace(rc.child("url").textOf()); u != "" {
			g.urls = append(g.urls, u)
		}
	}
	for _, b := range scm.child("branches").elems() {
		if n := strings.TrimSpace(b.child("name").textOf()); n != "" {
			g.branch = n
			break
		}
	}
	for _, e := range scm.child("extensions").elems() {
		if e.name != classPathRestriction {
			continue
		}
		g.restrict = true
		var errs []error
		g.included, errs = compileRegions(e.child("includedRegions").textOf(), errs)
		g.excluded, errs = compileRegions(e.child("excludedRegions").textOf(), errs)
		g.regexErr = errors.Join(errs...)
	}
	return g
}

// compileRegions compiles a PathRestriction's regions: one regular
// expression a line, matched against a whole path.
func compileRegions(text string, errs []error) ([]*regexp.Regexp, []error) {
	var out []*regexp.Regexp
	for _, l := range strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if strings.TrimSpace(l) == "" {
			continue
		}
		re, err := regexp.Compile(`^(?:` + l + `)$`)
		if err != nil {
			errs = append(errs, fmt.Errorf("invalid region %q: %v", l, err))
			continue
		}
		out = append(out, re)
	}
	return out, errs
}

// commitExcluded reports, as PathRestriction.isRevExcluded does, whether
// a commit touching paths is ignored, and why.
func (g *gitSCM) commitExcluded(paths []string) (bool, string) {
	if !g.restrict || len(paths) == 0 {
		return false, ""
	}
	matches := func(res []*regexp.Regexp, p string) bool {
		for _, re := range res {
			if re.MatchString(p) {
				return true
			}
		}
		return false
	}
	included := paths
	if len(g.included) > 0 {
		included = nil
		for _, p := range paths {
			if matches(g.included, p) {
				included = append(included, p)
			}
		}
	}
	var excluded []string
	for _, p := range included {
		if matches(g.excluded, p) {
			excluded = append(excluded, p)
		}
	}
	switch {
	case len(g.excluded) == 0 && len(g.included) > 0 && len(included) == 0:
		return true, "No paths matched included region whitelist"
	case len(included) == len(excluded):
		return true, "Found only excluded paths: " + strings.Join(excluded, ", ")
	}
	return false, ""
}

// branchName is the remote branch a branch spec names: "*/main",
// "origin/main", "refs/heads/main", "refs/remotes/origin/main" and "main"
// all name main. Wildcards and parameters are not supported.
func branchName(spec string) (string, error) {
	s := strings.TrimSpace(spec)
	if s == "" || s == "**" {
		return "", fmt.Errorf("the branch specifier %q names no single branch: the local master builds one named branch, such as */main", spec)
	}
	for _, prefix := range []string{"refs/heads/", "refs/remotes/origin/", "remotes/origin/", "*/", "origin/"} {
		if rest, ok := strings.CutPrefix(s, prefix); ok {
			s = rest
			break
		}
	}
	if err := checkBranch(s); err != nil {
		return "", fmt.Errorf("the branch specifier %q: %v", spec, err)
	}
	return s, nil
}

// checkBranch checks a branch name as git check-ref-format would, and
// refuses what could be read as an option or a pattern.
func checkBranch(s string) error {
	switch {
	case s == "":
		return errors.New("no branch name")
	case strings.HasPrefix(s, "-"):
		return errors.New("a branch name cannot start with '-'")
	case strings.ContainsAny(s, "*?[$"):
		return errors.New("wildcards and parameters are not supported: the local master builds one named branch")
	case strings.ContainsAny(s, " ~^:\\") || strings.Contains(s, "..") || strings.Contains(s, "@{") || strings.Contains(s, "//"),
		strings.HasPrefix(s, "/"), strings.HasSuffix(s, "/"), strings.HasSuffix(s, "."), strings.HasSuffix(s, ".lock"):
		return errors.New("not a valid branch name")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return errors.New("not a valid branch name")
		}
	}
	return nil
}

// checkRemoteURL refuses URLs git could take for an option, and control
// characters.
func checkRemoteURL(u string) error {
	switch {
	case u == "":
		return errors.New("the GitSCM has no repository URL")
	case strings.HasPrefix(u, "-"):
		return fmt.Errorf("refusing the repository URL %q: it starts with '-'", u)
	case strings.HasPrefix(strings.ToLower(u), "ext::"):
		return fmt.Errorf("refusing the repository URL %q: the ext transport runs commands", u)
	}
	for _, r := range u {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("refusing the repository URL %q: it holds control characters", u)
		}
	}
	return nil
}

// URL matching, as GitStatus.looselyMatches: the host (case-insensitive,
// without a leading "ssh.") and the path without its leading and trailing
// "/" and ".git" suffix must be equal; scheme, user and port do not count.

var (
	scpLike    = regexp.MustCompile(`^(?:[^@/:]+@)?([^/:]+):(.*)$`)
	azureVerRe = regexp.MustCompile(`^v\d/`)
)

// urlKey is what two loosely matching URLs have in common.
func urlKey(raw string) string {
	raw = strings.TrimSpace(raw)
	var host, p string
	switch {
	case strings.Contains(raw, "://"):
		u, err := url.Parse(raw)
		if err != nil {
			return "\x00" + raw
		}
		host, p = u.Hostname(), u.Path
	case !strings.HasPrefix(raw, "/") && scpLike.MatchString(raw) && !filepath.IsAbs(raw):
		m := scpLike.FindStringSubmatch(raw)
		host, p = m[1], m[2]
	default:
		p = raw
	}
	host = strings.TrimPrefix(strings.ToLower(host), "ssh.")
	p = strings.TrimPrefix(p, "/")
	p = strings.TrimSuffix(p, "/")
	p = strings.TrimSuffix(p, ".git")
	if azureVerRe.MatchString(p) {
		p = p[3:]
	}
	p = strings.ReplaceAll(p, "/_git/", "/")
	return host + "\x00" + p
}

func urlsMatch(a, b string) bool { return urlKey(a) == urlKey(b) }

// branchMatches reports whether a notified branch ("main",
// "refs/heads/main", "origin/main") is the one a branch spec names.
func branchMatches(spec, notified string) bool {
	want, err := branchName(spec)
	if err != nil {
		return true // the spec is not one branch: poll anyway
	}
	n := strings.TrimSpace(notified)
	for _, prefix := range []string{"refs/heads/", "refs/remotes/origin/", "origin/"} {
		if rest, ok := strings.CutPrefix(n, prefix); ok {
			n = rest
			break
		}
	}
	return n == want
}

// Running git.

// gitEnv is git's environment: the master's, without the credentials
// builds must not see and the variables that would point git elsewhere,
// with prompts disabled.
func gitEnv() []string {
	var env []string
	hasSSH := false
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_TERMINAL_PROMPT", "GIT_ASKPASS", "SSH_ASKPASS":
			continue
		case "GIT_SSH_COMMAND", "GIT_SSH":
			hasSSH = true
		}
		if SecretEnv(k) {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "GIT_TERMINAL_PROMPT=0", "GCM_INTERACTIVE=never")
	if !hasSSH {
		env = append(env, "GIT_SSH_COMMAND=ssh -o BatchMode=yes")
	}
	return env
}

// gitCmd runs git commands in a directory, echoing them to a log as the
// git plugin does (" > git fetch ... # timeout=10").
type gitCmd struct {
	ctx context.Context
	dir string
	log io.Writer // nil: no echo
	env []string
}

// gitError is a failed git command, worded as the git plugin's
// GitException.
type gitError struct {
	args           []string
	status         int
	stdout, stderr string
	err            error
}

func (e *gitError) Error() string {
	if e.status < 0 {
		return fmt.Sprintf("Command \"git %s\" failed: %v\nstderr: %s", strings.Join(e.args, " "), e.err, e.stderr)
	}
	return fmt.Sprintf("Command \"git %s\" returned status code %d:\nstdout: %s\nstderr: %s", strings.Join(e.args, " "), e.status, e.stdout, e.stderr)
}

// run runs git with args and returns its standard output.
func (g gitCmd) run(args ...string) (string, error) {
	if g.log != nil {
		fmt.Fprintf(g.log, " > git %s # timeout=%d\n", strings.Join(args, " "), int(gitTimeout/time.Minute))
	}
	ctx, cancel := context.WithTimeout(g.ctx, gitTimeout)
	defer cancel()
	// Never the ext transport (it runs commands), never a pager, paths
	// printed as they are.
	full := append([]string{"-c", "protocol.ext.allow=never", "-c", "core.quotePath=false", "--no-pager"}, args...)
	cmd := exec.CommandContext(ctx, "git", full...)
	cmd.Dir = g.dir
	cmd.Env = g.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	setProcessGroup(cmd)
	cmd.Cancel = func() error {
		signalGroup(cmd, "KILL")
		return nil
	}
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if err != nil {
		ge := &gitError{args: args, status: -1, stdout: strings.TrimSpace(stdout.String()), stderr: strings.TrimSpace(stderr.String()), err: err}
		var ee *exec.ExitError
		if errors.As(err, &ee) && ctx.Err() == nil {
			ge.status = ee.ExitCode()
		} else if ctx.Err() != nil {
			ge.err = fmt.Errorf("timed out or aborted: %w", ctx.Err())
		}
		return "", ge
	}
	return stdout.String(), nil
}

// gitRevision is the revision a build checked out, kept in its record.
type gitRevision struct {
	SHA1   string `json:"sha1"`
	Branch string `json:"branch"` // e.g. origin/main
	URL    string `json:"url"`
}

var sha1Re = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)

// checkout checks the job's GitSCM out into the build's workspace, as
// the git plugin does: the workspace becomes (or stays) a repository
// whose origin is the remote, every remote branch is fetched and the
// branch's head is checked out, detached, with -f (nothing is cleaned).
// It sets the build's GIT_* variables and records the revision.
func (m *Master) checkout(r *runContext, g *gitSCM) error {
	log := r.b.log
	log.println("The recommended git tool is: NONE")
	log.println("No credentials specified")
	remote := g.url()
	if err := checkRemoteURL(remote); err != nil {
		return err
	}
	branch, err := branchName(g.branch)
	if err != nil {
		return err
	}
	if _, err := exec.LookPath("git"); err != nil {
		return errors.New("the git command is not installed on this machine: the local master checks GitSCM jobs out with it")
	}
	git := gitCmd{ctx: r.ctx, dir: r.ws, log: log, env: gitEnv()}
	fetchArgs := []string{"fetch", "--tags", "--force", "--progress", "--", remote, remoteRefspec}
	if fi, err := os.Stat(filepath.Join(r.ws, ".git")); err == nil && fi.IsDir() {
		if _, err := git.run("rev-parse", "--resolve-git-dir", filepath.Join(r.ws, ".git")); err != nil {
			return err
		}
		log.println("Fetching changes from the remote Git repository")
		if _, err := git.run("config", "remote.origin.url", remote); err != nil {
			return err
		}
		log.println("Fetching upstream changes from " + remote)
		if _, err := git.run(fetchArgs...); err != nil {
			log.println("ERROR: Error fetching remote repo 'origin'")
			return err
		}
	} else {
		log.println("Cloning the remote Git repository")
		log.println("Cloning repository " + remote)
		if _, err := git.run("init", r.ws); err != nil {
			return err
		}
		log.println("Fetching upstream changes from " + remote)
		if _, err := git.run(fetchArgs...); err != nil {
			log.println("ERROR: Error cloning remote repo 'origin'")
			return err
		}
		if _, err := git.run("config", "remote.origin.url", remote); err != nil {
			return err
		}
		if _, err := git.run("config", "--replace-all", "remote.origin.fetch", remoteRefspec); err != nil {
			return err
		}
	}
	out, err := git.run("rev-parse", "refs/remotes/origin/"+branch+"^{commit}")
	sha := strings.TrimSpace(out)
	if err != nil || !sha1Re.MatchString(sha) {
		return errors.New("Couldn't find any revision to build. Verify the repository and branch configuration for this job.")
	}
	rev := &gitRevision{SHA1: sha, Branch: "origin/" + branch, URL: remote}
	log.println(fmt.Sprintf("Checking out Revision %s (%s)", sha, rev.Branch))
	if _, err := git.run("checkout", "-f", sha); err != nil {
		return err
	}
	if msg, err := (gitCmd{ctx: r.ctx, dir: r.ws, env: git.env}).run("show", "-s", "--format=%s", sha); err == nil {
		log.println(fmt.Sprintf("Commit message: %q", strings.TrimRight(msg, "\n")))
	}

	m.mu.Lock()
	r.b.git = rev
	var prev, prevOK string
	for i := len(r.b.job.builds) - 1; i >= 0; i-- {
		b := r.b.job.builds[i]
		if b.number >= r.b.number || b.git == nil || b.git.Branch != rev.Branch {
			continue
		}
		if prev == "" {
			prev = b.git.SHA1
		}
		if prevOK == "" && !b.building && (b.result == "SUCCESS" || b.result == "UNSTABLE") {
			prevOK = b.git.SHA1
		}
	}
	if live(r.b.job) {
		if err := m.saveBuild(r.b); err != nil {
			m.logf("local master: %s #%d: %v", r.fullName, r.b.number, err)
		}
	}
	m.mu.Unlock()
	if prev == "" {
		log.println("First time build. Skipping changelog.")
	}
	vars := map[string]string{"GIT_COMMIT": sha, "GIT_BRANCH": rev.Branch, "GIT_URL": remote}
	if prev != "" {
		vars["GIT_PREVIOUS_COMMIT"] = prev
	}
	if prevOK != "" {
		vars["GIT_PREVIOUS_SUCCESSFUL_COMMIT"] = prevOK
	}
	params := map[string]bool{}
	for _, p := range r.b.params {
		params[p.name] = true
	}
	env := r.env[:0:0]
	for _, kv := range r.env {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := vars[k]; ok && !params[k] {
			continue
		}
		env = append(env, kv)
	}
	for _, k := range []string{"GIT_BRANCH", "GIT_COMMIT", "GIT_PREVIOUS_COMMIT", "GIT_PREVIOUS_SUCCESSFUL_COMMIT", "GIT_URL"} {
		if v, ok := vars[k]; ok && !params[k] {
			env = append(env, k+"="+v)
		}
	}
	r.env = env
	return nil
}

// Polling.

// scmState tracks polling: one poll of a job at a time (a request for
// another while it runs makes it run once more), and one user of each
// polling cache at a time.
type scmState struct {
	mu     sync.Mutex
	cond   *sync.Cond
	jobs   map[*item]*pollState
	caches map[string]*sync.Mutex
	active int // polls running
}

type pollState struct{ again bool }

func scmCause() cause { return cause{Class: causeSCM, ShortDescription: "Started by an SCM change"} }

// schedulePoll polls a job's SCM in the background.
func (m *Master) schedulePoll(job *item) {
	s := &m.scm
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.jobs == nil {
		s.jobs = map[*item]*pollState{}
		s.caches = map[string]*sync.Mutex{}
		s.cond = sync.NewCond(&s.mu)
	}
	if st := s.jobs[job]; st != nil {
		st.again = true
		return
	}
	m.mu.RLock()
	if m.closed {
		m.mu.RUnlock()
		return
	}
	m.loops.Add(1) // Close waits for loops after marking the master closed
	m.mu.RUnlock()
	st := &pollState{}
	s.jobs[job] = st
	s.active++
	go m.pollLoop(job, st)
}

func (m *Master) pollLoop(job *item, st *pollState) {
	defer m.loops.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-m.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	s := &m.scm
	for {
		func() {
			defer func() {
				if p := recover(); p != nil {
					m.logf("local master: polling %s: %v", job.name, p)
				}
			}()
			m.poll(ctx, job)
		}()
		s.mu.Lock()
		if st.again && ctx.Err() == nil {
			st.again = false
			s.mu.Unlock()
			continue
		}
		delete(s.jobs, job)
		s.active--
		s.cond.Broadcast()
		s.mu.Unlock()
		return
	}
}

// waitPolls waits until no poll runs (for tests).
func (m *Master) waitPolls() {
	s := &m.scm
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.active > 0 {
		s.cond.Wait()
	}
}

// cacheLock is the lock of a polling cache directory.
func (m *Master) cacheLock(dir string) *sync.Mutex {
	s := &m.scm
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.caches[dir]
	if l == nil {
		l = &sync.Mutex{}
		s.caches[dir] = l
	}
	return l
}

// poll polls one job, as SCMTrigger does: it writes what it found to the
// job's scm-polling.log and queues a build when the remote branch has
// changes the job's PathRestriction does not ignore.
func (m *Master) poll(ctx context.Context, job *item) {
	m.mu.RLock()
	if !live(job) || job.deleting || job.cfg.git == nil {
		m.mu.RUnlock()
		return
	}
	g, full, dir, disabled := job.cfg.git, job.fullName(), job.dir(m.home), job.cfg.disabled
	var base *gitRevision
	pending := len(job.queued) > 0
	for i := len(job.builds) - 1; i >= 0; i-- {
		if b := job.builds[i]; b.git != nil {
			base = b.git
			break
		} else if b.building {
			pending = true
		}
	}
	m.mu.RUnlock()

	start := m.now()
	var log bytes.Buffer
	fmt.Fprintf(&log, "Started on %s\n", start.Format("Jan 2, 2006, 3:04:05 PM"))
	build, err := m.pollChanges(ctx, &log, g, base, pending, disabled)
	if err != nil {
		fmt.Fprintf(&log, "ERROR: polling failed: %v\n", err)
		m.logf("local master: polling %s: %v", full, err)
	}
	fmt.Fprintf(&log, "Done. Took %s\n", timeSpan(m.now().Sub(start)))
	if build {
		log.WriteString("Changes found\n")
	} else {
		log.WriteString("No changes\n")
	}
	if err := writeFile(filepath.Join(dir, "scm-polling.log"), log.Bytes()); err != nil {
		m.logf("local master: %s: writing scm-polling.log: %v", full, err)
	}
	if !build {
		return
	}
	m.mu.Lock()
	queued := false
	if live(job) && !job.deleting && !job.cfg.disabled && !m.closed {
		params := make([]paramValue, 0, len(job.cfg.params))
		for _, p := range job.cfg.params {
			params = append(params, p.defaultValue())
		}
		m.enqueue(job, params, []cause{scmCause()}, m.quietPeriod(job))
		queued = true
	}
	m.mu.Unlock()
	if queued {
		m.saveQueue()
		m.logf("local master: SCM changes: queued %s", full)
	}
}

// pollChanges decides whether the remote has changes to build.
func (m *Master) pollChanges(ctx context.Context, log *bytes.Buffer, g *gitSCM, base *gitRevision, pending, disabled bool) (bool, error) {
	log.WriteString("Polling SCM changes on built-in\nUsing strategy: Default\n")
	if disabled {
		log.WriteString("The job is disabled: not polling\n")
		return false, nil
	}
	remote := g.url()
	if err := checkRemoteURL(remote); err != nil {
		return false, err
	}
	branch, err := branchName(g.branch)
	if err != nil {
		return false, err
	}
	if base == nil {
		if pending {
			log.WriteString("A build is queued or running and has not checked out yet: waiting for it\n")
			return false, nil
		}
		log.WriteString("No existing build. Scheduling a new one.\n")
		return true, nil
	}
	fmt.Fprintf(log, "[poll] Last Built Revision: Revision %s (%s)\n", base.SHA1, base.Branch)
	log.WriteString("The recommended git tool is: NONE\nNo credentials specified\n")
	env := gitEnv()
	ref := "refs/heads/" + branch
	out, err := gitCmd{ctx: ctx, dir: m.home, log: log, env: env}.run("ls-remote", "-h", "--", remote, ref)
	if err != nil {
		return false, err
	}
	head := ""
	for _, l := range strings.Split(out, "\n") {
		if sha, name, ok := strings.Cut(strings.TrimSpace(l), "\t"); ok && name == ref {
			head = sha
		}
	}
	if !sha1Re.MatchString(head) {
		return false, fmt.Errorf("no branch %s on %s", branch, remote)
	}
	fmt.Fprintf(log, "[poll] Latest remote head revision on %s is: %s\n", ref, head)
	if head == base.SHA1 {
		return false, nil
	}
	if !g.restrict {
		return true, nil
	}
	if g.regexErr != nil {
		return false, fmt.Errorf("PathRestriction: %v", g.regexErr)
	}
	// The paths the new commits touch, from a clone kept for polling
	// (never the workspace, which a build may be using).
	sum := sha256.Sum256([]byte(remote))
	cache := filepath.Join(m.home, "caches", "git-"+hex.EncodeToString(sum[:])[:12])
	l := m.cacheLock(cache)
	l.Lock()
	defer l.Unlock()
	git := gitCmd{ctx: ctx, dir: cache, log: log, env: env}
	if _, err := os.Stat(filepath.Join(cache, "HEAD")); err != nil {
		if err := os.MkdirAll(cache, 0o700); err != nil {
			return false, err
		}
		if _, err := git.run("init", "--bare", "-q", cache); err != nil {
			return false, err
		}
	}
	log.WriteString("Fetching changes from the remote Git repository into the polling cache " + cache + "\n")
	if _, err := git.run("fetch", "--no-tags", "--force", "--", remote, "+"+ref+":refs/remotes/origin/"+branch); err != nil {
		return false, err
	}
	log.WriteString("Polling for changes in\n")
	out, err = git.run("log", "-m", "--name-only", "--no-renames", "--format=%x01%H", base.SHA1+".."+head)
	if err != nil {
		log.WriteString("Cannot list the changes since the last built revision: building\n")
		return true, nil
	}
	changed := false
	for _, c := range commitPaths(out) {
		if ex, why := g.commitExcluded(c.paths); ex {
			fmt.Fprintf(log, "Ignored commit %s: %s\n", c.sha, why)
			continue
		}
		fmt.Fprintf(log, "Commit %s touches included paths\n", c.sha)
		changed = true
	}
	return changed, nil
}

type commitFiles struct {
	sha   string
	paths []string
}

// commitPaths reads git log --format=%x01%H --name-only output: commits,
// newest first, each with the paths it touches (a merge's, against each
// parent, merged).
func commitPaths(out string) []commitFiles {
	var cs []commitFiles
	idx := map[string]int{}
	cur := -1
	for _, l := range strings.Split(out, "\n") {
		if sha, ok := strings.CutPrefix(l, "\x01"); ok {
			if i, seen := idx[sha]; seen {
				cur = i
				continue
			}
			idx[sha] = len(cs)
			cur = len(cs)
			cs = append(cs, commitFiles{sha: sha})
			continue
		}
		if l == "" || cur < 0 {
			continue
		}
		if !containsString(cs[cur].paths, l) {
			cs[cur].paths = append(cs[cur].paths, l)
		}
	}
	return cs
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// /git/notifyCommit.

// unprotected reports whether a path is served without authentication
// and without a crumb, as the git plugin's GitStatus (an
// UnprotectedRootAction with a crumb exclusion) is.
func unprotected(segs []string) bool {
	return len(segs) >= 2 && segs[0] == "git" && segs[1] == "notifyCommit"
}

// notifyCommit serves /git/notifyCommit?url=U[&branches=B,...][&sha1=S]
// as GitStatus does: it polls every job whose GitSCM uses the repository
// (and one of the branches) and whose SCMTrigger does not ignore
// post-commit hooks. A sha1 also means "poll now". When the master is
// secured, the request needs the master's API token as token= (as the
// plugin's access token) or Basic auth.
func (rq *request) notifyCommit() {
	m := rq.m
	token, _ := rq.query("token")
	if m.secured() && rq.user == "" {
		if token == "" {
			rq.fail(http.StatusUnauthorized, "An access token is required. Please refer to Git plugin documentation (https://plugins.jenkins.io/git/#plugin-content-push-notification-from-repository) for details.")
			return
		}
		if !tokenOK(m, token) {
			rq.fail(http.StatusForbidden, "Invalid access token")
			return
		}
	}
	remote, _ := rq.query("url")
	if strings.TrimSpace(remote) == "" {
		rq.fail(http.StatusBadRequest, "Required Query parameter 'url' is missing")
		return
	}
	sha1, _ := rq.query("sha1")
	if s := strings.TrimSpace(sha1); s != "" && strings.Trim(s, "0123456789abcdefABCDEF") != "" {
		rq.fail(http.StatusBadRequest, "Illegal SHA1")
		return
	}
	var branches []string
	if b, _ := rq.query("branches"); strings.TrimSpace(b) != "" {
		for _, x := range strings.Split(strings.TrimSpace(b), ",") {
			branches = append(branches, strings.TrimSpace(x))
		}
	}
	var jobs []*item
	var names, urls []string
	scmFound, urlFound := false, false
	m.mu.RLock()
	m.root.walk(func(it *item) {
		if !it.isJob() || it.deleting || it.cfg.git == nil {
			return
		}
		g := it.cfg.git
		scmFound = true
		matched := false
		for _, u := range g.urls {
			matched = matched || urlsMatch(remote, u)
		}
		if !matched || !it.cfg.scmTrigger || it.cfg.ignoreHooks {
			return
		}
		if len(branches) > 0 {
			ok := false
			for _, b := range branches {
				ok = ok || branchMatches(g.branch, b)
			}
			if !ok {
				return
			}
		}
		urlFound = true
		if it.cfg.disabled {
			return
		}
		jobs = append(jobs, it)
		names = append(names, it.fullDisplayName())
		urls = append(urls, rq.base+it.relURL())
	})
	m.mu.RUnlock()
	for _, j := range jobs {
		m.schedulePoll(j)
	}
	var body strings.Builder
	for i, n := range names {
		rq.w.Header().Add("Triggered", urls[i])
		body.WriteString("Scheduled polling of " + n + "\n")
	}
	switch {
	case !scmFound:
		body.WriteString("No git jobs found\n")
	case !urlFound:
		body.WriteString("No git jobs using repository: " + remote + " and branches: " + strings.Join(branches, ",") + "\n")
	}
	m.logf("local master: notifyCommit %s: %d jobs polled", remote, len(jobs))
	rq.text(http.StatusOK, "text/plain;charset=utf-8", []byte(body.String()))
}

// tokenOK reports whether token is the master's API token.
func tokenOK(m *Master, token string) bool {
	return m.cfg.Token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(m.cfg.Token)) == 1
}

// scmPollLog serves a job's last polling log.
func (rq *request) scmPollLog(job *item) {
	if !rq.requireGET() {
		return
	}
	m := rq.m
	m.mu.RLock()
	dir := job.dir(m.home)
	hasGit := job.cfg.git != nil
	m.mu.RUnlock()
	data, err := os.ReadFile(filepath.Join(dir, "scm-polling.log"))
	if err != nil || !hasGit {
		rq.notFound()
		return
	}
	rq.text(http.StatusOK, "text/plain;charset=utf-8", data)
}

// gitActions is a build's git plugin BuildData action, when it checked
// a revision out.
func gitActions(b *build) []any {
	rev := b.git
	if rev == nil {
		return nil
	}
	branchProps := []jprop{
		{"SHA1", 5, false, func(c *jctx, r any) any { return rev.SHA1 }},
		{"name", 5, false, func(c *jctx, r any) any { return rev.Branch }},
	}
	revision := func(vis int) jobj {
		return jobj{props: []jprop{
			{"SHA1", vis, false, func(c *jctx, r any) any { return rev.SHA1 }},
			{"branch", vis, false, func(c *jctx, r any) any {
				return []any{jobj{props: branchProps}}
			}},
		}}
	}
	number := b.number
	buildProps := []jprop{
		{"buildNumber", 4, false, func(c *jctx, r any) any { return number }},
		{"buildResult", 4, false, func(c *jctx, r any) any { return nil }},
		{"marked", 4, false, func(c *jctx, r any) any { return revision(5) }},
		{"revision", 4, false, func(c *jctx, r any) any { return revision(5) }},
	}
	return []any{jobj{class: "hudson.plugins.git.util.BuildData", props: []jprop{
		{"buildsByBranchName", 2, false, func(c *jctx, r any) any {
			return jobj{props: []jprop{{rev.Branch, 3, false, func(c *jctx, r any) any {
				return jobj{class: "hudson.plugins.git.util.Build", props: buildProps}
			}}}}
		}},
		{"lastBuiltRevision", 2, false, func(c *jctx, r any) any { return revision(3) }},
		{"remoteUrls", 2, false, func(c *jctx, r any) any { return []string{rev.URL} }},
		{"scmName", 2, false, func(c *jctx, r any) any { return "" }},
	}}}
}
