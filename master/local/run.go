package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Running builds.

// killGrace is how long an aborted step has between SIGTERM and SIGKILL.
const killGrace = 10 * time.Second

// buildLog is a build's console: the log file, written by the master
// (through Write, safe for concurrent use) and by the steps' processes
// (through the file itself, opened for appending).
type buildLog struct {
	mu sync.Mutex
	f  *os.File // nil if the log could not be opened: output is dropped
}

func (l *buildLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return len(p), nil
	}
	return l.f.Write(p)
}

func (l *buildLog) println(s string) { io.WriteString(l, s+"\n") }

func (l *buildLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
}

// start turns a queue item into a running build. m.mu must be held.
func (m *Master) start(q *queueItem, exec int) {
	job := q.job
	now := m.now()
	n := job.nextBuild
	job.nextBuild++
	if err := m.saveNextBuild(job); err != nil {
		m.logf("local master: %s: saving nextBuildNumber: %v", job.fullName(), err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	b := &build{
		job: job, number: n, queueID: q.id, timestamp: now, building: true,
		params: q.params, hasParams: q.hasParams, causes: q.causes, executor: exec,
		log: &buildLog{}, kill: cancel, done: make(chan struct{}),
	}
	if err := m.makeBuildDir(b); err != nil {
		m.logf("local master: %s #%d: %v", job.fullName(), n, err)
	} else if f, err := os.OpenFile(filepath.Join(job.buildDir(m.home, n), "log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND|os.O_TRUNC, 0o600); err != nil {
		m.logf("local master: %s #%d: %v", job.fullName(), n, err)
	} else {
		b.log.f = f
	}
	job.builds = append(job.builds, b)
	m.leave(q, b)
	m.running[b] = struct{}{}
	if exec >= 0 {
		m.executors[exec] = b
	}
	run := &runContext{
		b: b, ctx: ctx, jobDir: job.dir(m.home), name: job.name, fullName: job.fullName(),
		ws: m.freeWorkspace(job),
	}
	b.ws = run.ws
	run.env = m.buildEnv(b, run.ws)
	m.logf("local master: %s #%d started", run.fullName, n)
	go m.run(run)
}

// freeWorkspace is the workspace of a build of job that starts now: the
// job's own, or, as Jenkins does for concurrent builds, the first of
// ws@2, ws@3... that no running build of the job holds. m.mu must be held.
func (m *Master) freeWorkspace(job *item) string {
	base := filepath.Join(m.home, "workspace", workspaceName(job.fullName()))
	inUse := map[string]bool{}
	for b := range m.running {
		if b.job == job && b.ws != "" {
			inUse[b.ws] = true
		}
	}
	ws := base
	for i := 2; inUse[ws]; i++ {
		ws = base + "@" + strconv.Itoa(i)
	}
	return ws
}

// runContext is what a build's goroutine works with, read under the lock
// when the build starts.
type runContext struct {
	b        *build
	ctx      context.Context
	jobDir   string
	name     string
	fullName string
	ws       string
	env      []string
}

// buildEnv is the environment of a build's steps: the master's own, the
// variables Jenkins sets, then the parameters. m.mu must be held.
func (m *Master) buildEnv(b *build, ws string) []string {
	root := m.rootURL()
	job := b.job
	full := job.fullName()
	vars := map[string]string{
		"BUILD_NUMBER":       strconv.Itoa(b.number),
		"BUILD_ID":           strconv.Itoa(b.number),
		"BUILD_DISPLAY_NAME": "#" + strconv.Itoa(b.number),
		"BUILD_TAG":          "jenkins-" + strings.ReplaceAll(full, "/", "-") + "-" + strconv.Itoa(b.number),
		"BUILD_URL":          root + b.relURL(),
		"JOB_NAME":           full,
		"JOB_BASE_NAME":      job.name,
		"JOB_URL":            root + job.relURL(),
		"JENKINS_URL":        root,
		"JENKINS_HOME":       m.home,
		"WORKSPACE":          ws,
		"WORKSPACE_TMP":      ws + "@tmp",
		"NODE_NAME":          "built-in",
		"NODE_LABELS":        "built-in",
		"EXECUTOR_NUMBER":    strconv.Itoa(max(b.executor, 0)),
	}
	for _, p := range b.params {
		vars[p.name] = p.value
	}
	env := make([]string, 0, len(vars)+64)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := vars[k]; ok || SecretEnv(k) {
			continue
		}
		env = append(env, kv)
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		env = append(env, k+"="+vars[k])
	}
	return env
}

// run runs a build to its end.
func (m *Master) run(r *runContext) {
	b := r.b
	defer close(b.done)
	for _, c := range b.causes {
		b.log.println(c.ShortDescription)
	}
	var result string
	func() {
		defer func() {
			if p := recover(); p != nil {
				b.log.println(fmt.Sprintf("ERROR: the local master failed running this build: %v", p))
				result = "FAILURE"
			}
		}()
		if b.job.kind == kindPipeline {
			result = m.runPipeline(r)
		} else {
			result = m.runFreestyle(r)
		}
	}()
	m.finish(b, result)
}

// finish records a build's end. Its console ends with "Finished: RESULT"
// before it stops being "building", so that a reader that saw it building
// reads on until that line.
func (m *Master) finish(b *build, result string) {
	m.mu.Lock()
	if b.stopped != "" {
		result = "ABORTED"
	}
	switch result {
	case "SUCCESS", "UNSTABLE", "FAILURE", "ABORTED", "NOT_BUILT":
	default:
		b.log.println(fmt.Sprintf("ERROR: the build ended with an unknown result %q", result))
		result = "FAILURE"
	}
	b.log.println("Finished: " + result)
	b.log.close()
	b.building = false
	b.result = result
	b.duration = max(m.now().Sub(b.timestamp), 0)
	b.kill = nil
	delete(m.running, b)
	if b.executor >= 0 && b.executor < len(m.executors) && m.executors[b.executor] == b {
		m.executors[b.executor] = nil
	}
	// A job deleted while this build ran (its delete gave up waiting) may
	// have a successor of the same name: leave its directory alone.
	if live(b.job) {
		if err := m.saveBuild(b); err != nil {
			m.logf("local master: %s #%d: %v", b.job.fullName(), b.number, err)
		}
		if !b.job.deleting {
			m.rotate(b.job)
		}
	}
	m.schedule()
	trash := m.takeTrash()
	name := b.job.fullName()
	m.mu.Unlock()
	m.emptyTrash(trash)
	m.saveQueue()
	m.logf("local master: %s #%d finished: %s", name, b.number, result)
}

// worse returns the worse of two results, in Jenkins' order.
func worse(a, b string) string {
	order := map[string]int{"SUCCESS": 0, "UNSTABLE": 1, "FAILURE": 2, "NOT_BUILT": 3, "ABORTED": 4}
	if order[b] > order[a] {
		return b
	}
	return a
}

// runFreestyle runs a freestyle build's shell steps, then archives its
// artifacts.
func (m *Master) runFreestyle(r *runContext) string {
	log := r.b.log
	data, err := os.ReadFile(filepath.Join(r.jobDir, "config.xml"))
	if err != nil {
		log.println("ERROR: cannot read the job's config: " + err.Error())
		return "FAILURE"
	}
	root, _, err := parseXML(data)
	if err != nil {
		log.println("ERROR: cannot read the job's config: " + err.Error())
		return "FAILURE"
	}
	steps := readSteps(root)
	if err := os.MkdirAll(r.ws, 0o755); err != nil {
		log.println("ERROR: cannot create the workspace: " + err.Error())
		return "FAILURE"
	}
	log.println("Running as SYSTEM")
	log.println("Building in workspace " + r.ws)
	for _, s := range steps.skipped {
		log.println("WARNING: the local master does not run " + s + "; skipped")
	}
	result := "SUCCESS"
	if scm := root.child("scm"); scm != nil && scm.attr("class") == classGitSCM {
		if err := m.checkout(r, readGitSCM(scm)); err != nil {
			if r.ctx.Err() == nil {
				log.println("ERROR: " + err.Error())
				log.println("ERROR: the checkout of the job's GitSCM failed: the build's steps did not run")
			}
			result = "FAILURE"
		}
	}
	for _, s := range steps.shells {
		if r.ctx.Err() != nil || result == "FAILURE" {
			break
		}
		rc, err := m.runShell(r, s.command)
		switch {
		case r.ctx.Err() != nil:
		case err != nil:
			log.println("ERROR: " + err.Error())
			log.println("Build step 'Execute shell' marked build as failure")
			result = "FAILURE"
		case rc != 0 && s.unstableReturn != 0 && rc == s.unstableReturn:
			log.println("Build step 'Execute shell' marked build as unstable")
			result = worse(result, "UNSTABLE")
			continue
		case rc != 0:
			log.println("Build step 'Execute shell' marked build as failure")
			result = "FAILURE"
		default:
			continue
		}
		break
	}
	if r.ctx.Err() != nil {
		result = "ABORTED"
	}
	if a := steps.archiver; a != nil {
		result = worse(result, m.archive(r, a, result))
	}
	if len(steps.triggers) > 0 {
		if r.ctx.Err() != nil {
			result = "ABORTED"
		}
		m.triggerDownstream(r, steps.triggers, result)
	}
	return result
}

// runShell runs one hudson.tasks.Shell step as Jenkins does: the command
// in a temporary file, run by its #! interpreter line or by /bin/sh -xe,
// in its own process group, killed (TERM, then KILL after 10s) when the
// build is aborted. It returns the exit status.
func (m *Master) runShell(r *runContext, command string) (int, error) {
	log := r.b.log
	tmpDir := r.ws + "@tmp"
	if err := os.MkdirAll(tmpDir, 0o700); err != nil {
		return -1, err
	}
	f, err := os.CreateTemp(tmpDir, "jenkins*.sh")
	if err != nil {
		return -1, err
	}
	script := f.Name()
	defer os.Remove(script)
	command = strings.ReplaceAll(command, "\r\n", "\n")
	if _, err := f.WriteString(command); err != nil {
		f.Close()
		return -1, err
	}
	if err := f.Close(); err != nil {
		return -1, err
	}
	var args []string
	if strings.HasPrefix(command, "#!") {
		first, _, _ := strings.Cut(command, "\n")
		args = strings.Fields(strings.TrimPrefix(first, "#!"))
		if len(args) == 0 {
			return -1, fmt.Errorf("the step's #! line names no interpreter")
		}
		args = append(args, script)
	} else {
		args = []string{"/bin/sh", "-xe", script}
	}
	log.println("[" + r.name + "] $ " + strings.Join(args, " "))
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = r.ws
	cmd.Env = r.env
	log.mu.Lock()
	if log.f != nil {
		cmd.Stdout, cmd.Stderr = log.f, log.f
	}
	log.mu.Unlock()
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return -1, fmt.Errorf("cannot run %s: %v", args[0], err)
	}
	exited := make(chan struct{})
	go func() {
		select {
		case <-exited:
			return
		case <-r.ctx.Done():
		}
		signalGroup(cmd, "TERM")
		select {
		case <-exited:
		case <-time.After(killGrace):
			signalGroup(cmd, "KILL")
		}
	}()
	err = cmd.Wait()
	close(exited)
	// Processes the step left behind in its group go with it, as Jenkins'
	// ProcessTreeKiller does.
	signalGroup(cmd, "KILL")
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if code := ee.ExitCode(); code >= 0 {
			return code, nil
		}
		return 128 + signalNumber(ee), nil
	}
	if err != nil {
		return -1, err
	}
	return 0, nil
}

// runPipeline hands a pipeline build to the pipeline runner.
func (m *Master) runPipeline(r *runContext) string {
	b, log := r.b, r.b.log
	data, err := os.ReadFile(filepath.Join(r.jobDir, "config.xml"))
	if err != nil {
		log.println("ERROR: cannot read the job's config: " + err.Error())
		return "FAILURE"
	}
	root, _, err := parseXML(data)
	if err != nil {
		log.println("ERROR: cannot read the job's config: " + err.Error())
		return "FAILURE"
	}
	def := root.child("definition")
	if class := def.attr("class"); class != cpsDefinition {
		log.println(fmt.Sprintf("ERROR: the local master runs only %s definitions, not %q", cpsDefinition, class))
		return "FAILURE"
	}
	if m.cfg.Pipeline == nil {
		log.println("ERROR: this master cannot run pipeline builds: it was started without a pipeline runner (pipelines run their Groovy under the groovy command with jobctl's step library)")
		return "FAILURE"
	}
	if err := os.MkdirAll(r.ws, 0o755); err != nil {
		log.println("ERROR: cannot create the workspace: " + err.Error())
		return "FAILURE"
	}
	archive := filepath.Join(r.jobDir, "builds", strconv.Itoa(b.number), "archive")
	env := map[string]string{}
	for _, kv := range r.env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	params, types := map[string]string{}, map[string]string{}
	for _, p := range b.params {
		params[p.name] = p.value
		if p.class == "hudson.model.BooleanParameterValue" {
			types[p.name] = "boolean"
		}
	}
	m.mu.RLock()
	user, token := m.cfg.User, m.cfg.Token
	master := m.rootURL()
	m.mu.RUnlock()
	result := m.cfg.Pipeline.Run(r.ctx, PipelineBuild{
		Job: r.fullName, Number: b.number,
		Script: def.child("script").textOf(), Sandbox: strings.TrimSpace(def.child("sandbox").textOf()) == "true",
		Params: params, ParamTypes: types, Env: env, Workspace: r.ws, ArtifactsDir: archive, Log: log,
		MasterURL: master, User: user, Token: token,
	})
	arts := listArtifacts(archive)
	m.mu.Lock()
	b.artifacts = arts
	m.mu.Unlock()
	if r.ctx.Err() != nil {
		return "ABORTED"
	}
	return result
}

// listArtifacts lists the regular files under an archive directory.
func listArtifacts(dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.Type().IsRegular() {
			if rel, err := filepath.Rel(dir, p); err == nil {
				out = append(out, filepath.ToSlash(rel))
			}
		}
		return nil
	})
	slices.Sort(out)
	return out
}

// SecretEnv reports whether an environment variable of the master's
// process holds credentials builds must not see: the master's token and
// the credentials jobctl reads for a real Jenkins. Freestyle steps and
// the pipeline runner both apply it.
func SecretEnv(name string) bool {
	switch name {
	case "JOBCTL_MASTER_TOKEN", "JENKINS_API_TOKEN", "JENKINS_PASSWORD":
		return true
	}
	return false
}
