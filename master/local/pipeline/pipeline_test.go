//go:build unix

package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// needGroovy skips the test when groovy is not installed (CI installs it).
func needGroovy(tb testing.TB) {
	tb.Helper()
	if _, err := (&Runner{}).command(); errors.Is(err, ErrNoGroovy) {
		tb.Skip(err)
	}
}

// buildTimeout bounds every build of the tests: a hang fails, it does not block.
const buildTimeout = 2 * time.Minute

// logBuffer is a Build.Log that tests can read while the build runs.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// ran is a build the tests ran.
type ran struct {
	result    string
	log       string
	ws        string // the workspace
	artifacts string // the artifacts folder
}

// lines returns the lines of the log that start with prefix, without it.
func (r ran) lines(prefix string) []string {
	var out []string
	for _, l := range strings.Split(r.log, "\n") {
		if s, ok := strings.CutPrefix(l, prefix); ok {
			out = append(out, s)
		}
	}
	return out
}

// newBuild returns build 1 of modelshop/orch running script, in a fresh
// workspace, with the environment a master gives it; f, if not nil, is the
// master.
func newBuild(t *testing.T, f *fakeJenkins, script string) Build {
	t.Helper()
	dir := t.TempDir()
	b := Build{
		Job:          "modelshop/orch",
		Number:       1,
		Script:       script,
		Params:       map[string]string{},
		Workspace:    filepath.Join(dir, "workspace"),
		ArtifactsDir: filepath.Join(dir, "builds", "1", "archive"),
		Log:          &logBuffer{},
	}
	if err := os.MkdirAll(b.Workspace, 0o755); err != nil {
		t.Fatal(err)
	}
	master := "http://127.0.0.1:1/"
	if f != nil {
		master = f.URL()
		b.MasterURL = master
		b.User, b.Token = f.user, f.token
	}
	b.Env = map[string]string{
		"BUILD_NUMBER": "1",
		"BUILD_ID":     "1",
		"BUILD_TAG":    "jenkins-modelshop-orch-1",
		"JOB_NAME":     b.Job,
		"JENKINS_URL":  master,
		"BUILD_URL":    master + "job/modelshop/job/orch/1/",
		"WORKSPACE":    b.Workspace,
	}
	return b
}

// runBuild runs b (its params go into its environment, as the master does).
func runBuild(t *testing.T, ctx context.Context, b Build) ran {
	t.Helper()
	for k, v := range b.Params {
		b.Env[k] = v
	}
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	start := time.Now()
	result := (&Runner{}).Run(ctx, b)
	t.Logf("%s ran in %s", b.Job, time.Since(start).Round(time.Millisecond))
	r := ran{result: result, log: b.Log.(*logBuffer).String(), ws: b.Workspace, artifacts: b.ArtifactsDir}
	if t.Failed() || testing.Verbose() {
		t.Logf("console:\n%s", r.log)
	}
	return r
}

func TestSteps(t *testing.T) {
	needGroovy(t)
	t.Parallel()
	b := newBuild(t, nil, `def got(k, v) { echo "got ${k}=${v}" }
got('param', params.NAME)
got('bool', params.FLAG instanceof Boolean && params.FLAG)
got('params read-only', { try { params.NAME = 'x'; return 'written' } catch (e) { return e.getClass().simpleName } }())
got('isUnix', isUnix())
got('build', [currentBuild.number, currentBuild.displayName, currentBuild.fullDisplayName, currentBuild.result,
    currentBuild.currentResult, currentBuild.absoluteUrl])
got('bare env', BUILD_TAG)
got('unknown', { try { return nosuchvar } catch (MissingPropertyException e) { return e.message } }())
env.ASSIGNED = 'yes'
try {
  sh 'true'
} catch (e) {
  got('sh outside node', e.getClass().simpleName)
}
stage('shell') {
  node('linux') {
    got('status', sh(returnStatus: true, script: 'exit 3'))
    got('stdout', sh(returnStdout: true, script: 'echo one; echo two').inspect())
    try {
      sh 'echo failing; exit 2'
    } catch (e) {
      got('sh error', e.getClass().name + ': ' + e.message)
    }
    withEnv(['INNER=in', 'PATH+EXTRA=/opt/x']) {
      got('env', sh(returnStdout: true, script: 'echo "$INNER $ASSIGNED $NAME $BUILD_NUMBER $STAGE_NAME"').trim())
      got('path', env.PATH.startsWith('/opt/x:'))
    }
    got('after withEnv', env.INNER)
    dir('sub/dir') {
      got('dir', sh(returnStdout: true, script: 'pwd').trim() == env.WORKSPACE + '/sub/dir')
      got('pwd', pwd() == env.WORKSPACE + '/sub/dir')
      writeFile file: 'f.txt', text: 'in sub'
    }
    got('readFile', readFile('sub/dir/f.txt'))
    got('bash', sh(returnStdout: true, script: '#!/bin/bash -e\necho "${BASH_VERSION:+bash} $0"').trim().replaceAll('/[^ ]*/', '/…/'))
    got('fileExists', [fileExists('sub/dir/f.txt'), fileExists(file: 'sub'), fileExists('nope')])
    writeFile file: 'data.json', text: '{"a": null, "b": [1, 2.5, "x"], "c": {"d": true}}'
    def j = readJSON(file: 'data.json')
    got('readJSON', [j.getClass().simpleName, j.containsKey('a'), j.a == null, j.b, j.c.d])
    def p = readJSON(text: '{"x": null, "y": [null]}', returnPojo: true)
    got('returnPojo', [p.getClass().simpleName, p.y.getClass().simpleName, p.containsKey('x'), p.x, p.y])
    writeJSON file: 'out.json', json: [k: 'v', n: [1, 2], z: null]
    got('writeJSON', readFile('out.json'))
    writeJSON file: 'pretty.json', json: [k: 'v'], pretty: 2
    got('pretty', readFile('pretty.json').inspect())
    for (path in ['../escape.txt', '/etc/passwd', 'sub/../../x']) {
      try {
        writeFile file: path, text: 'x'
        got('escape', 'written ' + path)
      } catch (e) {
        got('escape', e.message)
      }
    }
    try {
      readFile '/etc/hostname'
    } catch (e) {
      got('escape', e.message)
    }
    try {
      dir('..') {
        echo 'in the parent'
      }
    } catch (e) {
      got('escape', e.message)
    }
    sh 'ln -s /etc link'
    try {
      readFile 'link/hostname'
    } catch (e) {
      got('escape', e.message)
    }
    got('absolute inside', readFile(env.WORKSPACE + '/sub/dir/f.txt'))
    int tries = 0
    retry(3) {
      tries++
      if (tries < 3) {
        error "try ${tries}"
      }
    }
    got('retries', tries)
    dir('sub') {
      deleteDir()
    }
    got('deleted', fileExists('sub'))
    catchError(buildResult: 'SUCCESS') {
      sh 'exit 5'
    }
    got('after catchError', currentBuild.currentResult)
  }
}
`)
	b.Params = map[string]string{"NAME": "shop", "FLAG": "true"}
	b.ParamTypes = map[string]string{"FLAG": "boolean"}
	r := runBuild(t, context.Background(), b)
	ws := r.ws
	want := []string{
		"param=shop",
		"bool=true",
		"params read-only=UnsupportedOperationException",
		"isUnix=true",
		"build=[1, #1, modelshop » orch #1, null, SUCCESS, http://127.0.0.1:1/job/modelshop/job/orch/1/]",
		"bare env=jenkins-modelshop-orch-1",
		"unknown=No such property: nosuchvar for class: WorkflowScript",
		"sh outside node=MissingContextVariableException",
		"status=3",
		`stdout='one\ntwo\n'`,
		"sh error=hudson.AbortException: script returned exit code 2",
		"env=in yes shop 1 shell",
		"path=true",
		"after withEnv=null",
		"dir=true",
		"pwd=true",
		"readFile=in sub",
		"bash=bash /…/script.sh",
		"fileExists=[true, true, false]",
		"readJSON=[LinkedHashMap, true, true, [1, 2.5, x], true]",
		"returnPojo=[LinkedHashMap, ArrayList, true, null, [null]]",
		`writeJSON={"k":"v","n":[1,2],"z":null}`,
		`pretty='{\n  "k": "v"\n}'`,
		"escape=writeFile: '../escape.txt' is outside the workspace " + ws,
		"escape=writeFile: '/etc/passwd' is outside the workspace " + ws,
		"escape=writeFile: 'sub/../../x' is outside the workspace " + ws,
		"escape=readFile: '/etc/hostname' is outside the workspace " + ws,
		"escape=dir: '..' is outside the workspace " + ws,
		"escape=readFile: 'link/hostname' leads outside the workspace " + ws + " through a symbolic link",
		"absolute inside=in sub",
		"retries=3",
		"deleted=false",
		"after catchError=SUCCESS",
	}
	if diff := cmp.Diff(want, r.lines("got ")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if r.result != Success {
		t.Errorf("result %s, want SUCCESS", r.result)
	}
	for _, line := range []string{"[Pipeline] { (shell)", "+ echo failing", "failing", "ERROR: try 1", "Retrying",
		"Running on built-in node in " + ws + " (label 'linux' is not checked: the local master runs every node block itself)"} {
		if !slices.Contains(strings.Split(r.log, "\n"), line) {
			t.Errorf("the console has no line %q", line)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(ws), "escape.txt")); err == nil {
		t.Errorf("writeFile wrote outside the workspace")
	}
}

func TestParallel(t *testing.T) {
	needGroovy(t)
	t.Parallel()
	// Each of a and b waits for the file the other writes: they end only
	// if they run at the same time (sequential branches would hit the
	// timeout).
	b := newBuild(t, nil, `node {
  timeout(time: 60, unit: 'SECONDS') {
    parallel(
      a: {
        writeFile file: 'a', text: 'a'
        sh 'while [ ! -f b ]; do sleep 0.05; done'
        echo 'got a saw b'
      },
      b: {
        writeFile file: 'b', text: 'b'
        sh 'while [ ! -f a ]; do sleep 0.05; done'
        echo 'got b saw a'
      })
  }
  try {
    parallel(fails: { error 'branch failed' }, slow: { sleep 1; writeFile file: 'slow', text: 'done' })
  } catch (e) {
    echo "got caught: ${e.message}; slow finished: ${fileExists('slow')}"
  }
  try {
    parallel(failFast: true, fails: { error 'fast failure' }, long: { sh 'sleep 60'; writeFile file: 'long', text: 'done' })
  } catch (e) {
    echo "got caught: ${e.message}; long finished: ${fileExists('long')}"
  }
  def values = parallel(x: { 1 }, y: { 'two' })
  echo "got values: ${values}"
}
`)
	r := runBuild(t, context.Background(), b)
	got := r.lines("got ")
	slices.Sort(got[:2]) // the branches end in any order
	want := []string{
		"a saw b",
		"b saw a",
		"caught: branch failed; slow finished: true",
		"caught: fast failure; long finished: false",
		"values: [x:1, y:two]",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if r.result != Success {
		t.Errorf("result %s, want SUCCESS", r.result)
	}
	if !strings.Contains(r.log, "\nFailed in branch fails\n") {
		t.Errorf("the console does not say which branch failed fast")
	}
}

// workers are the jobs of TestBuild and TestResults' downstream cases.
func workers() map[string]*fakeJob {
	return map[string]*fakeJob{
		"modelshop/worker":   {parameterized: true, run: ok(map[string]any{"n": 1})},
		"modelshop/plain":    {},
		"modelshop/failing":  {run: func(int, map[string]string) fakeOutcome { return fakeOutcome{Result: "FAILURE"} }},
		"modelshop/shaky":    {run: func(int, map[string]string) fakeOutcome { return fakeOutcome{Result: "UNSTABLE"} }},
		"modelshop/sub/leaf": {},
		"other/tool":         {},
		"modelshop/gone":     {cancel: true},
		"modelshop/aborted":  {run: func(int, map[string]string) fakeOutcome { return fakeOutcome{Result: "ABORTED"} }},
		"modelshop/notbuilt": {run: func(int, map[string]string) fakeOutcome { return fakeOutcome{Result: "NOT_BUILT"} }},
		"modelshop/slow": {run: func(int, map[string]string) fakeOutcome {
			return fakeOutcome{Result: "SUCCESS", Takes: time.Hour}
		}},
	}
}

func TestBuild(t *testing.T) {
	needGroovy(t)
	t.Parallel()
	f := newFake(t, "", "", workers())
	b := newBuild(t, f, `def r = build job: 'worker', parameters: [string(name: 'S', value: 'some text'),
    booleanParam(name: 'ON', value: true), booleanParam(name: 'OFF', value: false), password(name: 'PW', value: 'secret'),
    text(name: 'T', value: 'a\nb'), [$class: 'StringParameterValue', name: 'RAW', value: 'raw']]
echo "got worker: ${r.number} ${r.id} ${r.result} ${r.currentResult} ${r.fullProjectName} ${r.projectName} ${r.displayName}"
echo "got worker: ${r.fullDisplayName} ${r.absoluteUrl - env.JENKINS_URL} ${r.buildVariables.S} ${r.getBuildVariables().ON} ${r.duration}"
def failed = build job: 'failing', propagate: false
echo "got propagate false: ${failed.result}"
echo "got wait false: ${build(job: 'worker', wait: false)}"
echo "got absolute: ${build('/other/tool').fullProjectName}"
echo "got relative: ${build('sub/leaf').fullProjectName}"
echo "got full name: ${build('other/tool').fullProjectName}"
echo "got plain: ${build(job: 'plain', parameters: [string(name: 'IGNORED', value: 'x')]).result}"
try {
  build 'gone'
} catch (e) {
  echo "got cancelled: ${e.getClass().name}: ${e.message}"
}
try {
  build 'missing'
} catch (e) {
  echo "got missing: ${e.message}"
}
echo "got before: ${currentBuild.currentResult}"
build 'shaky'
echo "got unstable: ${currentBuild.currentResult}"
build job: 'failing',
    propagate: true
echo 'got not reached'
`)
	r := runBuild(t, context.Background(), b)
	want := []string{
		"worker: 1 1 SUCCESS SUCCESS modelshop/worker worker #1",
		"worker: modelshop » worker #1 job/modelshop/job/worker/1/ some text true 5",
		"propagate false: FAILURE",
		"wait false: null",
		"absolute: other/tool",
		"relative: modelshop/sub/leaf",
		"full name: other/tool",
		"plain: SUCCESS",
		"cancelled: hudson.AbortException: modelshop/gone #? was cancelled",
		"missing: No item named missing found",
		"before: SUCCESS",
		"unstable: UNSTABLE",
	}
	if diff := cmp.Diff(want, r.lines("got ")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if r.result != Failure {
		t.Errorf("result %s, want FAILURE", r.result)
	}
	end := r.log[strings.Index(r.log, "[Pipeline] End of Pipeline"):]
	wantEnd := "[Pipeline] End of Pipeline\n" +
		"modelshop/failing #2 completed with status FAILURE (propagate: false to ignore)\n" +
		"\tat WorkflowScript.run(WorkflowScript:26)\n"
	if diff := cmp.Diff(wantEnd, end); diff != "" {
		t.Errorf("the end of the console (-want +got):\n%s", diff)
	}
	triggers, _ := f.record()
	wantTriggers := []trigger{
		{Job: "modelshop/worker", Verb: "buildWithParameters", Params: map[string]string{
			"S": "some text", "ON": "true", "OFF": "false", "PW": "secret", "T": "a\nb", "RAW": "raw"}},
		{Job: "modelshop/failing", Verb: "build", Params: map[string]string{}},
		{Job: "modelshop/worker", Verb: "buildWithParameters", Params: map[string]string{}},
		{Job: "other/tool", Verb: "build", Params: map[string]string{}},
		{Job: "modelshop/sub/leaf", Verb: "build", Params: map[string]string{}},
		{Job: "other/tool", Verb: "build", Params: map[string]string{}},
		{Job: "modelshop/plain", Verb: "build", Params: map[string]string{}},
		{Job: "modelshop/gone", Verb: "build", Params: map[string]string{}},
		{Job: "modelshop/shaky", Verb: "build", Params: map[string]string{}},
		{Job: "modelshop/failing", Verb: "build", Params: map[string]string{}},
	}
	if diff := cmp.Diff(wantTriggers, triggers); diff != "" {
		t.Errorf("triggers (-want +got):\n%s", diff)
	}
	if n := f.crumbs(); n != 1 {
		t.Errorf("the crumb was asked for %d times, want once", n)
	}
}

func TestArtifacts(t *testing.T) {
	needGroovy(t)
	t.Parallel()
	f := newFake(t, "ci", "11aa22bb", map[string]*fakeJob{
		"modelshop/worker": {parameterized: true, run: func(n int, p map[string]string) fakeOutcome {
			return fakeOutcome{Result: "SUCCESS", Artifacts: map[string]string{
				"report.json":       report("SUCCESS", "", map[string]any{"n": n, "s": p["S"], "nothing": nil}),
				"deep/er/file.txt":  "deep",
				"with space/a b.md": "spaced",
			}}
		}},
		"modelshop/evil": {run: func(int, map[string]string) fakeOutcome {
			return fakeOutcome{Result: "SUCCESS", Artifacts: map[string]string{"../evil.txt": "evil"}}
		}},
	})
	b := newBuild(t, f, `node {
  def r = build job: 'worker', parameters: [string(name: 'S', value: 'one')]
  copyArtifacts projectName: r.fullProjectName, selector: specific("${r.number}"), filter: 'report.json', target: 'got'
  def rep = readJSON(text: readFile('got/report.json'), returnPojo: true)
  echo "got report: ${rep.status} ${rep.data.n} ${rep.data.s} ${rep.data.containsKey('nothing')} ${rep.data.nothing}"
  copyArtifacts projectName: 'worker', selector: lastSuccessful(), target: 'all'
  echo "got all: ${fileExists('all/report.json')} ${readFile('all/deep/er/file.txt')} ${readFile('all/with space/a b.md')}"
  copyArtifacts projectName: 'worker', selector: lastCompleted(), filter: '**/*.txt', target: 'flat', flatten: true
  echo "got flat: ${readFile('flat/file.txt')}"
  copyArtifacts projectName: 'worker'
  echo "got default: ${readFile('report.json').contains('SUCCESS')}"
  copyArtifacts projectName: 'worker', selector: specific('99'), optional: true
  try {
    copyArtifacts projectName: 'worker', selector: specific('99')
  } catch (e) {
    echo "got no build: ${e.message}"
  }
  try {
    copyArtifacts projectName: 'worker', filter: 'nope.*'
  } catch (e) {
    echo "got no match: ${e.message}"
  }
  try {
    copyArtifacts projectName: 'missing'
  } catch (e) {
    echo "got no project: ${e.message.readLines()[0]}"
  }
  def evil = build job: 'evil'
  try {
    copyArtifacts projectName: 'evil', selector: specific("${evil.number}")
  } catch (e) {
    echo "got evil: ${e.message - pwd()}"
  }
  try {
    copyArtifacts projectName: 'worker', target: '../out'
  } catch (e) {
    echo "got target: ${e.message - pwd()}"
  }
  writeFile file: 'out/a.txt', text: 'A'
  writeFile file: 'out/sub/b.log', text: 'B'
  writeFile file: 'out/c.tmp', text: 'C'
  archiveArtifacts artifacts: 'out/**', excludes: '**/*.tmp'
  dir('out') {
    archiveArtifacts 'sub/*.log'
  }
  archiveArtifacts artifacts: 'none/*, nothing', allowEmptyArchive: true
  try {
    archiveArtifacts 'none/*'
  } catch (e) {
    echo "got empty: ${e.message}"
  }
}
`)
	r := runBuild(t, context.Background(), b)
	want := []string{
		"report: SUCCESS 1 one true null",
		"all: true deep spaced",
		"flat: deep",
		"default: true",
		"no build: Unable to find a build for artifact copy from: worker",
		"no match: Failed to copy artifacts from worker with filter: nope.*",
		"no project: Unable to find project for artifact copy: missing",
		"evil: copyArtifacts: the artifact '../evil.txt' of modelshop » evil #1 would land outside ",
		"target: copyArtifacts: '../out' is outside the workspace ",
		`empty: No artifacts found that match the file pattern "none/*". Configuration error?`,
	}
	if diff := cmp.Diff(want, r.lines("got ")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if r.result != Success {
		t.Errorf("result %s, want SUCCESS", r.result)
	}
	if diff := cmp.Diff(map[string]string{"out/a.txt": "A", "out/sub/b.log": "B", "sub/b.log": "B"}, tree(t, r.artifacts)); diff != "" {
		t.Errorf("archived (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(r.ws), "evil.txt")); err == nil {
		t.Errorf("copyArtifacts wrote outside the workspace")
	}
	if n := f.crumbs(); n != 0 {
		t.Errorf("the crumb issuer was asked %d times with token auth, want never", n)
	}
}

// tree returns the files under dir, by slash-separated relative path.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// pids reads the process ids a script wrote to files in the workspace.
func pids(t *testing.T, ws string, files ...string) []int {
	t.Helper()
	var out []int
	for _, name := range files {
		data, err := os.ReadFile(filepath.Join(ws, name))
		if err != nil {
			t.Fatal(err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, pid)
	}
	return out
}

// checkGone fails if a process of pids is still alive (zombies count as
// gone: they are dead, waiting for init to reap them).
func checkGone(t *testing.T, pids []int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range pids {
		for {
			stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			alive := syscall.Kill(pid, 0) == nil
			if err == nil {
				fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
				alive = alive && len(fields) > 0 && fields[0] != "Z"
			}
			if !alive {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("process %d is still running", pid)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func TestTimeout(t *testing.T) {
	needGroovy(t)
	t.Parallel()
	b := newBuild(t, nil, `try {
  timeout(time: 300, unit: 'MILLISECONDS') {
    while (true) {
    }
  }
} catch (e) {
  echo "got loop: ${e.getClass().simpleName} ${e.result} ${e.message}"
}
int attempts = 0
retry(2) {
  attempts++
  if (attempts == 1) {
    timeout(time: 200, unit: 'MILLISECONDS') {
      sleep 10
    }
  }
}
echo "got attempts: ${attempts}"
node {
  timeout(time: 1, unit: 'SECONDS') {
    sh 'echo $$ > sh.pid; sleep 60 & echo $! > child.pid; wait'
  }
}
echo 'got not reached'
`)
	r := runBuild(t, context.Background(), b)
	want := []string{"loop: FlowInterruptedException ABORTED Timeout has been exceeded", "attempts: 2"}
	if diff := cmp.Diff(want, r.lines("got ")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if r.result != Aborted {
		t.Errorf("result %s, want ABORTED", r.result)
	}
	if !strings.HasSuffix(r.log, "[Pipeline] End of Pipeline\nTimeout has been exceeded\n\tat WorkflowScript$_run_closure3.doCall(WorkflowScript:20)\n\tat WorkflowScript.run(WorkflowScript:19)\n") {
		t.Errorf("the console does not end with the timeout")
	}
	if n := strings.Count(r.log, "Cancelling nested steps due to timeout"); n != 3 {
		t.Errorf("%d timeouts fired, want 3", n)
	}
	checkGone(t, pids(t, r.ws, "sh.pid", "child.pid"))
}

func TestAbort(t *testing.T) {
	needGroovy(t)
	t.Parallel()
	f := newFake(t, "", "", workers())
	b := newBuild(t, f, `try {
  parallel(
    shell: {
      node {
        sh 'echo $$ > sh.pid; sleep 60 & echo $! > child.pid; wait'
      }
    },
    downstream: {
      build 'slow'
    })
} finally {
  echo 'got finally ran'
}
echo 'got not reached'
`)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	go func() {
		// Abort once the shell step runs and the downstream build started.
		for {
			_, err := os.Stat(filepath.Join(b.Workspace, "child.pid"))
			started := strings.Contains(b.Log.(*logBuffer).String(), "Starting building: modelshop » slow #1")
			if err == nil && started {
				cancel(errors.New("Aborted by tester"))
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	r := runBuild(t, ctx, b)
	if diff := cmp.Diff([]string{"finally ran"}, r.lines("got ")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if r.result != Aborted {
		t.Errorf("result %s, want ABORTED", r.result)
	}
	if !slices.Contains(strings.Split(r.log, "\n"), "Aborted by tester") {
		t.Errorf("the console does not say who aborted")
	}
	checkGone(t, pids(t, r.ws, "sh.pid", "child.pid"))
	if _, stops := f.record(); !slices.Equal(stops, []string{"modelshop/slow #1"}) {
		t.Errorf("stopped %q, want the downstream build", stops)
	}
}

func TestResults(t *testing.T) {
	needGroovy(t)
	t.Parallel()
	tests := []struct {
		name   string
		script string
		result string
		// end is what the console ends with, after End of Pipeline.
		end string
	}{
		{
			name:   "success",
			script: "echo 'fine'\n",
			result: Success,
		},
		{
			name:   "unknown step",
			script: "node {\n  frobnicate 'x'\n}\n",
			result: Failure,
			end: "java.lang.NoSuchMethodError: No such DSL method 'frobnicate' found among steps [archiveArtifacts, " +
				"booleanParam, build, catchError, copyArtifacts, deleteDir, dir, echo, error, fileExists, isUnix, " +
				"lastCompleted, lastSuccessful, node, parallel, password, pwd, readFile, readJSON, retry, sh, sleep, " +
				"specific, stage, string, text, timeout, unstable, warnError, withEnv, writeFile, writeJSON] or globals " +
				"[currentBuild, env, params]\n" +
				"\tat WorkflowScript$_run_closure1.doCall(WorkflowScript:2)\n" +
				"\tat WorkflowScript.run(WorkflowScript:1)\n",
		},
		{
			name:   "unknown step caught as Exception",
			script: "try {\n  frobnicate()\n} catch (Exception e) {\n  echo 'caught'\n}\n",
			result: Failure,
		},
		{
			name:   "error",
			script: "echo 'start'\nerror 'it went wrong'\n",
			result: Failure,
			end:    "ERROR: it went wrong\n\tat WorkflowScript.run(WorkflowScript:2)\n",
		},
		{
			name:   "unstable",
			script: "unstable 'some tests failed'\necho 'goes on'\n",
			result: Unstable,
		},
		{
			name:   "currentBuild.result",
			script: "currentBuild.result = 'UNSTABLE'\ncurrentBuild.result = 'SUCCESS'\n",
			result: Unstable,
		},
		{
			name:   "sh fails",
			script: "node {\n  sh '''\n    echo here\n    exit 4\n  '''\n}\n",
			result: Failure,
			end: "ERROR: script returned exit code 4\n" +
				"\tat WorkflowScript$_run_closure1.doCall(WorkflowScript:2)\n" +
				"\tat WorkflowScript.run(WorkflowScript:1)\n",
		},
		{
			name:   "exception",
			script: "def f() {\n  throw new IllegalStateException('boom')\n}\nf()\n",
			result: Failure,
			end: "java.lang.IllegalStateException: boom\n" +
				"\tat WorkflowScript.f(WorkflowScript:2)\n" +
				"\tat WorkflowScript.run(WorkflowScript:4)\n",
		},
		{
			name:   "no node",
			script: "writeFile file: 'x', text: 'y'\n",
			result: Failure,
			end: "org.jenkinsci.plugins.workflow.steps.MissingContextVariableException: Required context class " +
				"hudson.FilePath is missing\nPerhaps you forgot to surround the code with a step that provides this, " +
				"such as: node\n\tat WorkflowScript.run(WorkflowScript:1)\n",
		},
		{
			name:   "does not compile",
			script: "node {\n  echo 'x'\n",
			result: Failure,
		},
		{
			name:   "downstream unstable",
			script: "build 'shaky'\n",
			result: Unstable,
		},
		{
			name:   "downstream aborted",
			script: "build 'aborted'\n",
			result: Aborted,
			end: "modelshop/aborted #1 completed with status ABORTED (propagate: false to ignore)\n" +
				"\tat WorkflowScript.run(WorkflowScript:1)\n",
		},
		{
			name:   "downstream not built",
			script: "build 'notbuilt'\n",
			result: Failure,
		},
		{
			name:   "queue item cancelled",
			script: "build job: 'slow', propagate: false, wait: false\nbuild 'gone'\n",
			result: Failure,
			end:    "ERROR: modelshop/gone #? was cancelled\n\tat WorkflowScript.run(WorkflowScript:2)\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, "", "", workers())
			r := runBuild(t, context.Background(), newBuild(t, f, tt.script))
			if r.result != tt.result {
				t.Errorf("result %s, want %s", r.result, tt.result)
			}
			if tt.end != "" {
				_, end, _ := strings.Cut(r.log, "[Pipeline] End of Pipeline\n")
				if diff := cmp.Diff(tt.end, end); diff != "" {
					t.Errorf("the end of the console (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestUntrustedClasses checks that a folder of runner classes that others
// may write is never used: the build runs the runner script itself.
func TestUntrustedClasses(t *testing.T) {
	needGroovy(t)
	t.Parallel()
	r := &Runner{TempDir: t.TempDir()}
	groovy, err := r.command()
	if err != nil {
		t.Fatal(err)
	}
	_, dir := r.classesDir(groovy)
	planted := filepath.Join(dir, "jobctl", "pipeline", "PipelineRun.class")
	if err := os.MkdirAll(filepath.Dir(planted), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(planted, []byte("not a class"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b := newBuild(t, nil, "echo 'fine'\n")
	if got := r.Run(context.Background(), b); got != Success {
		t.Errorf("result %s, want SUCCESS; console:\n%s", got, b.Log.(*logBuffer).String())
	}
}

func TestNoGroovy(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("JOBCTL_GROOVY", "")
	var log bytes.Buffer
	got := (&Runner{}).Run(context.Background(), Build{Job: "x", Number: 1, Script: "echo 'x'", Log: &log})
	if got != Failure {
		t.Errorf("result %s, want FAILURE", got)
	}
	want := "ERROR: pipeline builds run under groovy (Groovy 2.4, as Jenkins embeds), and groovy is not on PATH: " +
		"install it with `apt-get install -y default-jre-headless groovy`\n"
	if diff := cmp.Diff(want, log.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// BenchmarkRun measures a build that only echoes: the cost of starting the
// JVM and compiling the runner and the script.
func BenchmarkRun(b *testing.B) {
	needGroovy(b)
	ws := b.TempDir()
	for b.Loop() {
		got := (&Runner{}).Run(context.Background(), Build{Job: "x", Number: 1, Script: "echo 'hello'\n", Workspace: ws})
		if got != Success {
			b.Fatalf("result %s", got)
		}
	}
}
