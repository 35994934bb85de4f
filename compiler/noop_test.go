package compiler

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jobctl/jobctl/jobs"
)

// noopRepoFiles is repoFiles with a raw Groovy orchestration that calls
// its workers in every way the build step can be called, and a flow.
func noopRepoFiles() map[string]string {
	files := repoFiles()
	files["jobs/probe/job.yaml"] = "kind: orchestration\nparams:\n  SRC: {type: string}\n"
	files["jobs/probe/main.groovy"] = "node {\n  build job: 'fetch', parameters: [string(name: 'SRC', value: params.SRC)]\n  build('fetch')\n  build job: 'inspect', propagate: false\n}\n"
	files["jobs/flowup/job.yaml"] = "kind: orchestration\nparams:\n  SRC: {type: string, required: true}\n"
	files["jobs/flowup/flow.yaml"] = "phases:\n  - name: only\n    steps:\n      - {job: fetch, params: {SRC: '${params.SRC}'}}\n"
	return files
}

// noopTable is what the tests' noop workers report; inspect has no entry.
func noopTable() *Noop {
	return &Noop{Reports: map[string][]NoopReport{
		"fetch": {
			// Out of order: the compiler sorts.
			{Case: "upload/retry", Call: 2, Status: "SUCCESS", Data: map[string]any{"size": 2.0, "name": "b.stl"}},
			{Case: "upload/retry", Call: 1, Status: "FAILURE", Reason: "connection reset", Data: map[string]any{"attempt": 1.0}},
			{Case: "upload/ok", Call: 0, Status: "SUCCESS", Data: map[string]any{"size": 1.0}},
			{Case: "upload/blank", Call: 0, Status: "UNSTABLE"},
			{Case: "upload/lost", Call: 0, Status: "NOT_BUILT", NoReport: true},
			{Case: "upload/lost-ok", Call: 0, Status: "SUCCESS", NoReport: true},
			{Case: "upload/mixed", Call: 2, Status: "FAILURE", Reason: "second call fails"},
			{Case: "upload/mixed", Call: 0, Status: "SUCCESS", Data: map[string]any{"size": 0.0}},
		},
		"upload": {{Case: "nightly/x", Call: 0, Status: "FAILURE"}}, // an orchestration: ignored
	}}
}

func compileNoop(t *testing.T, dir string, lock *jobs.Lock, noop *Noop) *Result {
	t.Helper()
	repo, err := Load(dir)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	res, err := Compile(repo, lock, Options{Noop: noop})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return res
}

func TestNoopBuild(t *testing.T) {
	dir := t.TempDir()
	writeRepo(t, dir, noopRepoFiles(), false)
	real := compileDir(t, dir)
	lock := real.Lock
	before := string(lock.Bytes())
	res := compileNoop(t, dir, lock, noopTable())
	if string(lock.Bytes()) != before {
		t.Errorf("Compile changed the lock it was given")
	}

	if res.Project.Name != "shop-noop" || real.Project.Name != "shop" {
		t.Errorf("projects %q and %q, want shop-noop and shop (untouched)", res.Project.Name, real.Project.Name)
	}
	if !bytes.Contains(res.Folder, []byte("Jobs of the shop-noop project")) || !bytes.Contains(res.View, []byte("every job of shop-noop")) {
		t.Errorf("folder or view does not name shop-noop:\n%s\n%s", res.Folder, res.View)
	}
	if m := res.Manifest(); m.Project != "shop-noop" || m.Folder != "shop-noop" {
		t.Errorf("manifest project %q folder %q, want shop-noop", m.Project, m.Folder)
	}

	wantParams := map[string][]string{
		"fetch":   {"SRC", ReportReturnURL, NoopCaseParam, NoopCallParam},
		"inspect": {"MODEL", "MATERIAL", ReportReturnURL, NoopCaseParam, NoopCallParam},
		"upload":  {"SRC", NoopCaseParam},
		"nightly": {NoopCaseParam},
		"probe":   {"SRC", NoopCaseParam},
		"flowup":  {"SRC", ReportReturnURL, NoopCaseParam},
	}
	for _, d := range res.Defs {
		r := real.Def(d.Name())
		// The hash differs from the real job's, so the version is the
		// lock's next one.
		if d.Hash == r.Hash || d.Version != r.Version+1 || d.Status != jobs.Changed {
			t.Errorf("%s: v%d %s (%s), real v%d %s: want a new hash and version %d", d.Name(), d.Version, d.Hash, d.Status, r.Version, r.Hash, r.Version+1)
		}
		m, ok := jobs.ParseMarker(descriptionOf(t, d.XML))
		if !ok || m.Project != "shop-noop" || m.Version != d.Version || m.Hash != d.Hash {
			t.Errorf("%s: marker %+v, want project shop-noop", d.Name(), m)
		}
		var calls []string
		for _, c := range d.Calls {
			calls = append(calls, res.Def(c).Deployed)
		}
		if diff := cmp.Diff(calls, d.CallsDeployed); diff != "" {
			t.Errorf("%s calls (-noop deployed names +got):\n%s", d.Name(), diff)
		}
		x := parseJobXML(t, d.XML)
		var names []string
		for _, p := range x.Params {
			names = append(names, p.Name)
			if strings.HasPrefix(p.Name, "JOBCTL_") && !strings.Contains(p.Description, "noop orchestration") {
				t.Errorf("%s: param %s description %q does not say the noop orchestration sets it", d.Name(), p.Name, p.Description)
			}
		}
		if diff := cmp.Diff(wantParams[d.Name()], names); diff != "" {
			t.Errorf("%s params (-want +got):\n%s", d.Name(), diff)
		}
		for _, w := range d.CallsDeployed {
			if !strings.Contains(x.Script, "'"+w+"'") {
				t.Errorf("%s: the script does not call the noop %s", d.Name(), w)
			}
		}
	}

	// Workers: no lib/sh, no tool checks, no retries; the timeout and the
	// required params stay.
	cmdOf := func(name string) string { return commandOf(t, res.Def(name).XML) }
	for _, name := range []string{"fetch", "inspect"} {
		c := cmdOf(name)
		for _, s := range []string{"JOBCTL_RETRIES=0\n", "JOBCTL_TOOL_NAMES=()\n", "JOBCTL_LIB=''\n", "JOBCTL_TIMEOUT_MS=600000\n", "#!/usr/bin/env bash\n"} {
			if !strings.Contains(c, s) {
				t.Errorf("%s: the noop command lacks %q", name, s)
			}
		}
		for _, s := range []string{"log_info", "fetch_to", "awk --version"} {
			if strings.Contains(c, s) {
				t.Errorf("%s: the noop command has %q from the real job", name, s)
			}
		}
	}
	if c := cmdOf("fetch"); !strings.Contains(c, "JOBCTL_REQUIRED=('SRC')\n") {
		t.Errorf("fetch: the noop command does not require SRC")
	}

	// Orchestrations pass the case down.
	if s := res.Def("flowup").Script; !strings.Contains(s, "string(name: 'JOBCTL_CASE'") || !strings.Contains(s, "string(name: 'JOBCTL_CALL'") {
		t.Errorf("the flow does not pass JOBCTL_CASE and JOBCTL_CALL down:\n%s", s)
	}
	for _, name := range []string{"upload", "nightly", "probe"} {
		s := res.Def(name).Script
		if !strings.Contains(s, "def build(Map args) {") || !strings.Contains(s, "return steps.build(copy)") {
			t.Errorf("%s: no noop prelude:\n%s", name, s)
		}
		if strings.Contains(real.Def(name).Script, "jobctlNoopCalls") {
			t.Errorf("%s: the real build has the noop prelude", name)
		}
	}

	// Same input, same bytes, whatever the order of the table.
	shuffled := noopTable()
	rs := shuffled.Reports["fetch"]
	for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
		rs[i], rs[j] = rs[j], rs[i]
	}
	again := compileNoop(t, dir, lock, shuffled)
	for _, d := range res.Defs {
		if !bytes.Equal(d.XML, again.Def(d.Name()).XML) {
			t.Errorf("%s: compiling again with the table in another order gave other bytes", d.Name())
		}
	}
}

// TestNoopLineMap: the noop prelude is jobctl's own code; source lines map
// back as in the real build.
func TestNoopLineMap(t *testing.T) {
	dir := t.TempDir()
	writeRepo(t, dir, noopRepoFiles(), false)
	res := compileNoop(t, dir, &jobs.Lock{}, noopTable())
	d := res.Def("upload")
	lines := strings.Split(d.Script, "\n")
	found := 0
	for i, l := range lines {
		file, line, ok := d.LineMap.Lookup(i + 1)
		switch {
		case strings.Contains(l, "def r = readReport(f, 'fetch')"):
			found++
			if !ok || file != "jobs/upload/main.groovy" || line != 12 {
				t.Errorf("line %d maps to %s:%d %v, want jobs/upload/main.groovy:12", i+1, file, line, ok)
			}
		case strings.Contains(l, "return steps.build(copy)"):
			found++
			if ok {
				t.Errorf("prelude line %d maps to %s:%d, want none", i+1, file, line)
			}
		}
	}
	if found != 2 {
		t.Errorf("found %d of the 2 lines looked for:\n%s", found, d.Script)
	}
	if d.LineMap.Lines != len(lines)-1 {
		t.Errorf("line map has %d lines, the script %d", d.LineMap.Lines, len(lines)-1)
	}
}

// noopReport is the part of report.json the noop tests check.
type noopReport struct {
	Status string          `json:"status"`
	Reason string          `json:"reason"`
	Data   json.RawMessage `json:"data"`
	Log    string          `json:"log"`
}

// runWorker runs a worker's shell step under bash in a fresh workspace, as
// Jenkins would, with env on top of the test's environment (without what
// would change the wrapper's behaviour), and returns its report and exit
// status.
func runWorker(t *testing.T, command string, env ...string) (noopReport, int) {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	ws := t.TempDir()
	script := filepath.Join(t.TempDir(), "step.sh")
	if err := os.WriteFile(script, []byte(command), 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", script)
	cmd.Dir = ws
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "WORKSPACE" && k != "REPORT_RETURN_URL" && k != "BASH_ENV" && !strings.HasPrefix(k, "JOBCTL_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(append(cmd.Env, "WORKSPACE="+ws), env...)
	out, err := cmd.CombinedOutput()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("running the worker: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(ws, "report.json"))
	if err != nil {
		t.Fatalf("no report: %v\n%s", err, out)
	}
	var rep noopReport
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatalf("report.json: %v\n%s", err, raw)
	}
	entries, _ := os.ReadDir(ws)
	for _, e := range entries {
		if n := e.Name(); n != "report.json" && n != ".jobctl" {
			t.Errorf("the worker left %s in its workspace", n)
		}
	}
	return rep, code
}

// TestNoopWorkerReports runs noop workers for real and checks they report
// what the table prescribes for the case and call they are given.
func TestNoopWorkerReports(t *testing.T) {
	res := compileNoop(t, compiledRepoDir(t), &jobs.Lock{}, noopTable())
	fetch, inspect := commandOf(t, res.Def("fetch").XML), commandOf(t, res.Def("inspect").XML)
	tests := []struct {
		name, command, caseID, call string
		env                         []string
		status, reason, data        string
		exit                        int
	}{
		{name: "every call", command: fetch, caseID: "upload/ok", call: "1", status: "SUCCESS", data: `{"size":1}`},
		{name: "every call, any number", command: fetch, caseID: "upload/ok", call: "7", status: "SUCCESS", data: `{"size":1}`},
		{name: "first call", command: fetch, caseID: "upload/retry", call: "1", status: "FAILURE", reason: "connection reset", data: `{"attempt":1}`, exit: 1},
		{name: "second call", command: fetch, caseID: "upload/retry", call: "2", status: "SUCCESS", data: `{"name":"b.stl","size":2}`},
		{name: "call not mocked", command: fetch, caseID: "upload/retry", call: "3", status: "FAILURE", reason: "noop: no mock for call 3 of fetch in case upload/retry", data: `{}`, exit: 1},
		{name: "exact call before every call", command: fetch, caseID: "upload/mixed", call: "2", status: "FAILURE", reason: "second call fails", data: `{}`, exit: 1},
		{name: "every call after exact calls", command: fetch, caseID: "upload/mixed", call: "3", status: "SUCCESS", data: `{"size":0}`},
		{name: "empty reason", command: fetch, caseID: "upload/blank", call: "1", status: "FAILURE", reason: "noop: UNSTABLE", data: `{}`, exit: 1},
		{name: "no report", command: fetch, caseID: "upload/lost", call: "1", status: "FAILURE", reason: "fetch ended NOT_BUILT without a report", data: `{}`, exit: 1},
		{name: "no report, SUCCESS", command: fetch, caseID: "upload/lost-ok", call: "1", status: "SUCCESS", data: `{}`},
		{name: "unknown case", command: fetch, caseID: "upload/nope", call: "1", status: "FAILURE", reason: "noop: no mock for call 1 of fetch in case upload/nope", data: `{}`, exit: 1},
		{name: "case of another job", command: fetch, caseID: "nightly/x", call: "1", status: "FAILURE", reason: "noop: no mock for call 1 of fetch in case nightly/x", data: `{}`, exit: 1},
		{name: "no case", command: fetch, status: "FAILURE", reason: "noop: no mock for call ? of fetch in case (none)", data: `{}`, exit: 1},
		{name: "worker no case mocks", command: inspect, caseID: "upload/ok", call: "1", env: []string{"MODEL=m"}, status: "FAILURE", reason: "noop: no mock for call 1 of inspect in case upload/ok", data: `{}`, exit: 1},
		{name: "required param still checked", command: inspect, caseID: "upload/ok", call: "1", status: "FAILURE", reason: "missing required param(s): MODEL", data: `{}`, exit: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := append([]string{"SRC=/tmp/x", "JOBCTL_CASE=" + tt.caseID, "JOBCTL_CALL=" + tt.call}, tt.env...)
			rep, code := runWorker(t, tt.command, env...)
			got := struct{ Status, Reason, Data string }{rep.Status, rep.Reason, string(rep.Data)}
			want := struct{ Status, Reason, Data string }{tt.status, tt.reason, tt.data}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("report (-want +got):\n%s\nlog:\n%s", diff, rep.Log)
			}
			if code != tt.exit {
				t.Errorf("exit status %d, want %d", code, tt.exit)
			}
		})
	}
	t.Run("no mock explains itself", func(t *testing.T) {
		rep, _ := runWorker(t, inspect, "MODEL=m", "JOBCTL_CASE=upload/ok", "JOBCTL_CALL=1")
		for _, s := range []string{"noop: no mock for call 1 of inspect in case upload/ok\n", "this is a noop build", "JOBCTL_CASE=<orchestration>/<case> (no case mocks inspect)"} {
			if !strings.Contains(rep.Log, s) {
				t.Errorf("log lacks %q:\n%s", s, rep.Log)
			}
		}
	})
}

// compiledRepoDir writes noopRepoFiles to a temporary folder.
func compiledRepoDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeRepo(t, dir, noopRepoFiles(), false)
	return dir
}

// TestNoopHostileValues: case names, reasons and data that try to break
// out of the shell reach the report as text, and select what they name.
func TestNoopHostileValues(t *testing.T) {
	var reports []NoopReport
	for i, v := range nasty {
		reports = append(reports, NoopReport{Case: "upload/" + v, Call: i % 2, Status: "FAILURE", Reason: v,
			Data: map[string]any{"v": v, v: []any{v, 1.5, nil, true}}})
	}
	res := compileNoop(t, compiledRepoDir(t), &jobs.Lock{}, &Noop{Reports: map[string][]NoopReport{"fetch": reports}})
	fetch := commandOf(t, res.Def("fetch").XML)
	for _, v := range nasty {
		t.Run(strings.ToValidUTF8(v[:min(len(v), 20)], "?"), func(t *testing.T) {
			t.Parallel()
			rep, code := runWorker(t, fetch, "SRC=x", "JOBCTL_CASE=upload/"+v, "JOBCTL_CALL=1")
			first, _, _ := strings.Cut(v, "\n")
			first = strings.TrimSpace(strings.TrimSuffix(first, "\r"))
			if rep.Status != "FAILURE" || rep.Reason != first || code != 1 {
				t.Errorf("report %s %q exit %d, want FAILURE %q exit 1\nlog:\n%s", rep.Status, rep.Reason, code, first, rep.Log)
			}
			var data any
			if err := json.Unmarshal(rep.Data, &data); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"v": v, v: []any{v, 1.5, nil, true}}
			if diff := cmp.Diff(want, data); diff != "" {
				t.Errorf("data (-want +got):\n%s", diff)
			}
		})
	}
	t.Cleanup(func() {
		if _, err := os.Stat("/tmp/jobctl-pwned"); err == nil {
			t.Errorf("a value executed a command")
		}
	})
}

// TestNoopBodyDeterministic: the body is sorted by case and call, whatever
// the order of the table.
func TestNoopBodyDeterministic(t *testing.T) {
	rs := noopTable().Reports["fetch"]
	want := string(noopBody("fetch", "jobs/fetch/run.sh", rs))
	for i := range 20 {
		shuffled := append([]NoopReport(nil), rs...)
		sort.Slice(shuffled, func(a, b int) bool { return (a*7+i)%5 < (b*7+i)%5 })
		if got := string(noopBody("fetch", "jobs/fetch/run.sh", shuffled)); got != want {
			t.Fatalf("order %d gave another body (-want +got):\n%s", i, cmp.Diff(want, got))
		}
	}
	var ids []string
	for _, l := range strings.Split(want, "\n") {
		if strings.HasPrefix(l, "'upload/") {
			ids = append(ids, l)
		}
	}
	if !sort.StringsAreSorted(ids) || len(ids) != 6 {
		t.Errorf("cases in the body: %q, want 6, sorted", ids)
	}
}

// TestNoopGroovyPrelude compiles every noop orchestration under Groovy 2.4
// and runs a raw Groovy one with stub steps: every build call passes the
// case and its call number per job down, after the params it had.
func TestNoopGroovyPrelude(t *testing.T) {
	res := compileNoop(t, compiledRepoDir(t), &jobs.Lock{}, noopTable())
	scripts := map[string]string{}
	for _, d := range res.Defs {
		if d.Job.Kind == jobs.Orchestration {
			scripts["noop-"+d.Name()] = d.Script
		}
	}
	checkGroovyCompiles(t, scripts)

	dir := t.TempDir()
	probe := filepath.Join(dir, "probe.groovy")
	if err := os.WriteFile(probe, []byte(res.Def("probe").Script), 0o644); err != nil {
		t.Fatal(err)
	}
	out := runGroovy(t, dir, groovyPrelude+`
def text = new File(args[0]).getText('UTF-8')
def runs = []
for (p in [[SRC: 'x', JOBCTL_CASE: 'probe/one'], [SRC: 'y']]) {
  def calls = []
  def b = new Binding()
  b.setVariable('params', p)
  b.setVariable('node', { Closure c -> c() })
  b.setVariable('timeout', { Map m, Closure c -> c() })
  b.setVariable('string', { Map m -> [type: 'string', name: m.name, value: m.value] })
  b.setVariable('steps', [build: { Map m -> calls.add(m); return [result: 'SUCCESS'] }])
  def script = shell.parse(text, 'WorkflowScript')
  script.setBinding(b)
  script.run()
  runs.add(calls)
}
println(groovy.json.JsonOutput.toJson(runs))
`, probe)
	var got [][]map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	fetch, inspect := res.Def("fetch").Deployed, res.Def("inspect").Deployed
	param := func(name, value string) map[string]any {
		return map[string]any{"type": "string", "name": name, "value": value}
	}
	want := [][]map[string]any{}
	for _, run := range []struct{ src, caseID string }{{"x", "probe/one"}, {"y", ""}} {
		want = append(want, []map[string]any{
			{"job": fetch, "parameters": []any{param("SRC", run.src), param("JOBCTL_CASE", run.caseID), param("JOBCTL_CALL", "1")}},
			{"job": fetch, "parameters": []any{param("JOBCTL_CASE", run.caseID), param("JOBCTL_CALL", "2")}},
			{"job": inspect, "propagate": false, "parameters": []any{param("JOBCTL_CASE", run.caseID), param("JOBCTL_CALL", "1")}},
		})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("build calls (-want +got):\n%s", diff)
	}
}

// TestNoopOutInsideBuild: the noop build's default folder is inside the
// real build's, which is written around it and leaves it alone.
func TestNoopOutInsideBuild(t *testing.T) {
	dir := compiledRepoDir(t)
	real := compileDir(t, dir)
	noop := compileNoop(t, dir, real.Lock, noopTable())
	build := filepath.Join(dir, "build")
	for _, step := range []struct {
		res *Result
		out string
	}{{noop, filepath.Join(build, NoopOut)}, {real, build}, {noop, filepath.Join(build, NoopOut)}, {real, build}} {
		if err := step.res.Write(step.out); err != nil {
			t.Fatalf("writing %s: %v", step.res.Project.Name, err)
		}
	}
	for out, project := range map[string]string{build: "shop", filepath.Join(build, NoopOut): "shop-noop"} {
		if m, err := ReadManifest(out); err != nil || m.Project != project {
			t.Errorf("%s: %v, want the build of %s", out, err, project)
		}
	}
	// Anything else in the folder is still refused.
	os.WriteFile(filepath.Join(build, "precious.txt"), []byte("data"), 0o644)
	if err := real.Write(build); err == nil || !strings.Contains(err.Error(), "refusing to replace") {
		t.Errorf("Write over a folder with a foreign file: %v", err)
	}
}
