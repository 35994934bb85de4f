// Package pipeline runs the pipeline builds of jobctl's local master for
// real: each build's script runs under the groovy command (Groovy 2.4, as
// Jenkins embeds) with a step library that does what Jenkins' steps do —
// sh runs shell scripts in the workspace, build triggers jobs through the
// master's REST API and waits for them, copyArtifacts downloads their
// artifacts, archiveArtifacts keeps the build's own, parallel runs its
// branches at the same time, timeout interrupts its body.
//
// One groovy process runs one build (runner.groovy, embedded). The runner
// is compiled once, with the same groovy command, into a folder of classes
// named for its content in the temporary folder (compiling it costs
// groovy about 0.4 s a build otherwise). Go and that process talk through
// files and pipes:
//
//   - build.json (mode 0600, in a private temporary folder) describes the
//     build: the script, params, environment, workspace, artifacts folder,
//     the master's URL and credentials;
//   - the console comes on the process' stdout and stderr, which Run copies
//     to Build.Log line by line;
//   - "abort <message>\n" on the process' stdin aborts the build, and so
//     does the end of stdin;
//   - result.json, written last, holds {"result": ...}.
//
// The process runs in its own process group, with every shell step it
// starts: when it ends, and when an abort is not over after abortGrace,
// Run kills the whole group.
package pipeline

import (
	"bufio"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jobctl/jobctl/master/local"
)

//go:embed runner.groovy
var runnerScript []byte

// Build results, as Run returns them.
const (
	Success  = "SUCCESS"
	Unstable = "UNSTABLE"
	Failure  = "FAILURE"
	Aborted  = "ABORTED"
)

// ErrNoGroovy says that the groovy command is not on PATH.
var ErrNoGroovy = errors.New("pipeline builds run under groovy (Groovy 2.4, as Jenkins embeds), " +
	"and groovy is not on PATH: install it with `apt-get install -y default-jre-headless groovy`")

const (
	// abortGrace is how long an aborted build has to end (its finally
	// blocks run, the builds it waits for are stopped) before it is killed.
	abortGrace = 10 * time.Second
	// drainGrace is how long the console is read after the process group
	// is gone, for a process that left it holding the output open.
	drainGrace = 2 * time.Second
	// javaOpts make the JVM start fast: a pipeline script is orchestration,
	// not computation, so the C1 compiler is plenty.
	javaOpts = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto -Djava.awt.headless=true"
)

// Runner runs pipeline scripts under the groovy command (Debian's Groovy
// 2.4.21, /usr/bin/groovy; Jenkins embeds Groovy 2.4).
type Runner struct {
	// Groovy is the groovy command; empty means $JOBCTL_GROOVY, else "groovy".
	Groovy string
	// TempDir is where each build's private folder is made; empty means
	// os.TempDir().
	TempDir string
}

// Build is one pipeline build, as the master describes it.
type Build struct {
	Job          string // full name, e.g. "modelshop/process_upload-v3-abc"
	Number       int
	Script       string            // the job's pipeline script
	Params       map[string]string // as text
	ParamTypes   map[string]string // name -> "boolean" for boolean params (params.X is then a Boolean), others omitted
	Env          map[string]string // BUILD_NUMBER, BUILD_URL, JOB_NAME, JENKINS_URL, WORKSPACE, ... and the params
	Workspace    string            // the job's workspace directory (exists)
	ArtifactsDir string            // where archiveArtifacts copies files (builds/<n>/archive)
	Log          io.Writer         // the build's console; the output goes here, line by line
	MasterURL    string            // e.g. http://127.0.0.1:8080/ — for the build and copyArtifacts steps
	User, Token  string            // Basic credentials (token) when the master is secured; empty otherwise
}

// spec is build.json: a Build as runner.groovy reads it.
type spec struct {
	Job          string            `json:"job"`
	Number       int               `json:"number"`
	Script       string            `json:"script"`
	Params       map[string]string `json:"params"`
	ParamTypes   map[string]string `json:"paramTypes"`
	Env          map[string]string `json:"env"`
	AgentEnv     map[string]string `json:"agentEnv"`
	Workspace    string            `json:"workspace"`
	ArtifactsDir string            `json:"artifactsDir"`
	MasterURL    string            `json:"masterURL"`
	User         string            `json:"user"`
	Token        string            `json:"token"`
}

// outcome is result.json.
type outcome struct {
	Result      string `json:"result"`
	DisplayName string `json:"displayName"`
	Description string `json:"description"`
}

// Run runs the script to its end and returns the build result: SUCCESS,
// UNSTABLE, FAILURE or ABORTED. Cancelling ctx aborts the build (ABORTED):
// the script is interrupted, and the groovy process and every process its
// sh steps started are killed. The console line of the abort is the cause
// of ctx (context.WithCancelCause) when it has one, else "Aborted".
//
// A failure to run the build at all (no groovy, an unwritable temporary
// folder) is a FAILURE with a console line saying why.
func (r *Runner) Run(ctx context.Context, b Build) string {
	console := &console{w: b.Log}
	if console.w == nil {
		console.w = io.Discard
	}
	groovy, err := r.command()
	if err != nil {
		console.line("ERROR: " + err.Error())
		return Failure
	}
	if ctx.Err() != nil {
		console.line(abortMessage(ctx))
		return Aborted
	}
	result, err := r.run(ctx, groovy, b, console)
	if err != nil {
		console.line("ERROR: jobctl: " + err.Error())
		return Failure
	}
	return result
}

// command returns the groovy command to run.
func (r *Runner) command() (string, error) {
	name := r.Groovy
	if name == "" {
		name = os.Getenv("JOBCTL_GROOVY")
	}
	if name == "" {
		name = "groovy"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		if name != "groovy" {
			return "", fmt.Errorf("pipeline builds run under %s: %w", name, err)
		}
		return "", ErrNoGroovy
	}
	return path, nil
}

// run runs one build in its groovy process.
func (r *Runner) run(ctx context.Context, groovy string, b Build, console *console) (string, error) {
	if b.Workspace == "" {
		return "", errors.New("the build has no workspace")
	}
	dir, err := os.MkdirTemp(r.TempDir, "jobctl-pipeline-")
	if err != nil {
		return "", fmt.Errorf("running the pipeline: %w", err)
	}
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "build.json")
	out := filepath.Join(dir, "result.json")
	data, err := json.Marshal(newSpec(b))
	if err != nil {
		return "", fmt.Errorf("encoding the build: %w", err)
	}
	if err := os.WriteFile(in, data, 0o600); err != nil {
		return "", fmt.Errorf("running the pipeline: %w", err)
	}
	var args []string
	if classes, err := r.classes(groovy); err == nil {
		args = []string{"-cp", classes, "-e", launch, in, out}
	} else {
		// Run the script itself: slower, and if groovy is broken, the
		// console says how.
		runner := filepath.Join(dir, "runner.groovy")
		if err := os.WriteFile(runner, runnerScript, 0o600); err != nil {
			return "", fmt.Errorf("running the pipeline: %w", err)
		}
		args = []string{runner, in, out}
	}

	pr, pw, err := os.Pipe()
	if err != nil {
		return "", fmt.Errorf("running the pipeline: %w", err)
	}
	defer pr.Close()
	cmd := exec.Command(groovy, args...)
	cmd.Dir = dir
	cmd.Env = groovyEnv(os.Environ())
	cmd.Stdout = pw
	cmd.Stderr = pw
	setGroup(cmd)
	control, err := cmd.StdinPipe()
	if err != nil {
		pw.Close()
		return "", fmt.Errorf("running the pipeline: %w", err)
	}
	if err := cmd.Start(); err != nil {
		pw.Close()
		return "", fmt.Errorf("running %s: %w", groovy, err)
	}
	pw.Close()
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		console.copy(pr)
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	var waitErr error
	aborted := false
	select {
	case waitErr = <-exited:
	case <-ctx.Done():
		aborted = true
		fmt.Fprintf(control, "abort %s\n", abortMessage(ctx))
		select {
		case waitErr = <-exited:
		case <-time.After(abortGrace):
			console.line(fmt.Sprintf("jobctl: the build did not end within %s of the abort: killing it", abortGrace))
			killGroup(cmd.Process)
			waitErr = <-exited
		}
	}
	// Whatever the build's shell steps left running goes with it, as
	// Jenkins' process tree killer does at the end of a build.
	killGroup(cmd.Process)
	select {
	case <-copied:
	case <-time.After(drainGrace):
		pr.Close()
		<-copied
	}
	if aborted {
		return Aborted, nil
	}
	res, err := readOutcome(out)
	if err != nil {
		return "", fmt.Errorf("groovy ended without a result (%v): %w", waitErr, err)
	}
	return res.Result, nil
}

// launch runs the compiled runner.
const launch = "System.exit(jobctl.pipeline.PipelineRun.start(args))"

// compileRunner compiles args[0] into folder args[1].
const compileRunner = `import org.codehaus.groovy.control.*
def config = new CompilerConfiguration()
config.targetDirectory = new File(args[1])
def unit = new CompilationUnit(config)
unit.addSource(new File(args[0]))
unit.compile()`

// compiling serializes compilations of the runner.
var compiling sync.Mutex

// classes returns the folder of the runner's classes for groovy, compiling
// them if they are not there yet. The folder is named for the runner and
// the groovy command, and is trusted only if it is this user's and no one
// else's (mode 0700): anyone who can write it runs code in every build.
func (r *Runner) classes(groovy string) (string, error) {
	tmp, dir := r.classesDir(groovy)
	if err := private(dir); !errors.Is(err, fs.ErrNotExist) {
		return dir, err
	}
	compiling.Lock()
	defer compiling.Unlock()
	if err := private(dir); !errors.Is(err, fs.ErrNotExist) {
		return dir, err
	}
	work, err := os.MkdirTemp(tmp, "jobctl-pipeline-compile-")
	if err != nil {
		return "", fmt.Errorf("compiling the runner: %w", err)
	}
	defer os.RemoveAll(work)
	src := filepath.Join(work, "runner.groovy")
	classes := filepath.Join(work, "classes")
	if err := os.WriteFile(src, runnerScript, 0o600); err != nil {
		return "", fmt.Errorf("compiling the runner: %w", err)
	}
	if err := os.Mkdir(classes, 0o700); err != nil {
		return "", fmt.Errorf("compiling the runner: %w", err)
	}
	cmd := exec.Command(groovy, "-e", compileRunner, src, classes)
	cmd.Env = groovyEnv(os.Environ())
	if output, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("compiling the runner: %w\n%s", err, output)
	}
	if err := os.Rename(classes, dir); err != nil {
		if private(dir) == nil { // another process was first
			return dir, nil
		}
		return "", fmt.Errorf("compiling the runner: %w", err)
	}
	return dir, private(dir)
}

// classesDir returns the temporary folder and, in it, the folder of the
// runner's classes for groovy.
func (r *Runner) classesDir(groovy string) (tmp, dir string) {
	tmp = r.TempDir
	if tmp == "" {
		tmp = os.TempDir()
	}
	sum := sha256.Sum256(append(append(slices.Clip(runnerScript), 0), groovy...))
	return tmp, filepath.Join(tmp, "jobctl-pipeline-"+hex.EncodeToString(sum[:8]))
}

// private checks that dir is a folder of this user's that no one else may
// write, holding the runner's classes.
func private(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() || fi.Mode().Perm() != 0o700 || !ownedByMe(fi) {
		return fmt.Errorf("%s is not a private folder", dir)
	}
	_, err = os.Stat(filepath.Join(dir, "jobctl", "pipeline", "PipelineRun.class"))
	return err
}

// newSpec returns the build.json of b.
func newSpec(b Build) spec {
	agent := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" && !local.SecretEnv(k) {
			agent[k] = v
		}
	}
	abs := func(p string) string {
		if p == "" {
			return ""
		}
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	return spec{
		Job:          b.Job,
		Number:       b.Number,
		Script:       b.Script,
		Params:       b.Params,
		ParamTypes:   b.ParamTypes,
		Env:          b.Env,
		AgentEnv:     agent,
		Workspace:    abs(b.Workspace),
		ArtifactsDir: abs(b.ArtifactsDir),
		MasterURL:    b.MasterURL,
		User:         b.User,
		Token:        b.Token,
	}
}

// groovyEnv is the groovy process' environment: env with javaOpts in
// front of JAVA_OPTS, so that the user's options win.
func groovyEnv(env []string) []string {
	out := make([]string, 0, len(env)+1)
	opts := javaOpts
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); local.SecretEnv(k) {
			continue
		}
		if v, ok := strings.CutPrefix(kv, "JAVA_OPTS="); ok {
			opts += " " + v
			continue
		}
		out = append(out, kv)
	}
	return append(out, "JAVA_OPTS="+opts)
}

// abortMessage is the console line of an abort: ctx's cause, if it is not
// the plain cancellation.
func abortMessage(ctx context.Context) string {
	cause := context.Cause(ctx)
	if cause == nil || errors.Is(cause, context.Canceled) {
		return "Aborted"
	}
	if errors.Is(cause, context.DeadlineExceeded) {
		return "Aborted: the build's deadline passed"
	}
	return strings.ReplaceAll(cause.Error(), "\n", " ")
}

// readOutcome reads result.json.
func readOutcome(path string) (outcome, error) {
	var o outcome
	data, err := os.ReadFile(path)
	if err != nil {
		return o, err
	}
	if err := json.Unmarshal(data, &o); err != nil {
		return o, fmt.Errorf("reading %s: %w", filepath.Base(path), err)
	}
	switch o.Result {
	case Success, Unstable, Failure, Aborted:
		return o, nil
	}
	return o, fmt.Errorf("unknown result %q", o.Result)
}

// console writes whole lines to a build's log, from any goroutine.
type console struct {
	mu sync.Mutex
	w  io.Writer
}

func (c *console) line(s string) { c.write(s + "\n") }

func (c *console) write(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, _ = io.WriteString(c.w, s)
}

// copy copies r to the log line by line; a last line without a newline
// gets one.
func (c *console) copy(r io.Reader) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		s, err := br.ReadString('\n')
		if s != "" {
			if !strings.HasSuffix(s, "\n") {
				s += "\n"
			}
			c.write(s)
		}
		if err != nil {
			return
		}
	}
}
