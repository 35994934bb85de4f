package templates

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

// The wrapper tests run the rendered script under the real bash, in a
// temporary WORKSPACE, as Jenkins would, and check the report every time.

var stamped = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} `)

// report is report.json; decoding it with unknown fields disallowed and
// checking the key order makes sure it has exactly these keys.
type report struct {
	Process    string          `json:"process"`
	Status     string          `json:"status"`
	Reason     string          `json:"reason"`
	Data       json.RawMessage `json:"data"`
	Log        string          `json:"log"`
	DurationMS int64           `json:"duration_ms"`
	Attempts   int             `json:"attempts"`
}

var reportKeys = []string{"process", "status", "reason", "data", "log", "duration_ms", "attempts"}

// result is what one run of a wrapper left behind.
type result struct {
	ws      string
	stdout  string
	exit    int
	raw     []byte // report.json
	report  report
	elapsed time.Duration
}

// run describes one run of a rendered wrapper.
type run struct {
	script string
	env    []string // on top of a clean copy of the test's environment
	// setup prepares the workspace before the run.
	setup func(t *testing.T, ws string)
	// during is called once the wrapper has started, with its pid (also
	// the id of its process group).
	during func(t *testing.T, pid int, ws string)
}

func needBash(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
}

func mustRender(t testing.TB, w WorkerScript) string {
	t.Helper()
	s, err := RenderWorkerScript(w)
	if err != nil {
		t.Fatalf("RenderWorkerScript: %v", err)
	}
	return s
}

// worker is a minimal valid WorkerScript around body.
func worker(body string) WorkerScript {
	return WorkerScript{Process: "inspect_model", Deployed: "inspect_model-v3-3f9a0c1d2e4b", Source: "jobs/inspect_model/run.sh", Body: []byte(body)}
}

// cleanEnv is the test's environment without what would change the
// wrapper's behaviour.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "WORKSPACE" || k == "REPORT_RETURN_URL" || k == "BASH_ENV" || strings.HasPrefix(k, "JOBCTL_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// runWrapper runs r and checks what must hold for every run: report.json
// exists, is one JSON object with exactly the report's keys in order, agrees
// with the exit status, and every line of the log and of stdout is
// timestamped.
func runWrapper(t *testing.T, r run) result {
	t.Helper()
	needBash(t)
	ws := t.TempDir()
	if r.setup != nil {
		r.setup(t, ws)
	}
	path := filepath.Join(t.TempDir(), "wrapper.sh")
	if err := os.WriteFile(path, []byte(r.script), 0o700); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", path)
	cmd.Dir = ws
	cmd.Env = append(append(cleanEnv(), "WORKSPACE="+ws), r.env...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stdout // the wrapper prints nothing there; if it does, the stamp check sees it
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 20 * time.Second
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if r.during != nil {
		r.during(t, cmd.Process.Pid, ws)
	}
	err := cmd.Wait()
	res := result{ws: ws, stdout: stdout.String(), elapsed: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.exit = exit.ExitCode()
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			t.Fatalf("the wrapper was killed by %v; stdout:\n%s", ws.Signal(), res.stdout)
		}
	case err != nil:
		t.Fatalf("running the wrapper: %v; stdout:\n%s", err, res.stdout)
	}
	res.raw, err = os.ReadFile(filepath.Join(ws, "report.json"))
	if err != nil {
		t.Fatalf("no report: %v; stdout:\n%s", err, res.stdout)
	}
	res.report = decodeReport(t, res.raw)
	checkReport(t, res)
	return res
}

func decodeReport(t testing.TB, raw []byte) report {
	t.Helper()
	if !utf8.Valid(raw) {
		t.Errorf("report.json is not valid UTF-8: %q", raw)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var rep report
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("report.json does not decode: %v\n%s", err, raw)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Errorf("report.json holds more than one JSON value:\n%s", raw)
	}
	if diff := cmp.Diff(reportKeys, topLevelKeys(t, raw)); diff != "" {
		t.Errorf("report.json keys (-want +got):\n%s", diff)
	}
	var data map[string]any
	if err := json.Unmarshal(rep.Data, &data); err != nil || data == nil {
		t.Errorf("report data %s is not an object: %v", rep.Data, err)
	}
	return rep
}

func topLevelKeys(t testing.TB, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("report.json is not an object: %v %v", tok, err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func checkReport(t *testing.T, res result) {
	t.Helper()
	rep := res.report
	switch rep.Status {
	case "SUCCESS":
		if res.exit != 0 || rep.Reason != "" {
			t.Errorf("SUCCESS with exit status %d and reason %q", res.exit, rep.Reason)
		}
	case "FAILURE":
		if res.exit == 0 || rep.Reason == "" {
			t.Errorf("FAILURE with exit status %d and reason %q", res.exit, rep.Reason)
		}
	default:
		t.Errorf("status %q", rep.Status)
	}
	if rep.DurationMS < 0 || time.Duration(rep.DurationMS)*time.Millisecond > res.elapsed+time.Second {
		t.Errorf("duration_ms %d, but the run took %v", rep.DurationMS, res.elapsed)
	}
	if len(rep.Log) > 16384 || strings.Count(rep.Log, "\n") > 50 {
		t.Errorf("log has %d bytes in %d lines, want at most 16 KiB and 50 lines", len(rep.Log), strings.Count(rep.Log, "\n"))
	}
	if rep.Log == "" || !strings.HasSuffix(rep.Log, "\n") {
		t.Errorf("log %q is empty or does not end with a newline", rep.Log)
	}
	for _, l := range strings.Split(strings.TrimSuffix(rep.Log, "\n"), "\n") {
		if !stamped.MatchString(l) {
			t.Errorf("log line without a timestamp: %q", l)
		}
	}
	for _, l := range strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n") {
		if !stamped.MatchString(l) {
			t.Errorf("stdout line without a timestamp: %q", l)
		}
	}
	if !strings.HasSuffix(res.stdout, "\n") {
		t.Errorf("stdout does not end with a newline: %q", res.stdout)
	}
}

// want is what a test expects of a report; reason is a regexp.
type want struct {
	status   string
	reason   string
	attempts int
	exit     int
}

func (w want) check(t *testing.T, res result) {
	t.Helper()
	got := want{status: res.report.Status, attempts: res.report.Attempts, exit: res.exit, reason: w.reason}
	if diff := cmp.Diff(w, got, cmp.AllowUnexported(want{})); diff != "" {
		t.Errorf("report (-want +got):\n%s\nstdout:\n%s", diff, res.stdout)
	}
	if !regexp.MustCompile(w.reason).MatchString(res.report.Reason) {
		t.Errorf("reason %q does not match %q\nstdout:\n%s", res.report.Reason, w.reason, res.stdout)
	}
}

// survivors lists the processes whose command line contains marker.
func survivors(t *testing.T, marker string) []string {
	t.Helper()
	dirs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil || len(dirs) == 0 {
		t.Skip("no /proc to look for processes in")
	}
	var found []string
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		cmdline := string(bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
		if strings.Contains(cmdline, marker) {
			found = append(found, d+": "+cmdline)
		}
	}
	return found
}

// noSurvivors checks, for a few seconds, that no process with marker in its
// command line is left.
func noSurvivors(t *testing.T, marker string) {
	t.Helper()
	var left []string
	for range 50 {
		if left = survivors(t, marker); len(left) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("processes left running: %v", left)
}

func writeFile(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func waitForFile(t *testing.T, path, content string) {
	t.Helper()
	for range 1000 {
		if b, _ := os.ReadFile(path); bytes.Contains(b, []byte(content)) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s never contained %q", path, content)
}

func TestWrapperRuns(t *testing.T) {
	tests := []struct {
		name    string
		w       WorkerScript
		env     []string
		setup   func(t *testing.T, ws string)
		needs   string // a command the case skips without
		want    want
		stdout  []string // substrings of stdout
		logHas  []string // substrings of the report's log
		logLack []string
	}{
		{
			name:   "success",
			w:      worker("#!/bin/bash\necho \"hello from $PWD\"\necho to stderr >&2\n"),
			want:   want{status: "SUCCESS", reason: "^$", attempts: 1},
			logHas: []string{"hello from ", "to stderr", "jobctl: SUCCESS in "},
		},
		{
			name:   "failure names the last line",
			w:      worker("#!/bin/bash\necho loading\necho 'cannot open model.stl' >&2\necho\nexit 3\n"),
			want:   want{status: "FAILURE", reason: `^exit status 3: cannot open model\.stl$`, attempts: 1, exit: 3},
			logHas: []string{"loading", "jobctl: FAILURE: exit status 3: cannot open model.stl"},
		},
		{
			name: "crash",
			w:    worker("#!/bin/bash\necho about to crash\nkill -SEGV $$\n"),
			want: want{status: "FAILURE", reason: `^killed by signal 11 \(SIGSEGV\): about to crash$`, attempts: 1, exit: 139},
		},
		{
			name: "retry then success",
			w: func() WorkerScript {
				w := worker(`#!/bin/bash
n=$(( $(cat count 2>/dev/null || echo 0) + 1 ))
echo $n > count
echo '{"attempt": '$n'}' > "$JOBCTL_REPORT_DATA"
if [ $n -lt 2 ]; then echo "attempt $JOBCTL_ATTEMPT fails"; exit 2; fi
echo "attempt $JOBCTL_ATTEMPT works"
rm "$JOBCTL_REPORT_DATA"
`)
				w.Retries = 2
				return w
			}(),
			env:     []string{"JOBCTL_RETRY_BACKOFF=0.01"},
			want:    want{status: "SUCCESS", reason: "^$", attempts: 2},
			stdout:  []string{"jobctl: attempt 1/3 failed (exit 2); retrying in 0.01s", "attempt 1 fails"},
			logHas:  []string{"jobctl: attempt 2/3", "attempt 2 works", "SUCCESS in "},
			logLack: []string{"attempt 1 fails"},
		},
		{
			name: "retries exhausted",
			w: func() WorkerScript {
				w := worker("#!/bin/sh\necho \"try $JOBCTL_ATTEMPT\"\nexit 4\n")
				w.Retries = 2
				return w
			}(),
			env:     []string{"JOBCTL_RETRY_BACKOFF=0.01"},
			want:    want{status: "FAILURE", reason: `^exit status 4: try 3$`, attempts: 3, exit: 4},
			stdout:  []string{"attempt 1/3 failed (exit 4); retrying in 0.01s", "attempt 2/3 failed (exit 4); retrying in 0.02s"},
			logLack: []string{"try 1", "try 2"},
		},
		{
			name: "bad backoff value",
			w: func() WorkerScript {
				w := worker("#!/bin/sh\n")
				w.Retries = 1
				return w
			}(),
			env:    []string{"JOBCTL_RETRY_BACKOFF=$(touch pwned)"},
			want:   want{status: "SUCCESS", reason: "^$", attempts: 1},
			stdout: []string{"ignoring JOBCTL_RETRY_BACKOFF=$(touch pwned): not a number of seconds; using 5s"},
		},
		{
			name:   "sh body",
			w:      worker("#!/bin/sh\necho \"sh says $0\"\nprintf '{\"shell\": \"sh\"}' > \"$JOBCTL_REPORT_DATA\"\n"),
			want:   want{status: "SUCCESS", reason: "^$", attempts: 1},
			logHas: []string{"sh says "},
		},
		{
			name:   "python body",
			needs:  "python3",
			w:      worker("#!/usr/bin/env python3\nimport json, os, sys\nprint('python says hi')\nprint('to stderr', file=sys.stderr)\njson.dump({'lang': 'python', 'π': 3.14}, open(os.environ['JOBCTL_REPORT_DATA'], 'w'))\nsys.exit(0)\n"),
			want:   want{status: "SUCCESS", reason: "^$", attempts: 1},
			logHas: []string{"python says hi", "to stderr"},
		},
		{
			name:   "python body failing",
			needs:  "python3",
			w:      worker("#!/usr/bin/env python3\nraise SystemExit('no model given')\n"),
			want:   want{status: "FAILURE", reason: "^exit status 1: no model given$", attempts: 1, exit: 1},
			logHas: []string{"no model given"},
		},
		{
			name:   "output without a final newline",
			w:      worker("#!/bin/bash\necho first\nprintf 'no newline at the end'"),
			want:   want{status: "SUCCESS", reason: "^$", attempts: 1},
			logHas: []string{" first\n", " no newline at the end\n"},
		},
		{
			name:   "failure without a final newline",
			w:      worker("#!/bin/bash\nprintf 'half a line'\nexit 1"),
			want:   want{status: "FAILURE", reason: "^exit status 1: half a line$", attempts: 1, exit: 1},
			logHas: []string{" half a line\n"},
		},
		{
			name: "lib functions and body line numbers",
			w: func() WorkerScript {
				w := worker("#!/bin/bash\ngreet world\necho \"nested: BASH_ENV=${BASH_ENV-unset} $(bash -c 'type -t greet || echo no greet')\"\nno_such_command_jobctl_test\n")
				w.Lib = []byte("# lib/sh/greet.sh\ngreet() {\n\techo \"hello $1 from the lib\"\n}")
				return w
			}(),
			want: want{status: "FAILURE", reason: `^exit status 127: .*\.jobctl/body: line 4: no_such_command_jobctl_test: command not found$`, attempts: 1, exit: 127},
			logHas: []string{"hello world from the lib", "nested: BASH_ENV=unset no greet",
				".jobctl/body: line 4: no_such_command_jobctl_test: command not found"},
		},
		{
			name:   "missing interpreter",
			w:      worker("#!/no/such/interpreter\necho hi\n"),
			want:   want{status: "FAILURE", reason: `^exit status 127: timeout: failed to run command .*\(check the shebang line of jobs/inspect_model/run\.sh: #!/no/such/interpreter\)$`, attempts: 1, exit: 127},
			logHas: []string{"timeout: failed to run command"},
		},
		{
			name: "stale files of an earlier build",
			w:    worker("#!/bin/sh\ntest ! -e report.json && test ! -e .jobctl/data.json && test ! -e .jobctl/junk\n"),
			setup: func(t *testing.T, ws string) {
				writeFile(t, filepath.Join(ws, "report.json"), `{"status":"stale"}`, 0o644)
				writeFile(t, filepath.Join(ws, ".jobctl", "data.json"), `{"stale":true}`, 0o644)
				writeFile(t, filepath.Join(ws, ".jobctl", "junk"), `x`, 0o644)
			},
			want: want{status: "SUCCESS", reason: "^$", attempts: 1},
		},
		{
			name:   "background processes left running",
			w:      worker("#!/bin/bash\nsleep 987651 &\necho started it\n"),
			want:   want{status: "SUCCESS", reason: "^$", attempts: 1},
			logHas: []string{"jobctl: stopping the processes the body left running"},
		},
		{
			name: "missing required params",
			w: func() WorkerScript {
				w := worker("#!/bin/sh\ntouch ran\n")
				w.Required = []string{"MODEL_URL", "CUSTOMER", "EMPTY", "ORDER"}
				w.Retries = 3
				return w
			}(),
			env:    []string{"MODEL_URL=x", "EMPTY=", "ORDER=$(touch pwned)"},
			want:   want{status: "FAILURE", reason: `^missing required param\(s\): CUSTOMER, EMPTY$`, attempts: 0, exit: 1},
			logHas: []string{`jobctl: set CUSTOMER, EMPTY when starting the build`},
		},
		{
			name: "tools",
			w: func() WorkerScript {
				w := worker("#!/bin/sh\ntouch ran\n")
				w.Tools = []ToolCheck{
					{Name: "node", Constraint: "~> 8.12", Probe: "node --version", Checks: []VersionCheck{{">=", "8.12"}, {"<", "9"}}},
					{Name: "java", Constraint: ">= 11", Probe: "java -version", Checks: []VersionCheck{{">=", "11"}}},
					{Name: "ghost", Constraint: ">= 1", Probe: "ghost --version", Checks: []VersionCheck{{">=", "1"}}},
					{Name: "mute", Constraint: "= 1.0", Probe: "mute", Checks: []VersionCheck{{"=", "1.0"}}},
				}
				return w
			}(),
			setup: func(t *testing.T, ws string) {
				bin := filepath.Join(ws, "bin")
				writeFile(t, filepath.Join(bin, "node"), "#!/bin/sh\necho v6.9.1\n", 0o755)
				writeFile(t, filepath.Join(bin, "java"), "#!/bin/sh\necho 'openjdk version \"17.0.2\" 2022-01-18' >&2\n", 0o755)
				writeFile(t, filepath.Join(bin, "mute"), "#!/bin/sh\necho 'no version, \"sorry\"'\necho 'try --help'\n", 0o755)
			},
			env: []string{"PATH=BIN:" + os.Getenv("PATH")},
			want: want{status: "FAILURE", attempts: 0, exit: 1, reason: `^needs node ~> 8\.12, found 6\.9\.1; ` +
				`needs ghost >= 1, ghost not found on PATH; ` +
				`needs mute = 1\.0, could not read a version from "no version, "sorry""$`},
			logHas: []string{"jobctl: found java 17.0.2 (>= 11)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := exec.LookPath(tt.needs); tt.needs != "" && err != nil {
				t.Skipf("%s is not installed", tt.needs)
			}
			var ws string
			r := run{script: mustRender(t, tt.w), env: append([]string(nil), tt.env...)}
			r.setup = func(t *testing.T, w string) {
				ws = w
				if tt.setup != nil {
					tt.setup(t, w)
				}
				// PATH=BIN:... names the workspace's bin folder, which only
				// exists once the run starts.
				for i, kv := range r.env {
					r.env[i] = strings.Replace(kv, "PATH=BIN:", "PATH="+filepath.Join(w, "bin")+":", 1)
				}
			}
			res := runWrapper(t, r)
			tt.want.check(t, res)
			for _, s := range tt.stdout {
				if !strings.Contains(res.stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, res.stdout)
				}
			}
			for _, s := range tt.logHas {
				if !strings.Contains(res.report.Log, s) {
					t.Errorf("log lacks %q:\n%s", s, res.report.Log)
				}
			}
			for _, s := range tt.logLack {
				if strings.Contains(res.report.Log, s) {
					t.Errorf("log has %q:\n%s", s, res.report.Log)
				}
			}
			if res.report.Process != "inspect_model" {
				t.Errorf("process %q", res.report.Process)
			}
			if res.report.Attempts == 0 {
				if _, err := os.Stat(filepath.Join(ws, "ran")); err == nil {
					t.Errorf("the body ran although the checks failed")
				}
			}
			if _, err := os.Stat(filepath.Join(ws, "pwned")); err == nil {
				t.Errorf("a value was executed")
			}
			if want := "{}"; res.report.Status == "FAILURE" && string(res.report.Data) != want {
				t.Errorf("data of a failure %s, want %s", res.report.Data, want)
			}
			noSurvivors(t, "987651")
		})
	}
}

func TestWrapperTimeout(t *testing.T) {
	t.Parallel()
	w := worker("#!/bin/bash\nsleep 987652 &\necho started a grandchild\nsleep 30\necho not reached\n")
	w.Timeout = 1500 * time.Millisecond
	w.Retries = 3
	res := runWrapper(t, run{script: mustRender(t, w), env: []string{"JOBCTL_RETRY_BACKOFF=0.01"}})
	want{status: "FAILURE", reason: `^timed out after 1\.5s$`, attempts: 1, exit: 124}.check(t, res)
	// Not a benchmark: the body would sleep for 30 s.
	if res.elapsed < w.Timeout || res.elapsed > w.Timeout+10*time.Second {
		t.Errorf("the run took %v with a timeout of %v", res.elapsed, w.Timeout)
	}
	if !strings.Contains(res.report.Log, "started a grandchild") {
		t.Errorf("log lacks the body's output:\n%s", res.report.Log)
	}
	noSurvivors(t, "987652")
}

func TestWrapperTimeoutAcrossAttempts(t *testing.T) {
	t.Parallel()
	// Every attempt fails after 0.3 s; the deadline falls in the seventh,
	// or earlier on a slow machine, but after more than one.
	w := worker("#!/bin/bash\nsleep 0.3\necho failing\nexit 5\n")
	w.Timeout = 2 * time.Second
	w.Retries = 9
	res := runWrapper(t, run{script: mustRender(t, w), env: []string{"JOBCTL_RETRY_BACKOFF=0.01"}})
	n := res.report.Attempts
	want{status: "FAILURE", reason: `^timed out after 2s$`, attempts: n, exit: 124}.check(t, res)
	if n < 2 || n > 7 {
		t.Errorf("%d attempts, want 2 to 7", n)
	}
}

func TestWrapperAbort(t *testing.T) {
	for _, sig := range []struct {
		sig  syscall.Signal
		name string
		exit int
	}{{syscall.SIGTERM, "SIGTERM", 143}, {syscall.SIGINT, "SIGINT", 130}, {syscall.SIGHUP, "SIGHUP", 129}} {
		t.Run(sig.name, func(t *testing.T) {
			t.Parallel()
			marker := strconv.Itoa(987660 + int(sig.sig))
			w := worker("#!/bin/bash\nsleep " + marker + " &\necho ready\nsleep " + marker + "\n")
			w.Retries = 2
			res := runWrapper(t, run{
				script: mustRender(t, w),
				during: func(t *testing.T, pid int, ws string) {
					waitForFile(t, filepath.Join(ws, ".jobctl", "log"), "ready")
					// As Jenkins does when a build is aborted.
					if err := syscall.Kill(-pid, sig.sig); err != nil {
						t.Fatal(err)
					}
				},
			})
			want{status: "FAILURE", reason: `^aborted \(` + sig.name + `\)$`, attempts: 1, exit: sig.exit}.check(t, res)
			if !strings.Contains(res.report.Log, "ready") {
				t.Errorf("log lacks the body's output:\n%s", res.report.Log)
			}
			noSurvivors(t, marker)
		})
	}
}

func TestWrapperData(t *testing.T) {
	t.Parallel()
	data := `{
  "model": {"faces": 1024, "volume_mm3": 12.5e3, "ok": true, "tags": ["a", "b", null],
            "empty": {}, "none": []},
  "name": "Zürich – 東京 😀 \u00e9\ud83d\ude00",
  "escapes": "quote \" backslash \\ slash \/ \b\f\n\r\t \u0000 \u001f",
  "numbers": [0, -0, -1.5, 1E+2, 3e-7, 123456789012345678901234567890]
}
`
	w := worker("#!/bin/bash\ncp payload \"$JOBCTL_REPORT_DATA\"\n")
	res := runWrapper(t, run{script: mustRender(t, w), setup: func(t *testing.T, ws string) {
		writeFile(t, filepath.Join(ws, "payload"), data, 0o644)
	}})
	want{status: "SUCCESS", reason: "^$", attempts: 1}.check(t, res)
	var wantData, gotData any
	if err := json.Unmarshal([]byte(data), &wantData); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(res.report.Data, &gotData); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantData, gotData); diff != "" {
		t.Errorf("data (-want +got):\n%s", diff)
	}
}

// TestWrapperDataOnFailure: a failing body may explain itself in its data
// (fits: false and why); valid data survives the failure, invalid data is
// dropped without hiding the failure's own reason.
func TestWrapperDataOnFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, wantData, logHas string
	}{
		{"valid data kept", `echo '{"fits": false, "reason": "too large by 50 mm in X"}' > "$JOBCTL_REPORT_DATA"; echo 'does not fit'; exit 1`, `{"fits": false, "reason": "too large by 50 mm in X"}`, "does not fit"},
		{"invalid data dropped", `echo '{"fits": ' > "$JOBCTL_REPORT_DATA"; echo 'does not fit'; exit 1`, `{}`, "the report data is dropped: report data in $JOBCTL_REPORT_DATA is not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runWrapper(t, run{script: mustRender(t, worker("#!/bin/bash\n"+tt.body+"\n"))})
			want{status: "FAILURE", reason: `^exit status 1: does not fit$`, attempts: 1, exit: 1}.check(t, res)
			var wantData, gotData any
			json.Unmarshal([]byte(tt.wantData), &wantData)
			if err := json.Unmarshal(res.report.Data, &gotData); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wantData, gotData); diff != "" {
				t.Errorf("data (-want +got):\n%s", diff)
			}
			if !strings.Contains(res.report.Log, tt.logHas) {
				t.Errorf("log lacks %q:\n%s", tt.logHas, res.report.Log)
			}
		})
	}
}

func TestWrapperInvalidData(t *testing.T) {
	big := `{"x": "` + strings.Repeat("a", 1<<20) + `"}`
	tests := []struct {
		name, data, reason string
	}{
		{"array", `[1, 2]`, `the top level must be an object, found "\["`},
		{"string", `"text"`, `the top level must be an object`},
		{"empty file", ``, `offset 0: empty document`},
		{"blank", " \n\t", `empty document`},
		{"unterminated", `{"a": 1`, `offset 7: unexpected end of input, expected "," or "}"`},
		{"trailing garbage", `{"a": 1} x`, `offset 9: unexpected "x" after the object`},
		{"two objects", `{}{}`, `after the object`},
		{"single quotes", `{'a': 1}`, `offset 1: unexpected "'", expected a string key`},
		{"leading zero", `{"a": 01}`, `expected "," or "}"`},
		{"bare minus", `{"a": -}`, `invalid number`},
		{"fraction", `{"a": 1.}`, `expected a digit after "."`},
		{"exponent", `{"a": 1e}`, `exponent`},
		{"plus", `{"a": +1}`, `expected a value`},
		{"control character", "{\"a\": \"tab\there\"}", `unescaped control character \(byte 0x09\)`},
		{"bad escape", `{"a": "\q"}`, `invalid escape`},
		{"short unicode escape", `{"a": "\u12g4"}`, `invalid \\u escape`},
		{"literal", `{"a": tru}`, `invalid literal, expected true`},
		{"trailing comma", `{"a": 1,}`, `expected a string key`},
		{"missing colon", `{"a" 1}`, `expected ":"`},
		{"unclosed array", `{"a": [1, 2}`, `expected "," or "\]"`},
		{"deep", `{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, `nested deeper than 64 levels`},
		{"invalid UTF-8", "{\"a\": \"\xff\xfe\"}", `not valid UTF-8`},
		{"NUL", "{\"a\": 1}\x00", `offset 8: unexpected byte 0x00 after the object`},
		{"NUL in a string", "{\"a\": \"\x00\"}", `offset 7: unescaped control character \(byte 0x00\) in a string`},
		{"0x01 at the end", "{\"a\": 1}\x01", `offset 8: unexpected byte 0x01 after the object`},
		{"0x01 inside", "{\"a\": \"x\x01\"}", `offset 8: unescaped control character \(byte 0x01\)`},
		{"BOM", "\xef\xbb\xbf{}", `found byte 0xef`},
		{"too big", big, `is 1048585 bytes, more than the limit of 1 MiB`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := worker("#!/bin/bash\necho writing data\ncp payload \"$JOBCTL_REPORT_DATA\"\n")
			w.Retries = 2 // bad data is not retried
			res := runWrapper(t, run{script: mustRender(t, w), setup: func(t *testing.T, ws string) {
				writeFile(t, filepath.Join(ws, "payload"), tt.data, 0o644)
			}})
			want{status: "FAILURE", reason: `^report data in \$JOBCTL_REPORT_DATA .*` + tt.reason, attempts: 1, exit: 1}.check(t, res)
			if string(res.report.Data) != "{}" {
				t.Errorf("data %s, want {}", res.report.Data)
			}
		})
	}
}

// bigInt compares dotted versions as the wrapper must: numerically, segment
// by segment, missing segments 0, segments of any length.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		x, y := "", ""
		if i < len(as) {
			x = strings.TrimLeft(as[i], "0")
		}
		if i < len(bs) {
			y = strings.TrimLeft(bs[i], "0")
		}
		if len(x) != len(y) {
			if len(x) < len(y) {
				return -1
			}
			return 1
		}
		if c := strings.Compare(x, y); c != 0 {
			return c
		}
	}
	return 0
}

func holds(found string, c VersionCheck) bool {
	n := compareVersions(found, c.Version)
	return map[string]bool{"=": n == 0, "!=": n != 0, ">": n > 0, "<": n < 0, ">=": n >= 0, "<=": n <= 0}[c.Op]
}

// TestWrapperVersionChecks checks many comparisons in one run: one fake
// tool per case, each probe printing the found version; the reason lists
// exactly the failing ones.
func TestWrapperVersionChecks(t *testing.T) {
	t.Parallel()
	found := []string{"8.12", "8.12.0", "8.9.1", "8.100", "9", "08.012", "10.0.0.1", "0", "99999999999999999999.1", "1.2.3"}
	against := []string{"8.12", "8.12.0.0", "9", "8.13", "1.2.3", "99999999999999999999", "0.0"}
	ops := []string{"=", "!=", ">", "<", ">=", "<="}
	w := worker("#!/bin/sh\n")
	var failures []string
	rng := rand.New(rand.NewPCG(7, 7))
	for i := 0; i < 120; i++ {
		f := found[rng.IntN(len(found))]
		c := VersionCheck{Op: ops[rng.IntN(len(ops))], Version: against[rng.IntN(len(against))]}
		name := fmt.Sprintf("t%d", i)
		constraint := c.Op + " " + c.Version
		w.Tools = append(w.Tools, ToolCheck{Name: name, Constraint: constraint, Probe: "echo 'tool version v" + f + ", built today'", Checks: []VersionCheck{c}})
		if !holds(f, c) {
			failures = append(failures, fmt.Sprintf("needs %s %s, found %s", name, constraint, f))
		}
	}
	res := runWrapper(t, run{script: mustRender(t, w)})
	if diff := cmp.Diff(strings.Join(failures, "; "), res.report.Reason); diff != "" {
		t.Errorf("reason (-want +got):\n%s", diff)
	}
}

// The break-out strings: what a user can type in a name, a path, a
// constraint or a body, and which must come out as data.
func breakOut(marker string) []string {
	return []string{
		`'`, `'\''`, `"`, `\`, `$(touch ` + marker + `)`, "`touch " + marker + "`", `${HOME}`, `$HOME`,
		"JOBCTL_BODY_1", "JOBCTL_LIB_1", "EOF", "line\r\nwith CRLF", "new\nline", "tab\there",
		"Zürich 東京 😀", "\x01\x02\x1b[31m\x7f", "\xff\xfe not UTF-8", `%s %d %%`, `!!`, `*`, `~`, `\'`,
	}
}

func TestWrapperEscaping(t *testing.T) {
	for _, locale := range []string{"C", "C.UTF-8"} {
		t.Run(locale, func(t *testing.T) {
			t.Parallel()
			marker := filepath.Join(t.TempDir(), "pwned")
			nasty := breakOut(marker)
			all := strings.Join(nasty, " ")
			// The body exits before its nasty part; sh reads a script as it
			// runs it.
			body := "#!/bin/sh\ntouch ran\nexit 0\n" + strings.Join(nasty, "\n") + "\nJOBCTL_BODY_2\nno final newline " + all
			lib := strings.Join(nasty, "\n")
			w := WorkerScript{
				Process:  "process " + strings.ToValidUTF8(all, "?"),
				Deployed: "deployed-v1-0123456789ab",
				Source:   "jobs/" + all + "/run.sh",
				Body:     []byte(body),
				Lib:      []byte(lib),
				Required: []string{"P1"},
				Tools: []ToolCheck{
					{Name: "tool+x.y-z_", Constraint: "~> " + all, Probe: "echo 1.0", Checks: []VersionCheck{{">=", "2"}}},
				},
				Retries: 1,
			}
			script := mustRender(t, w)
			// The body has lines JOBCTL_BODY_1 and _2, the lib JOBCTL_LIB_1.
			for _, d := range []string{"<<'JOBCTL_BODY_3' || :\n", "\nJOBCTL_BODY_3\n", "<<'JOBCTL_LIB_2' || :\n", "\nJOBCTL_LIB_2\n"} {
				if !strings.Contains(script, d) {
					t.Errorf("the script lacks %q", d)
				}
			}
			if diff := cmp.Diff(wantHeader(w), headerValues(t, script, locale)); diff != "" {
				t.Errorf("header values (-want +got):\n%s", diff)
			}
			// The tool check fails: its constraint comes back in the reason.
			res := runWrapper(t, run{script: script, env: []string{"LC_ALL=" + locale, "P1=" + all}})
			want{status: "FAILURE", reason: ".", attempts: 0, exit: 1}.check(t, res)
			wantReason := strings.ToValidUTF8("needs tool+x.y-z_ ~> "+all+", found 1.0", "")
			if diff := cmp.Diff(wantReason, res.report.Reason); diff != "" {
				t.Errorf("reason (-want +got):\n%s", diff)
			}
			if res.report.Process != w.Process {
				t.Errorf("process %q, want %q", res.report.Process, w.Process)
			}
			// Now one that runs the body.
			w.Tools = nil
			res = runWrapper(t, run{script: mustRender(t, w), env: []string{"LC_ALL=" + locale, "P1=" + all}})
			want{status: "SUCCESS", reason: "^$", attempts: 1}.check(t, res)
			gotBody, err := os.ReadFile(filepath.Join(res.ws, ".jobctl", "body"))
			if err != nil || !bytes.Equal(gotBody, []byte(body)) {
				t.Errorf("body on disk %q (%v), want %q", gotBody, err, body)
			}
			gotLib, err := os.ReadFile(filepath.Join(res.ws, ".jobctl", "lib.sh"))
			if wantLib := lib + "\nunset BASH_ENV\n"; err != nil || string(gotLib) != wantLib {
				t.Errorf("lib on disk %q (%v), want %q", gotLib, err, wantLib)
			}
			if _, err := os.Stat(filepath.Join(res.ws, "ran")); err != nil {
				t.Errorf("the body did not run")
			}
			if !strings.Contains(res.stdout, "`touch "+marker+"`") {
				t.Errorf("stdout lacks the source path:\n%s", res.stdout)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Errorf("a value was executed: %s exists", marker)
			}
		})
	}
}

func TestRenderWorkerScriptErrors(t *testing.T) {
	ok := worker("#!/bin/sh\n")
	tests := []struct {
		name   string
		modify func(w *WorkerScript)
		want   string
	}{
		{"no process", func(w *WorkerScript) { w.Process = "" }, "process name is empty"},
		{"NUL in process", func(w *WorkerScript) { w.Process = "a\x00b" }, "process name contains a NUL byte"},
		{"quote in deployed", func(w *WorkerScript) { w.Deployed = "x'y" }, `deployed name "x'y" contains a quote or a control character`},
		{"newline in deployed", func(w *WorkerScript) { w.Deployed = "x\ny" }, "contains a quote or a control character"},
		{"no shebang", func(w *WorkerScript) { w.Body = []byte("echo hi\n") }, "body jobs/inspect_model/run.sh does not start with a shebang line (#!)"},
		{"empty body", func(w *WorkerScript) { w.Body = nil }, "does not start with a shebang line"},
		{"NUL in body", func(w *WorkerScript) { w.Body = []byte("#!/bin/sh\n\x00") }, "body contains a NUL byte"},
		{"NUL in lib", func(w *WorkerScript) { w.Lib = []byte("\x00") }, "lib contains a NUL byte"},
		{"negative timeout", func(w *WorkerScript) { w.Timeout = -time.Second }, "timeout -1s is negative"},
		{"negative retries", func(w *WorkerScript) { w.Retries = -1 }, "retries -1 is negative"},
		{"param with a quote", func(w *WorkerScript) { w.Required = []string{"A'B"} }, `required param "A'B" is not a valid environment variable name`},
		{"param with $()", func(w *WorkerScript) { w.Required = []string{"$(touch x)"} }, `not a valid environment variable name`},
		{"param starting with a digit", func(w *WorkerScript) { w.Required = []string{"1A"} }, `not a valid environment variable name`},
		{"param twice", func(w *WorkerScript) { w.Required = []string{"A", "A"} }, `required param A is listed twice`},
		{"tool with a quote", func(w *WorkerScript) {
			w.Tools = []ToolCheck{{Name: "no'de", Probe: "x"}}
		}, `tool name "no'de" is invalid`},
		{"tool with a space", func(w *WorkerScript) { w.Tools = []ToolCheck{{Name: "a b", Probe: "x"}} }, `tool name "a b" is invalid`},
		{"tool starting with a dash", func(w *WorkerScript) { w.Tools = []ToolCheck{{Name: "-x", Probe: "x"}} }, `tool name "-x" is invalid`},
		{"empty probe", func(w *WorkerScript) { w.Tools = []ToolCheck{{Name: "node", Probe: " "}} }, `tool node has an empty probe`},
		{"bad op", func(w *WorkerScript) {
			w.Tools = []ToolCheck{{Name: "node", Probe: "x", Checks: []VersionCheck{{"~>", "1"}}}}
		}, `tool node: invalid version operator "~>"`},
		{"bad version", func(w *WorkerScript) {
			w.Tools = []ToolCheck{{Name: "node", Probe: "x", Checks: []VersionCheck{{">=", "1.x"}}}}
		}, `tool node: invalid version "1.x"`},
		{"version with a space", func(w *WorkerScript) {
			w.Tools = []ToolCheck{{Name: "node", Probe: "x", Checks: []VersionCheck{{">=", "1 <= 2"}}}}
		}, `tool node: invalid version "1 <= 2"`},
		{"empty version", func(w *WorkerScript) {
			w.Tools = []ToolCheck{{Name: "node", Probe: "x", Checks: []VersionCheck{{">=", ""}}}}
		}, `tool node: invalid version ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := ok
			tt.modify(&w)
			_, err := RenderWorkerScript(w)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("RenderWorkerScript: %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if _, err := RenderWorkerScript(ok); err != nil {
		t.Errorf("RenderWorkerScript(valid): %v", err)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "", 90 * time.Second: "1m30s", time.Hour: "1h", time.Hour + 5*time.Second: "1h5s",
		1500 * time.Millisecond: "1.5s", 250 * time.Millisecond: "250ms", time.Microsecond: "1ms",
		2*time.Hour + 30*time.Minute: "2h30m", 61*time.Second + 5*time.Millisecond: "1m1.005s",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// golden is the fixed input of the golden file.
func golden() WorkerScript {
	return WorkerScript{
		Process:  "inspect_model",
		Deployed: "inspect_model-v3-3f9a0c1d2e4b",
		Source:   "jobs/inspect_model/run.sh",
		Body:     []byte("#!/usr/bin/env bash\n# Inspect an uploaded 3D model.\nset -euo pipefail\nfetch_model \"$MODEL_URL\" model.stl\necho '{\"faces\": 1024}' > \"$JOBCTL_REPORT_DATA\"\n"),
		Lib:      []byte("# lib/sh/fetch.sh\nfetch_model() {\n\tcurl -fsSL -o \"$2\" \"$1\"\n}\n"),
		Timeout:  90 * time.Second,
		Retries:  2,
		Required: []string{"MODEL_URL", "CUSTOMER"},
		Tools: []ToolCheck{
			{Name: "node", Constraint: "~> 8.12", Probe: "node --version", Checks: []VersionCheck{{">=", "8.12"}, {"<", "9"}}},
			{Name: "java", Constraint: ">= 11, != 13", Probe: "java -version", Checks: []VersionCheck{{">=", "11"}, {"!=", "13"}}},
		},
	}
}

func TestWrapperGolden(t *testing.T) {
	got := mustRender(t, golden())
	path := filepath.Join("testdata", "wrapper", "golden.sh")
	if *update {
		writeFile(t, path, got, 0o644)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./templates -run Golden -update)", err)
	}
	if diff := cmp.Diff(string(b), got); diff != "" {
		t.Errorf("%s is out of date (-want +got); run go test ./templates -run Golden -update\n%s", path, diff)
	}
	again := mustRender(t, golden())
	if again != got {
		t.Errorf("rendering twice gave different scripts")
	}
	if n := strings.Count(got, golden().Deployed); n != 1 {
		t.Errorf("the deployed name appears %d times, want once", n)
	}
	if !strings.HasPrefix(got, "#!/bin/bash\n") {
		t.Errorf("the script does not start with #!/bin/bash")
	}
	if _, err := exec.LookPath("bash"); err == nil {
		bashN(t, got)
	}
}

// bashN checks the script's syntax with bash -n.
func bashN(t testing.TB, script string) {
	t.Helper()
	cmd := exec.Command("bash", "-n")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
}

// wantHeader is what the header must assign, in the order headerValues
// prints it.
func wantHeader(w WorkerScript) []string {
	v := []string{w.Deployed, w.Process, w.Source, strconv.FormatInt(timeoutMillis(w.Timeout), 10), formatDuration(w.Timeout), strconv.Itoa(w.Retries)}
	v = append(v, strconv.Itoa(len(w.Required)))
	v = append(v, w.Required...)
	v = append(v, strconv.Itoa(len(w.Tools)))
	for _, tl := range w.Tools {
		var cs []string
		for _, c := range tl.Checks {
			cs = append(cs, c.Op+" "+c.Version)
		}
		v = append(v, tl.Name, tl.Constraint, tl.Probe, strings.Join(cs, " "))
	}
	return append(v, string(w.Body), string(w.Lib))
}

// headerValues runs the generated header of script under bash and returns
// the values it assigned.
func headerValues(t testing.TB, script, locale string) []string {
	t.Helper()
	header, ok := strings.CutSuffix(script, wrapperScript)
	if !ok {
		t.Fatalf("the script does not end with the wrapper")
	}
	dump := `
printf '%s\0' "$JOBCTL_DEPLOYED" "$JOBCTL_PROCESS" "$JOBCTL_SOURCE" "$JOBCTL_TIMEOUT_MS" "$JOBCTL_TIMEOUT_TEXT" "$JOBCTL_RETRIES" \
	"${#JOBCTL_REQUIRED[@]}" "${JOBCTL_REQUIRED[@]}" "${#JOBCTL_TOOL_NAMES[@]}"
for i in "${!JOBCTL_TOOL_NAMES[@]}"; do
	printf '%s\0' "${JOBCTL_TOOL_NAMES[i]}" "${JOBCTL_TOOL_CONSTRAINTS[i]}" "${JOBCTL_TOOL_PROBES[i]}" "${JOBCTL_TOOL_CHECKS[i]}"
done
printf '%s\0' "$JOBCTL_BODY" "$JOBCTL_LIB"
`
	cmd := exec.Command("bash", "-s")
	cmd.Stdin = strings.NewReader(header + dump)
	cmd.Env = append(cleanEnv(), "LC_ALL="+locale)
	cmd.Dir = t.TempDir() // a break-out would land here
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("running the header: %v\n%s", err, stderr.Bytes())
	}
	if entries, _ := os.ReadDir(cmd.Dir); len(entries) > 0 {
		t.Errorf("running the header created files: %v", entries)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
}

var fuzzBash = os.Getenv("JOBCTL_FUZZ_BASH") != ""

// FuzzRenderWorkerScript renders random input. The script must render
// without panicking or be refused; a rendered script must pass bash -n and
// its header, run under bash, must assign exactly the input. Bash runs for
// the seed corpus and, while fuzzing, only with JOBCTL_FUZZ_BASH=1, so that
// the fuzz loop stays fast without it.
func FuzzRenderWorkerScript(f *testing.F) {
	marker := "/tmp/jobctl-fuzz-pwned"
	for _, s := range breakOut(marker) {
		f.Add(s, s, "#!/bin/sh\n"+s, s, s, "A_1", 1, int64(time.Second))
	}
	f.Add("p", "jobs/p/run.sh", "#!/bin/bash\nJOBCTL_BODY_1\nJOBCTL_BODY_2\n", "JOBCTL_LIB_1", "~> 8.12", "X", 0, int64(0))
	f.Add("p", "s", "#!/bin/bash\n\n", "\n", "", "X", 3, int64(1500*time.Millisecond))
	fuzzing := flag.Lookup("test.fuzz").Value.String() != ""
	f.Fuzz(func(t *testing.T, process, source, body, lib, constraint, param string, retries int, timeout int64) {
		w := WorkerScript{
			Process: process, Deployed: "x-v1-0123456789ab", Source: source, Body: []byte(body), Lib: []byte(lib),
			Retries: retries, Timeout: time.Duration(timeout), Required: []string{param},
			Tools: []ToolCheck{{Name: "node", Constraint: constraint, Probe: constraint, Checks: []VersionCheck{{">=", "1.2"}}}},
		}
		if _, err := RenderWorkerScript(w); err != nil {
			// Refused as it is: make it valid, so that every input renders.
			noNUL := func(s string) string { return strings.ReplaceAll(s, "\x00", "") }
			w.Process = "p" + noNUL(process)
			w.Source = noNUL(source)
			w.Body = []byte("#!" + noNUL(strings.TrimPrefix(body, "#!")))
			w.Lib = []byte(noNUL(lib))
			w.Retries = retries & 0xff
			w.Timeout = time.Duration(timeout & 0xffffffffffff)
			w.Required = []string{"P_" + strings.Map(func(r rune) rune {
				if r < 0x80 && envName.MatchString(string(r)) {
					return r
				}
				return -1
			}, param)}
			w.Tools[0].Constraint = noNUL(constraint)
			w.Tools[0].Probe = "x" + noNUL(constraint)
		}
		script, err := RenderWorkerScript(w)
		if err != nil {
			t.Fatalf("RenderWorkerScript(%#v): %v", w, err)
		}
		if !strings.HasSuffix(script, wrapperScript) || strings.Count(script, w.Deployed) != 1 {
			t.Fatalf("malformed script")
		}
		if fuzzing && !fuzzBash {
			return
		}
		if _, err := exec.LookPath("bash"); err != nil {
			return
		}
		bashN(t, script)
		if diff := cmp.Diff(wantHeader(w), headerValues(t, script, "C.UTF-8")); diff != "" {
			t.Errorf("header values (-want +got):\n%s", diff)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("%s exists: a value was executed", marker)
		}
	})
}

// jsonAwk is the JSON validator of wrapper.sh.
func jsonAwk(t testing.TB) string {
	t.Helper()
	_, rest, ok := strings.Cut(wrapperScript, "\nJOBCTL_JSON_AWK='")
	prog, _, ok2 := strings.Cut(rest, "\n'\n")
	if !ok || !ok2 || strings.Contains(prog, "'") {
		t.Fatal("cannot find JOBCTL_JSON_AWK in wrapper.sh")
	}
	return prog
}

// awks are the awk implementations the validator must work with; those
// installed here are tested.
func awks(t testing.TB) map[string][]string {
	t.Helper()
	found := map[string][]string{}
	for _, a := range [][]string{{"awk"}, {"mawk"}, {"gawk"}, {"original-awk"}, {"busybox", "awk"}} {
		if p, err := exec.LookPath(a[0]); err == nil {
			if a[0] == "busybox" && exec.Command(p, "awk", "BEGIN{}").Run() != nil {
				continue
			}
			found[strings.Join(a, " ")] = append([]string{p}, a[1:]...)
		}
	}
	if len(found) == 0 {
		t.Skip("no awk installed")
	}
	return found
}

// validateJSON runs the validator as the wrapper does.
func validateJSON(t testing.TB, awk []string, prog string, doc []byte) (bool, string) {
	t.Helper()
	args := append(append([]string(nil), awk[1:]...), "-v", "size="+strconv.Itoa(len(doc)), prog)
	cmd := exec.Command(awk[0], args...)
	cmd.Env = append(cleanEnv(), "LC_ALL=C")
	cmd.Stdin = bytes.NewReader(doc)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		want := ""
		if bytes.ContainsFunc(doc, func(r rune) bool { return r >= 0x80 }) {
			want = "not ASCII\n"
		}
		if string(out) != want {
			t.Errorf("%s: valid %q, but printed %q, want %q", awk, doc, out, want)
		}
		return true, ""
	case errors.As(err, &exit) && exit.ExitCode() == 1 && bytes.HasPrefix(out, []byte("offset ")):
		return false, strings.TrimSuffix(string(out), "\n")
	default:
		t.Fatalf("%s on %q: %v: %s", awk, doc, err, out)
		return false, ""
	}
}

// wantValid is what the validator must decide: valid JSON, an object at the
// top, nested at most 64 levels deep.
func wantValid(doc []byte) bool {
	if !json.Valid(doc) || len(bytes.TrimLeft(doc, " \t\r\n")) == 0 || bytes.TrimLeft(doc, " \t\r\n")[0] != '{' {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	depth, deepest := 0, 0
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
			deepest = max(deepest, depth)
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return deepest <= 64
}

var jsonCases = []string{
	`{}`, ` { } `, "\n{\"a\":1}\n", `{"a":{"b":{"c":[1,2,[3,[]]]}}}`, `{"a":"\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t"}`,
	`{"":0,"x":-0,"y":-0.0e+0,"z":1E-7,"w":123456789012345678901234567890.5}`, `{"a":true,"b":false,"c":null}`,
	`{"a":"ü 東京 \xff"}`, `{"a":1,"a":2}`, `{"a" : [ 1 , 2 ] , "b" : { } }`,
	`[]`, `1`, `"s"`, `null`, ``, ` `, `{`, `}`, `{"a"}`, `{"a":}`, `{,}`, `{"a":1,}`, `{"a":[1,]}`, `{"a":[,1]}`,
	`{"a":01}`, `{"a":1.}`, `{"a":.1}`, `{"a":-}`, `{"a":1e}`, `{"a":1e+}`, `{"a":+1}`, `{"a":0x1}`, `{"a":NaN}`,
	`{"a":Infinity}`, `{"a":tru}`, `{"a":nul}`, `{"a":True}`, `{"a":"\x"}`, `{"a":"\u12"}`, `{"a":"\u12G4"}`,
	`{"a":"` + "\t" + `"}`, `{"a":"` + "\n" + `"}`, `{"a":"x` + "\x01" + `"}`, "{}\x01", "\x01{}", `{"a":"unterminated}`,
	`{'a':1}`, `{a:1}`, `{"a":1}}`, `{"a":1}]`, `{"a":1} {}`, `{"a":1}x`, "\xef\xbb\xbf{}", `{"a":[[[[]]]]}`,
	"{\"a\":\f1}", "{\"a\":\v1}", "{\"a\":1}\x00", "{\"a\":\"\x00\"}", "\x00{}", "{\"\xff\":\"\x80\"}", `{"a":"\/"}`, `{"a":1.5e308}`, `{"\u0000":1}`,
	`{"a":` + strings.Repeat("[", 63) + strings.Repeat("]", 63) + `}`,
	`{"a":` + strings.Repeat("[", 64) + strings.Repeat("]", 64) + `}`,
	`{"a":` + strings.Repeat(`{"a":`, 200) + `1` + strings.Repeat("}", 200) + `}`,
}

func TestJSONValidator(t *testing.T) {
	prog := jsonAwk(t)
	for name, awk := range awks(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, c := range jsonCases {
				ok, msg := validateJSON(t, awk, prog, []byte(c))
				if want := wantValid([]byte(c)); ok != want {
					t.Errorf("validate(%q) = %v (%s), want %v", c, ok, msg, want)
				}
			}
		})
	}
}

func FuzzJSONValidator(f *testing.F) {
	for _, c := range jsonCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		prog := jsonAwk(t)
		for name, awk := range awks(t) {
			if ok, msg := validateJSON(t, awk, prog, doc); ok != wantValid(doc) {
				t.Errorf("%s: validate(%q) = %v (%s), want %v", name, doc, ok, msg, !ok)
			}
		}
	})
}

// TestWrapperAwks runs the data checks through every awk installed, as the
// agent's awk.
func TestWrapperAwks(t *testing.T) {
	for name, awk := range awks(t) {
		if len(awk) > 1 {
			continue // busybox awk: not as a plain command
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			bin := t.TempDir()
			if err := os.Symlink(awk[0], filepath.Join(bin, "awk")); err != nil {
				t.Fatal(err)
			}
			env := []string{"PATH=" + bin + ":" + os.Getenv("PATH")}
			good := `{"faces": [1, 2, {"x": "\u00e9"}], "ok": true}`
			w := worker("#!/bin/bash\nfor i in $(seq 1 80); do echo \"line $i\"; done\ncp payload \"$JOBCTL_REPORT_DATA\"\n")
			res := runWrapper(t, run{script: mustRender(t, w), env: env, setup: func(t *testing.T, ws string) {
				writeFile(t, filepath.Join(ws, "payload"), good, 0o644)
			}})
			want{status: "SUCCESS", reason: "^$", attempts: 1}.check(t, res)
			if !json.Valid(res.report.Data) || !strings.Contains(string(res.report.Data), "faces") {
				t.Errorf("data %s", res.report.Data)
			}
			if !strings.Contains(res.report.Log, " line 80\n") || strings.Contains(res.report.Log, " line 30\n") {
				t.Errorf("log is not the last 50 lines:\n%s", res.report.Log)
			}
			res = runWrapper(t, run{script: mustRender(t, w), env: env, setup: func(t *testing.T, ws string) {
				writeFile(t, filepath.Join(ws, "payload"), `{"faces": [1, 2,]}`, 0o644)
			}})
			want{status: "FAILURE", reason: `^report data in \$JOBCTL_REPORT_DATA is not a JSON object: offset 16: unexpected "\]", expected a value$`, attempts: 1, exit: 1}.check(t, res)
		})
	}
}

func TestWrapperLongLog(t *testing.T) {
	t.Parallel()
	// 50 lines of 1000 bytes do not fit in 16 KiB; a 20000-byte last line
	// alone does not either.
	w := worker("#!/bin/bash\nfor i in $(seq 1 60); do printf 'line %04d %0990d\\n' $i 0; done\nprintf '%020000d' 7\nexit 1\n")
	res := runWrapper(t, run{script: mustRender(t, w)})
	want{status: "FAILURE", reason: `^exit status 1: 0{500}\.\.\.$`, attempts: 1, exit: 1}.check(t, res)
	if lines := strings.Split(res.report.Log, "\n"); len(lines) != 2 || !strings.Contains(lines[0], "jobctl: FAILURE: exit status 1: 000") {
		t.Errorf("log is %q, want the last line only: the one before does not fit", res.report.Log)
	}
	w = worker("#!/bin/bash\nfor i in $(seq 1 60); do printf 'line %04d %0990d\\n' $i 0; done\n")
	res = runWrapper(t, run{script: mustRender(t, w)})
	lines := strings.Split(strings.TrimSuffix(res.report.Log, "\n"), "\n")
	if len(lines) != 16 || !strings.Contains(lines[0], "line 0046") || !strings.Contains(lines[15], "jobctl: SUCCESS") {
		t.Errorf("log has %d lines starting with %q, want the last 15 of the body's (as many as fit in 16 KiB) and the wrapper's last", len(lines), lines[0][:40])
	}
	w = worker("#!/bin/bash\nprintf '%020000d' 7\n")
	script := strings.Replace(mustRender(t, w), "\njobctl_log \"SUCCESS in $JOBCTL_TXT\"\n", "\n: # no SUCCESS line\n", 1)
	res = runWrapper(t, run{script: script})
	if lines := strings.Split(res.report.Log, "\n"); len(lines) != 2 || !strings.HasSuffix(lines[0], " [...]"+strings.Repeat("0", 16353)+"7") {
		t.Errorf("log is %.100q..., want the end of the 20000-byte line", res.report.Log)
	}
}

func TestWrapperWithoutEpochRealtime(t *testing.T) {
	t.Parallel()
	w := worker("#!/bin/bash\necho hello\nexit $(( JOBCTL_ATTEMPT == 1 ))\n")
	w.Retries = 1
	w.Timeout = time.Minute
	script := strings.Replace(mustRender(t, w), "\n", "\nunset EPOCHREALTIME # bash < 5\n", 1)
	res := runWrapper(t, run{script: script, env: []string{"JOBCTL_RETRY_BACKOFF=0.01"}})
	want{status: "SUCCESS", reason: "^$", attempts: 2}.check(t, res)
	for _, l := range strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n") {
		if l[19:24] != ".000 " {
			t.Errorf("line %q: want whole seconds", l)
		}
	}
}

// minimalPath is a PATH with only what the wrapper may assume on an agent
// (bash, coreutils, awk, iconv) and extra.
func minimalPath(t *testing.T, extra ...string) string {
	t.Helper()
	bin := t.TempDir()
	for _, c := range append([]string{"bash", "timeout", "rm", "mkdir", "mkfifo", "cp", "wc", "tr", "awk", "iconv", "mv", "chmod", "sleep", "seq"}, extra...) {
		p, err := exec.LookPath(c)
		if err != nil {
			t.Skipf("%s is not installed", c)
		}
		if err := os.Symlink(p, filepath.Join(bin, c)); err != nil {
			t.Fatal(err)
		}
	}
	return bin
}

func TestWrapperMinimalAgent(t *testing.T) {
	t.Parallel()
	w := worker("#!/bin/bash\necho '{\"a\": 1}' > \"$JOBCTL_REPORT_DATA\"\necho 'ü done'\n")
	w.Required = []string{"A"}
	w.Tools = []ToolCheck{{Name: "bash", Constraint: ">= 4.4", Probe: "bash --version", Checks: []VersionCheck{{">=", "4.4"}}}}
	res := runWrapper(t, run{script: mustRender(t, w), env: []string{
		"PATH=" + minimalPath(t), "A=1", "REPORT_RETURN_URL=https://user:s3cret@example.invalid/cb"}})
	want{status: "SUCCESS", reason: "^$", attempts: 1}.check(t, res)
	if s := "jobctl: curl is not installed: the report could not be delivered to https://***@example.invalid/cb"; !strings.Contains(res.stdout, s) {
		t.Errorf("stdout lacks %q:\n%s", s, res.stdout)
	}
	if strings.Contains(res.stdout, "s3cret") {
		t.Errorf("stdout shows the URL's password:\n%s", res.stdout)
	}
}

func needCurl(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
}

// execWrapper runs a rendered wrapper in ws; unlike runWrapper, it is safe
// to call from any goroutine. The result's report is left to the caller.
func execWrapper(script, ws string, env []string) (result, error) {
	res := result{ws: ws}
	path := filepath.Join(ws, "..", filepath.Base(ws)+".sh")
	if err := os.WriteFile(path, []byte(script), 0o700); err != nil {
		return res, err
	}
	cmd := exec.Command("bash", path)
	cmd.Dir = ws
	cmd.Env = append(append(cleanEnv(), "WORKSPACE="+ws), env...)
	cmd.WaitDelay = 20 * time.Second
	start := time.Now()
	out, err := cmd.CombinedOutput()
	res.stdout, res.elapsed = string(out), time.Since(start)
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.Exited() {
		res.exit, err = exit.ExitCode(), nil
	}
	return res, err
}

// TestWrapperCallback runs 100 wrappers that each POST their report to a
// server that fails half of the requests, at random, with a 500 or by
// dropping the connection: every report must arrive.
func TestWrapperCallback(t *testing.T) {
	needBash(t)
	needCurl(t)
	const runs, parallel = 100, 8
	var (
		mu       sync.Mutex
		rng      = rand.New(rand.NewPCG(20240611, 1))
		got      = map[string][]byte{}
		requests int
		problems []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		mu.Lock()
		requests++
		fail, how := rng.IntN(2) == 0, rng.IntN(2)
		mu.Unlock()
		if fail && how == 0 {
			http.Error(w, "try again later", http.StatusInternalServerError)
			return
		}
		if fail {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		var rep report
		var data struct {
			Run string `json:"run"`
		}
		if err == nil {
			err = json.Unmarshal(body, &rep)
		}
		if err == nil {
			err = json.Unmarshal(rep.Data, &data)
		}
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err != nil || r.Header.Get("Content-Type") != "application/json" || r.Method != http.MethodPost:
			problems = append(problems, fmt.Sprintf("%s %s: %v: %q", r.Method, r.Header.Get("Content-Type"), err, body))
			http.Error(w, "bad report", http.StatusBadRequest)
			return
		case got[data.Run] != nil:
			problems = append(problems, "report of run "+data.Run+" delivered twice")
		}
		got[data.Run] = body
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	w := worker("#!/bin/bash\necho \"run $RUN_ID\"\nprintf '{\"run\": \"%s\"}' \"$RUN_ID\" > \"$JOBCTL_REPORT_DATA\"\n")
	w.Required = []string{"RUN_ID"}
	script := mustRender(t, w)
	root := t.TempDir()
	results := make([]result, runs)
	errs := make([]error, runs)
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range runs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ws := filepath.Join(root, fmt.Sprintf("ws%03d", i))
			if errs[i] = os.Mkdir(ws, 0o755); errs[i] != nil {
				return
			}
			results[i], errs[i] = execWrapper(script, ws, []string{
				"RUN_ID=" + strconv.Itoa(i), "REPORT_RETURN_URL=" + srv.URL + "/reports?run=" + strconv.Itoa(i),
				"JOBCTL_CALLBACK_BACKOFF=0.01"})
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	for i, res := range results {
		if errs[i] != nil {
			t.Errorf("run %d: %v\n%s", i, errs[i], res.stdout)
			continue
		}
		var err error
		if res.raw, err = os.ReadFile(filepath.Join(res.ws, "report.json")); err != nil {
			t.Errorf("run %d: %v", i, err)
			continue
		}
		res.report = decodeReport(t, res.raw)
		checkReport(t, res)
		want{status: "SUCCESS", reason: "^$", attempts: 1}.check(t, res)
		if !bytes.Equal(got[strconv.Itoa(i)], res.raw) {
			t.Errorf("run %d: delivered %q, want report.json %q\n%s", i, got[strconv.Itoa(i)], res.raw, res.stdout)
		}
		if !strings.Contains(res.stdout, "jobctl: report delivered to "+srv.URL+"/reports?run="+strconv.Itoa(i)+" (HTTP 204, attempt ") {
			t.Errorf("run %d: no delivery line in its output:\n%s", i, res.stdout)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != runs {
		t.Errorf("%d of %d reports arrived", len(got), runs)
	}
	for _, p := range problems {
		t.Error(p)
	}
	t.Logf("%d reports arrived in %d requests, in %v (%d runs at a time)", len(got), requests, elapsed.Round(time.Millisecond), parallel)
}

func TestWrapperCallbackRefused(t *testing.T) {
	t.Parallel()
	needCurl(t)
	var mu sync.Mutex
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		mu.Unlock()
		http.NotFound(w, r)
	}))
	defer srv.Close()
	url := strings.Replace(srv.URL, "http://", "http://user:s3cret@", 1) + "/cb"
	w := worker("#!/bin/sh\necho failing\nexit 3\n")
	res := runWrapper(t, run{script: mustRender(t, w), env: []string{"REPORT_RETURN_URL=" + url, "JOBCTL_CALLBACK_BACKOFF=0.01"}})
	want{status: "FAILURE", reason: "^exit status 3: failing$", attempts: 1, exit: 3}.check(t, res)
	mu.Lock()
	defer mu.Unlock()
	if requests != 1 {
		t.Errorf("%d requests, want 1", requests)
	}
	shown := strings.Replace(srv.URL, "http://", "http://***@", 1) + "/cb"
	if s := "jobctl: the report was refused by " + shown + " (HTTP 404); not retrying"; !strings.Contains(res.stdout, s) {
		t.Errorf("stdout lacks %q:\n%s", s, res.stdout)
	}
	if strings.Contains(res.stdout, "s3cret") {
		t.Errorf("stdout shows the URL's password:\n%s", res.stdout)
	}
}

func TestWrapperCallbackGivesUp(t *testing.T) {
	t.Parallel()
	needCurl(t)
	var mu sync.Mutex
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		mu.Unlock()
		if requests%2 == 0 {
			http.Error(w, "busy", http.StatusTooManyRequests)
			return
		}
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	w := worker("#!/bin/sh\necho fine\n")
	res := runWrapper(t, run{script: mustRender(t, w), env: []string{
		"REPORT_RETURN_URL=" + srv.URL, "JOBCTL_CALLBACK_BACKOFF=0.05", "JOBCTL_CALLBACK_DEADLINE=2"}})
	want{status: "SUCCESS", reason: "^$", attempts: 1}.check(t, res)
	mu.Lock()
	defer mu.Unlock()
	if requests < 3 {
		t.Errorf("%d requests, want retries", requests)
	}
	for _, s := range []string{"failed (HTTP 503); retrying in 0.05s", "failed (HTTP 429); retrying in 0.1s", "jobctl: gave up delivering the report to " + srv.URL + " after "} {
		if !strings.Contains(res.stdout, s) {
			t.Errorf("stdout lacks %q:\n%s", s, res.stdout)
		}
	}
}

// BenchmarkWrapperOverhead compares a trivial body run bare with the same
// body run through the wrapper: the difference is the wrapper's cost per
// build. cpu-ms/op (user+system of the whole process tree) varies less with
// the machine's load than the wall time.
func BenchmarkWrapperOverhead(b *testing.B) {
	needBash(b)
	body := "#!/bin/sh\necho hello\n"
	dir := b.TempDir()
	writeFile(b, filepath.Join(dir, "body"), body, 0o755)
	writeFile(b, filepath.Join(dir, "wrapper.sh"), mustRender(b, worker(body)), 0o755)
	data := worker("#!/bin/sh\necho hello\necho '{\"faces\": 1024, \"name\": \"Zürich\"}' > \"$JOBCTL_REPORT_DATA\"\n")
	data.Tools = []ToolCheck{{Name: "bash", Constraint: ">= 4.4", Probe: "bash --version", Checks: []VersionCheck{{">=", "4.4"}}}}
	writeFile(b, filepath.Join(dir, "data.sh"), mustRender(b, data), 0o755)
	ws := b.TempDir()
	for _, bb := range []struct {
		name string
		args []string
	}{
		{"bare", []string{filepath.Join(dir, "body")}},
		{"wrapped", []string{"bash", filepath.Join(dir, "wrapper.sh")}},
		{"wrapped+tool+data", []string{"bash", filepath.Join(dir, "data.sh")}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			var cpu time.Duration
			for b.Loop() {
				cmd := exec.Command(bb.args[0], bb.args[1:]...)
				cmd.Dir = ws
				cmd.Env = append(cleanEnv(), "WORKSPACE="+ws)
				if err := cmd.Run(); err != nil {
					b.Fatal(err)
				}
				cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
			}
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// BenchmarkWrapperOutput measures the timestamping of the body's output:
// 10000 lines of 100 bytes per op.
func BenchmarkWrapperOutput(b *testing.B) {
	needBash(b)
	script := mustRender(b, worker("#!/bin/sh\ni=0\nwhile [ $i -lt 10000 ]; do printf '%099d\\n' $i; i=$((i+1)); done\n"))
	path := filepath.Join(b.TempDir(), "wrapper.sh")
	writeFile(b, path, script, 0o755)
	ws := b.TempDir()
	var cpu time.Duration
	for b.Loop() {
		cmd := exec.Command("bash", path)
		cmd.Dir = ws
		cmd.Env = append(cleanEnv(), "WORKSPACE="+ws)
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
		cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	b.SetBytes(10000 * 100)
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

// TestWrapperDetachedProcess: a process that leaves the body's process
// group but keeps its output open must not keep the wrapper waiting.
func TestWrapperDetachedProcess(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("setsid is not installed")
	}
	w := worker("#!/bin/bash\nsetsid sleep 987653 &\necho detached\n")
	w.Retries = 1
	res := runWrapper(t, run{script: mustRender(t, w)})
	defer killMarked(t, "987653")
	want{status: "SUCCESS", reason: "^$", attempts: 1}.check(t, res)
	for _, s := range []string{"jobctl: stopping the processes the body left running", "jobctl: no longer logging the output of processes the body detached"} {
		if !strings.Contains(res.report.Log, s) {
			t.Errorf("log lacks %q:\n%s", s, res.report.Log)
		}
	}
}

// killMarked kills the processes with marker in their command line.
func killMarked(t *testing.T, marker string) {
	for _, p := range survivors(t, marker) {
		pid, err := strconv.Atoi(strings.Split(p, "/")[2])
		if err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// TestWrapperOutputEscaping: whatever bytes the body prints, the report is
// valid JSON in valid UTF-8 and says what was printed.
func TestWrapperOutputEscaping(t *testing.T) {
	t.Parallel()
	w := worker("#!/bin/bash\nprintf 'ctl:\\001\\002\\033[31m del:\\177 bad:\\377\\376 ü q:\" bs:\\\\ tab:\\t cr:\\r\\n'\nexit 1\n")
	for _, locale := range []string{"C", "C.UTF-8"} {
		res := runWrapper(t, run{script: mustRender(t, w), env: []string{"LC_ALL=" + locale}})
		line := "ctl:\x01\x02\x1b[31m del:\x7f bad: ü q:\" bs:\\ tab:\t cr:"
		want{status: "FAILURE", reason: ".", attempts: 1, exit: 1}.check(t, res)
		if diff := cmp.Diff("exit status 1: "+line, res.report.Reason); diff != "" {
			t.Errorf("%s: reason (-want +got):\n%s", locale, diff)
		}
		if !strings.Contains(res.report.Log, " "+line+"\r\n") {
			t.Errorf("%s: log lacks %q:\n%q", locale, line, res.report.Log)
		}
	}
}
