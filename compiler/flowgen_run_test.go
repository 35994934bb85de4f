package compiler

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jobctl/jobctl/flow"
	"github.com/jobctl/jobctl/jobs"
	"github.com/jobctl/jobctl/mocks/harness"
)

// runBuild is how one mocked build of a callee ends.
type runBuild struct {
	Status   string
	Reason   string
	Data     map[string]any
	NoReport bool
}

func ok(data map[string]any) runBuild { return runBuild{Status: "SUCCESS", Data: data} }

// flowRun is one run of a generated flow script under groovy with mocked
// steps.
type flowRun struct {
	name   string
	file   string // the flow file; default goldenFlowFile
	flow   string // the flow; default goldenFlow
	parsed *flow.Flow
	self   *jobs.Job
	// deployed names callees; default flowDeployed
	deployed func(string) string
	params   map[string]any
	// builds holds each callee's successive builds; one build is every build.
	builds map[string][]runBuild
	noop   bool
	// callback, when not nil, is REPORT_RETURN_URL and curl's exit status.
	callback *struct {
		url  string
		exit int
	}

	// What must happen; calls are "phase | job | NAME=value ..." (params
	// sorted), checked when not nil.
	calls  []string
	result string
	status string
	reason string
	data   string // canonical JSON
}

func baseParams(extra map[string]any) map[string]any {
	p := map[string]any{"SOURCE": "s3://b/cube.stl", "OWNER": "ann", "RUSH": false, "DRY_RUN": false, "TOKEN": "s3cr3t", "NOTE": "n"}
	for k, v := range extra {
		if v == nil {
			delete(p, k)
		} else {
			p[k] = v
		}
	}
	return p
}

// goldenBuilds are builds under which the golden flow succeeds.
func goldenBuilds(override map[string][]runBuild) map[string][]runBuild {
	b := map[string][]runBuild{
		"fetch_model":   {ok(map[string]any{"path": "cube.stl", "size": 684.0, "meta": map[string]any{}})},
		"inspect_model": {ok(map[string]any{"volume": 8000.5, "bbox": map[string]any{"y": 20.5, "x": 20.0}})},
		"render_thumb":  {{Status: "FAILURE", Reason: "no GPU"}},
		"price_model":   {ok(map[string]any{"price": 12.25, "currency": "EUR"})},
	}
	for k, v := range override {
		b[k] = v
	}
	return b
}

const defaultFlow = `phases:
  - name: a
    steps:
      - {job: fetch_model, name: fetch, params: {SOURCE: "${params.SOURCE}"}}
  - name: b
    steps:
      - {job: render_thumb, name: thumb, allow_failure: true}
      - {job: inspect_model, name: inspect, params: {MODEL_URL: "${fetch.data.path}"}}
  - name: c
    steps:
      - {job: render_thumb, name: late}
`

const evalErrorFlow = `phases:
  - name: a
    steps:
      - {job: fetch_model, name: fetch, params: {SOURCE: x}}
  - name: b
    steps:
      - job: price_model
        name: price
        params:
          VOLUME: "1"
          RUSH: ${fetch.data.extra}
      - {job: render_thumb, name: thumb}
  - name: c
    steps:
      - {job: render_thumb, name: late}
report:
  data:
    note: "${price.status}/${thumb.status}/${late.status}"
`

const whenErrorFlow = `phases:
  - name: a
    steps:
      - {job: fetch_model, name: fetch, params: {SOURCE: x}}
  - name: b
    when: fetch.data.extra
    steps:
      - {job: render_thumb, name: thumb}
report:
  reason: never evaluated
  data:
    note: ${fetch.data.path}
`

const dataErrorFlow = `phases:
  - name: a
    steps:
      - {job: fetch_model, name: fetch, params: {SOURCE: x}}
report:
  status: SUCCESS
  data:
    note: ${fetch.data.path}
    currency: "${fetch.data.extra}"
`

var flowRuns = []*flowRun{{
	name:   "success",
	params: baseParams(nil),
	builds: goldenBuilds(nil),
	calls: []string{
		"fetch | fetch_model | RUSH=false SOURCE=s3://b/cube.stl TOKEN=s3cr3t",
		"inspect | inspect_model | MODEL_URL=cube.stl",
		"inspect | render_thumb | MODEL_URL=file://cube.stl?size=684&note=${not}",
		`price | price_model | RUSH=false SPEC={"bbox":{"x":20,"y":20.5},"tags":["pla",2.5,-1,true,null,"it's"],"volume":8000.5} VOLUME=8000.5`,
	},
	result: "SUCCESS", status: "SUCCESS", reason: "priced cube.stl (n)",
	data: `{"bbox":{"x":20,"y":20.5},"currency":"EUR","flag":true,"price":12.25,"thumb":{},"volume":8000.5}`,
}, {
	name:   "retry",
	params: baseParams(map[string]any{"RUSH": true, "NOTE": nil, "TOKEN": nil}),
	builds: goldenBuilds(map[string][]runBuild{"fetch_model": {
		{Status: "FAILURE", Reason: "flaky"},
		{Status: "ABORTED", NoReport: true},
		ok(map[string]any{"path": "c.stl", "size": 2e6}),
	}}),
	calls: []string{
		"fetch | fetch_model | RUSH=true SOURCE=s3://b/cube.stl",
		"fetch | fetch_model | RUSH=true SOURCE=s3://b/cube.stl",
		"fetch | fetch_model | RUSH=true SOURCE=s3://b/cube.stl",
		"inspect | inspect_model | MODEL_URL=c.stl",
		"inspect | render_thumb | MODEL_URL=file://c.stl?size=2000000&note=${not}",
		`price | price_model | RUSH=true SPEC={"bbox":{"x":20,"y":20.5},"tags":["pla",2.5,-1,true,null,"it's"],"volume":8000.5} VOLUME=8000.5`,
	},
	result: "SUCCESS", status: "SUCCESS", reason: "priced c.stl ()",
}, {
	name:   "retries exhausted",
	params: baseParams(nil),
	builds: goldenBuilds(map[string][]runBuild{"fetch_model": {{Status: "FAILURE", Reason: "bucket gone"}}}),
	result: "FAILURE", status: "FAILURE",
	reason: `jobs/quote/flow.yaml:35:12: the report status must be SUCCESS or FAILURE, found "SKIPPED"`,
	data:   `{"flag":true}`,
}, {
	name:   "when false",
	params: baseParams(map[string]any{"DRY_RUN": true}),
	builds: goldenBuilds(nil),
	calls: []string{
		"fetch | fetch_model | RUSH=false SOURCE=s3://b/cube.stl TOKEN=s3cr3t",
		`price | price_model | RUSH=false SPEC={"bbox":null,"tags":["pla",2.5,-1,true,null,"it's"],"volume":null}`,
	},
	result: "SUCCESS", status: "SUCCESS", reason: "priced cube.stl (n)",
	data: `{"currency":"EUR","flag":true,"price":12.25}`,
}, {
	name: "default outcome", flow: defaultFlow,
	params: baseParams(nil),
	builds: map[string][]runBuild{
		"fetch_model":   {ok(map[string]any{"path": "p"})},
		"render_thumb":  {{Status: "FAILURE", NoReport: true}},
		"inspect_model": {{Status: "UNSTABLE"}},
	},
	calls:  []string{"a | fetch_model | SOURCE=s3://b/cube.stl", "b | render_thumb | ", "b | inspect_model | MODEL_URL=p"},
	result: "FAILURE", status: "FAILURE", reason: "step inspect (inspect_model) failed: it ended UNSTABLE", data: `{}`,
}, {
	name: "no report", flow: defaultFlow,
	params: baseParams(nil),
	builds: map[string][]runBuild{
		"fetch_model":   {ok(map[string]any{"path": "p"})},
		"render_thumb":  {ok(nil)},
		"inspect_model": {{Status: "NOT_BUILT", NoReport: true}},
	},
	result: "FAILURE", status: "FAILURE", reason: "step inspect (inspect_model) failed: inspect_model ended NOT_BUILT without a report", data: `{}`,
}, {
	name: "param error", flow: evalErrorFlow,
	params: baseParams(nil),
	builds: map[string][]runBuild{"fetch_model": {ok(map[string]any{"extra": "yes"})}, "render_thumb": {ok(nil)}},
	calls:  []string{"a | fetch_model | SOURCE=x", "b | render_thumb | "},
	result: "FAILURE", status: "FAILURE",
	reason: "jobs/quote/flow.yaml:11:19: step price: param RUSH of job price_model is a boolean, found a string",
	data:   `{"note":"SKIPPED/SUCCESS/SKIPPED"}`,
}, {
	name: "null param", flow: evalErrorFlow,
	params: baseParams(nil),
	builds: map[string][]runBuild{"fetch_model": {ok(nil)}, "render_thumb": {ok(nil)}, "price_model": {ok(nil)}},
	calls:  []string{"a | fetch_model | SOURCE=x", "b | price_model | VOLUME=1", "b | render_thumb | ", "c | render_thumb | "},
	result: "SUCCESS", status: "SUCCESS", reason: "", data: `{"note":"SUCCESS/SUCCESS/SUCCESS"}`,
}, {
	name: "when error", flow: whenErrorFlow,
	params: baseParams(nil),
	builds: map[string][]runBuild{"fetch_model": {ok(map[string]any{"extra": 3.0, "path": "p"})}},
	calls:  []string{"a | fetch_model | SOURCE=x"},
	result: "FAILURE", status: "FAILURE", reason: "jobs/quote/flow.yaml:6:11: want a boolean, found a number", data: `{"note":"p"}`,
}, {
	name: "data error", flow: dataErrorFlow,
	params: baseParams(nil),
	builds: map[string][]runBuild{"fetch_model": {ok(map[string]any{"extra": map[string]any{"a": 1.0}, "path": "p"})}},
	result: "FAILURE", status: "FAILURE", reason: "jobs/quote/flow.yaml:9:18: cannot interpolate an object into a string", data: `{}`,
}, {
	name:   "required",
	params: baseParams(map[string]any{"SOURCE": "", "OWNER": nil}),
	builds: goldenBuilds(nil),
	calls:  []string{},
	result: "FAILURE", status: "FAILURE", reason: "required params SOURCE, OWNER are empty", data: `{}`,
}, {
	name:   "callback fails",
	params: baseParams(nil),
	builds: goldenBuilds(nil),
	callback: &struct {
		url  string
		exit int
	}{"http://cb.invalid/r?a=1&b='$HOME'", 22},
	result: "UNSTABLE", status: "SUCCESS", reason: "priced cube.stl (n)",
}, {
	name:   "noop",
	params: baseParams(map[string]any{"JOBCTL_CASE": "quote/retry"}),
	builds: goldenBuilds(map[string][]runBuild{"fetch_model": {{Status: "FAILURE"}, ok(map[string]any{"path": "c", "size": 1.0})}}),
	noop:   true,
	calls: []string{
		"fetch | fetch_model | JOBCTL_CALL=1 JOBCTL_CASE=quote/retry RUSH=false SOURCE=s3://b/cube.stl TOKEN=s3cr3t",
		"fetch | fetch_model | JOBCTL_CALL=2 JOBCTL_CASE=quote/retry RUSH=false SOURCE=s3://b/cube.stl TOKEN=s3cr3t",
		"inspect | inspect_model | JOBCTL_CALL=1 JOBCTL_CASE=quote/retry MODEL_URL=c",
		"inspect | render_thumb | JOBCTL_CALL=1 JOBCTL_CASE=quote/retry MODEL_URL=file://c?size=1&note=${not}",
		`price | price_model | JOBCTL_CALL=1 JOBCTL_CASE=quote/retry RUSH=false SPEC={"bbox":{"x":20,"y":20.5},"tags":["pla",2.5,-1,true,null,"it's"],"volume":8000.5} VOLUME=8000.5`,
	},
	result: "SUCCESS", status: "SUCCESS", reason: "priced c (n)",
}}

// hostileRun runs the flow of hostile names and texts.
func hostileRun() *flowRun {
	f, names := hostileFlow(hostileTexts)
	f.Report.Status = &flow.Lit{Pos: flow.Pos{Line: 40, Col: 9}, Val: hostileTexts[9]}
	self := hostileSelf(hostileTexts)
	params := map[string]any{}
	for i, p := range self.Params {
		params[p.Name] = hostileTexts[(i+5)%len(hostileTexts)]
	}
	builds := map[string][]runBuild{}
	for i, n := range names {
		builds[n] = []runBuild{ok(map[string]any{hostileTexts[(i+1)%len(hostileTexts)]: hostileTexts[i]})}
	}
	return &flowRun{name: "hostile", parsed: f, file: f.File, self: self, deployed: hostileDeployed, params: params, builds: builds,
		result: "FAILURE", status: "FAILURE",
		reason: f.File + `:40:9: the report status must be SUCCESS or FAILURE, found "` + hostileTexts[9] + `"`}
}

// flowExecutor answers flow.Run's calls as the harness answers the
// script's builds, and records them.
type flowExecutor struct {
	builds map[string][]runBuild
	n      map[string]int
	calls  []string
}

func (e *flowExecutor) Execute(_ context.Context, c flow.Call) (flow.Result, error) {
	list := e.builds[c.Job]
	if len(list) == 0 {
		return flow.Result{}, fmt.Errorf("no build of %s", c.Job)
	}
	b := list[0]
	if len(list) > 1 {
		if e.n[c.Job] >= len(list) {
			return flow.Result{}, fmt.Errorf("%s called too often", c.Job)
		}
		b = list[e.n[c.Job]]
	}
	e.n[c.Job]++
	params := map[string]string{}
	for _, p := range c.Params {
		params[p.Name] = p.Value
	}
	e.calls = append(e.calls, callLine(c.Phase, c.Job, params))
	if b.NoReport {
		return flow.Result{Status: b.Status, Reason: c.Job + " ended " + b.Status + " without a report"}, nil
	}
	// The harness's report, like a worker's, always has a data object.
	data := b.Data
	if data == nil {
		data = map[string]any{}
	}
	return flow.Result{Status: b.Status, Reason: b.Reason, Data: data}, nil
}

func callLine(phase, job string, params map[string]string) string {
	var ps []string
	for k, v := range params {
		ps = append(ps, k+"="+v)
	}
	sort.Strings(ps)
	return phase + " | " + job + " | " + strings.Join(ps, " ")
}

func withoutNoop(calls []string) []string {
	var out []string
	for _, c := range calls {
		var ps []string
		head, params, _ := strings.Cut(c, " | ")
		job, params, _ := strings.Cut(params, " | ")
		for _, p := range strings.Split(params, " ") {
			if !strings.HasPrefix(p, "JOBCTL_") {
				ps = append(ps, p)
			}
		}
		out = append(out, head+" | "+job+" | "+strings.Join(ps, " "))
	}
	return out
}

// TestFlowRun runs generated scripts under groovy with jobctl's mocked
// step library and checks that they make the calls and write the reports
// the hand-written expectations and the flow interpreter (flow.Run) say.
func TestFlowRun(t *testing.T) {
	if _, err := exec.LookPath("groovy"); err != nil {
		t.Skip("groovy not installed (apt-get install -y default-jre-headless groovy); CI installs it")
	}
	runs := append(append([]*flowRun(nil), flowRuns...), hostileRun())
	var cases []harness.Case
	for _, r := range runs {
		if r.file == "" {
			r.file = goldenFlowFile
		}
		if r.parsed == nil {
			src := r.flow
			if src == "" {
				src = goldenFlow
			}
			r.parsed = parseTestFlow(t, r.file, src)
		}
		if r.self == nil {
			r.self = flowSelf
		}
		if r.deployed == nil {
			r.deployed = flowDeployed
		}
		params := map[string]any{}
		for k, v := range r.params {
			params[k] = v
		}
		var sh []harness.Sh
		if r.callback != nil {
			params[ReportReturnURL] = r.callback.url
			sh = append(sh, harness.Sh{Command: FlowCallbackCommand, Status: r.callback.exit})
		}
		script, _ := flowScript(r.self, r.parsed, r.deployed, flowCalleeParams, "linux", time.Hour, r.noop)
		c := harness.Case{ID: r.name, Script: script, Params: params, Jobs: map[string]string{}, Builds: map[string]harness.Builds{}, Sh: sh}
		for job, list := range r.builds {
			c.Jobs[r.deployed(job)] = job
			b := harness.Builds{Every: len(list) == 1}
			for _, x := range list {
				var data any
				if x.Data != nil {
					data = x.Data
				}
				b.Results = append(b.Results, harness.BuildResult{Status: x.Status, Reason: x.Reason, Data: data, Report: !x.NoReport})
			}
			c.Builds[job] = b
		}
		cases = append(cases, c)
	}
	results, err := harness.RunGroovy(context.Background(), cases)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			res := results[i]
			if res.Fault != "" {
				t.Fatalf("fault at line %d: %s\nlog: %q", res.FaultLine, res.Fault, res.Log)
			}
			if res.Report == nil {
				t.Fatalf("no report archived; error %q at line %d", res.Error, res.ErrorLine)
			}
			calls := []string{}
			for _, c := range res.Calls {
				calls = append(calls, callLine(c.Phase, c.Job, c.Params))
			}
			status, _ := res.Report["status"].(string)
			reason, _ := res.Report["reason"].(string)
			data := flow.JSON(res.Report["data"])
			if res.Report["process"] != r.self.Name || res.Report["log"] != "" || res.Report["attempts"] != 1.0 {
				t.Errorf("report %v: want process %q, log \"\" and attempts 1", res.Report, r.self.Name)
			}
			if _, ok := res.Report["duration_ms"].(float64); !ok {
				t.Errorf("report %v: no duration_ms", res.Report)
			}

			// What the test says.
			if r.calls != nil {
				if diff := cmp.Diff(r.calls, calls); diff != "" {
					t.Errorf("calls (-want +got):\n%s", diff)
				}
			}
			if res.Result != r.result {
				t.Errorf("build result %s (error %q), want %s", res.Result, res.Error, r.result)
			}
			if status != r.status || reason != r.reason {
				t.Errorf("report status %s, reason %q; want %s, %q", status, reason, r.status, r.reason)
			}
			if r.data != "" && data != r.data {
				t.Errorf("report data %s, want %s", data, r.data)
			}
			wantError := ""
			if status == "FAILURE" {
				wantError = reason
			}
			if res.Error != wantError {
				t.Errorf("the build ended with error %q, want %q", res.Error, wantError)
			}
			if r.callback != nil {
				want := []harness.ShCall{{Command: FlowCallbackCommand, Status: r.callback.exit}}
				if diff := cmp.Diff(want, res.ShCalls, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Line" }, cmp.Ignore())); diff != "" {
					t.Errorf("sh (-want +got):\n%s", diff)
				}
				if r.callback.exit != 0 && !strings.Contains(strings.Join(res.Log, "\n"), fmt.Sprintf("could not POST the report to REPORT_RETURN_URL (curl exit %d)", r.callback.exit)) {
					t.Errorf("log %q: no warning about the callback", res.Log)
				}
			} else if len(res.ShCalls) > 0 {
				t.Errorf("sh calls %v without a REPORT_RETURN_URL", res.ShCalls)
			}

			// What the interpreter says.
			ex := &flowExecutor{builds: r.builds, n: map[string]int{}}
			out, err := flow.Run(context.Background(), r.parsed, r.self, r.params, ex, flow.Options{})
			if err != nil {
				t.Fatalf("flow.Run: %v", err)
			}
			if diff := cmp.Diff(ex.calls, withoutNoop(calls)); diff != "" {
				t.Errorf("calls differ from flow.Run's (-interpreter +groovy):\n%s", diff)
			}
			if out.Status != status || out.Reason != reason || flow.JSON(out.Data) != data {
				t.Errorf("report differs from flow.Run's:\n   interpreter %s %q %s\n        groovy %s %q %s", out.Status, out.Reason, flow.JSON(out.Data), status, reason, data)
			}
		})
	}
}

// stubSteps is a minimal step library for TestFlowRunStopped: build throws
// for job "render_thumb"; every step is logged.
const stubSteps = `
abstract class StubSteps extends Script {
  static List log = []
  static Map files = [:]
  Map getParams() { [SOURCE: 's', OWNER: 'o', RUSH: true, DRY_RUN: false] }
  def stage(String name, Closure body) { log << 'stage ' + name; body() }
  def node(String label, Closure body) { log << 'node ' + label; body() }
  def node(Closure body) { log << 'node'; body() }
  def timeout(Map args, Closure body) { log << 'timeout ' + args.time + ' ' + args.unit; body() }
  def parallel(Map branches) { branches.each { k, v -> log << 'branch ' + k; v() } }
  def build(Map args) {
    log << 'build ' + args.job + ' ' + args.parameters.collect { it.name + '=' + it.value }.join(',')
    if (args.job.startsWith('render_thumb')) { throw new IOException('agent lost') }
    [fullProjectName: args.job, number: 1, result: 'SUCCESS']
  }
  def string(Map args) { args }
  def booleanParam(Map args) { args }
  def password(Map args) { args }
  def specific(String n) { n }
  def copyArtifacts(Map args) { files[args.target + '/report.json'] = '{"status":"SUCCESS","data":{"path":"p","size":1}}' }
  def writeFile(Map args) { files[args.file] = args.text }
  def readFile(String f) { files[f] }
  def readJSON(Map args) { new groovy.json.JsonSlurperClassic().parseText(args.text) }
  def fileExists(String f) { files.containsKey(f) }
  def archiveArtifacts(Map args) { log << 'archive ' + files[args.artifacts] }
  def error(String m) { log << 'error ' + m; throw new RuntimeException('error step') }
  def unstable(String m) { log << 'unstable ' + m }
  def echo(String m) { log << 'echo ' + m }
}
`

// TestFlowRunStopped checks R7: an exception that escapes the phases
// still leaves a report, then ends the build (and not error()).
func TestFlowRunStopped(t *testing.T) {
	groovyCommand(t)
	f := parseTestFlow(t, goldenFlowFile, goldenFlow)
	script, _ := flowScript(flowSelf, f, flowDeployed, flowCalleeParams, "", 61*time.Second, false)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "flow.groovy"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	out := runGroovy(t, dir, stubSteps+`
import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.customizers.ImportCustomizer

def jenkins = new GroovyClassLoader(this.class.classLoader)
jenkins.parseClass('''package com.cloudbees.groovy.cps
import java.lang.annotation.*
@Retention(RetentionPolicy.RUNTIME) @interface NonCPS {}
''')
def config = new CompilerConfiguration()
config.scriptBaseClass = StubSteps.name
def imports = new ImportCustomizer()
imports.addImports('com.cloudbees.groovy.cps.NonCPS')
config.addCompilationCustomizers(imports)
def shell = new GroovyShell(jenkins, new Binding(), config)
try {
  shell.parse(new File(args[0]).getText('UTF-8'), 'WorkflowScript').run()
  StubSteps.log << 'ended normally'
} catch (Exception e) {
  StubSteps.log << 'ended with ' + e
}
StubSteps.log.each { println(it) }
`, filepath.Join(dir, "flow.groovy"))
	want := `timeout 61 SECONDS
stage fetch
build fetch_model-v3-0123456789ab SOURCE=s,RUSH=true
node
stage inspect
branch inspect
build inspect_model-v3-0123456789ab MODEL_URL=p
node
branch thumb
build render_thumb-v3-0123456789ab MODEL_URL=file://p?size=1&note=${not}
node
archive {"attempts":1,"data":{"flag":true},"duration_ms":0,"log":"","process":"quote","reason":"the flow stopped: java.io.IOException: agent lost","status":"FAILURE"}
ended with java.io.IOException: agent lost
`
	got := regexp.MustCompile(`"duration_ms":\d+`).ReplaceAllString(out, `"duration_ms":0`)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
}
