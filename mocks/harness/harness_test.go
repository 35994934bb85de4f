package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// test is one case of TestRunGroovy. Every test runs in one groovy process.
type test struct {
	name string
	// c is the case; Folder and Jobs default to modelshop's.
	c    Case
	want Result
	// opts are extra options for comparing the result.
	opts []cmp.Option
}

// jobs are the deployed names of the jobs the tests call.
var jobs = map[string]string{
	"fetch_model-v1-8710a65b4acf":        "fetch_model",
	"inspect_model-v3-5b148924e2f1":      "inspect_model",
	"render_thumbnail-v2-77c1d0a9e3b2":   "render_thumbnail",
	"check_printability-v1-0c9f3e1a2b4d": "check_printability",
	"price_model-v2-4e5f6a7b8c9d":        "price_model",
	"register_part-v1-9a8b7c6d5e4f":      "register_part",
	"store_result-v1-3c2b1a0f9e8d":       "store_result",
}

// lines joins the lines of a script: line n is l[n-1].
func lines(l ...string) string { return strings.Join(l, "\n") + "\n" }

// every mocks a job whose every build ends with status.
func every(status string) Builds {
	return Builds{Every: true, Results: []BuildResult{{Status: status}}}
}

// results mocks a job whose successive builds end with statuses.
func results(statuses ...string) Builds {
	var b Builds
	for _, s := range statuses {
		b.Results = append(b.Results, BuildResult{Status: s})
	}
	return b
}

// needGroovy skips the test when groovy is not installed (CI installs it).
func needGroovy(tb testing.TB) {
	tb.Helper()
	if _, err := command(); errors.Is(err, ErrNoGroovy) {
		tb.Skip(err)
	}
}

func TestRunGroovy(t *testing.T) {
	needGroovy(t)
	var tests []test
	tests = append(tests, buildTests()...)
	tests = append(tests, stepTests()...)
	tests = append(tests, workspaceTests()...)
	tests = append(tests, faultTests()...)
	tests = append(tests, orchestrationTests(t)...)

	cases := make([]Case, len(tests))
	for i, tt := range tests {
		c := tt.c
		c.ID = tt.name
		if c.Folder == "" {
			c.Folder = "modelshop"
		}
		if c.Jobs == nil {
			c.Jobs = jobs
		}
		cases[i] = c
	}
	got, err := RunGroovy(context.Background(), cases)
	if err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			want.ID = tt.name
			opts := append([]cmp.Option{cmpopts.EquateEmpty()}, tt.opts...)
			if diff := cmp.Diff(want, got[i], opts...); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// buildTests cover the build step.
func buildTests() []test {
	var tests []test
	for _, propagate := range []bool{true, false} {
		for _, status := range []string{"SUCCESS", "UNSTABLE", "FAILURE", "ABORTED", "NOT_BUILT"} {
			want := Result{
				Result: "SUCCESS",
				Calls:  []Call{{Job: "fetch_model", Wait: true, Propagate: propagate, Result: status, Line: 1}},
				Log:    []string{status + " #1 modelshop/fetch_model-v1-8710a65b4acf"},
			}
			switch {
			case !propagate || status == "SUCCESS":
			case status == "UNSTABLE":
				want.Result = "UNSTABLE"
			default:
				want.Result = map[string]string{"NOT_BUILT": "FAILURE"}[status]
				if want.Result == "" {
					want.Result = status
				}
				want.Error = "modelshop/fetch_model-v1-8710a65b4acf #1 completed with status " + status + " (propagate: false to ignore)"
				want.ErrorLine = 1
				want.Log = nil
			}
			tests = append(tests, test{
				name: fmt.Sprintf("build propagate %v %s", propagate, status),
				c: Case{
					Script: lines(
						fmt.Sprintf("def r = build job: 'fetch_model-v1-8710a65b4acf', propagate: %v", propagate),
						`echo "${r.result} ${r.displayName} ${r.fullProjectName}"`),
					Builds: map[string]Builds{"fetch_model": every(status)},
				},
				want: want,
			})
		}
	}
	return append(tests,
		test{
			name: "build wait false",
			c: Case{
				Script: lines(
					"def r = build job: 'fetch_model', wait: false",
					`echo "returned ${r}"`),
				Builds: map[string]Builds{"fetch_model": every("FAILURE")},
			},
			want: Result{
				Result: "SUCCESS",
				Calls:  []Call{{Job: "fetch_model", Propagate: true, Result: "FAILURE", Line: 1}},
				Log:    []string{"returned null"},
			},
		},
		test{
			name: "build names parameters and stages",
			c: Case{
				Script: lines(
					"stage('outer') {",
					"  build 'modelshop/fetch_model-v1-8710a65b4acf'",
					"  stage('inner') {",
					"    def r = build job: '/modelshop/fetch_model-v1-8710a65b4acf', parameters: [",
					"      string(name: 'SOURCE', value: params.SRC),",
					"      booleanParam(name: 'RUSH', value: params.RUSH),",
					"      password(name: 'TOKEN', value: 'secret'),",
					"      text(name: 'NOTES', value: \"two\\nlines\"),",
					"      [$class: 'StringParameterValue', name: 'N', value: 3],",
					"    ]",
					"    echo \"${r.number} ${r.id} ${r.projectName} ${r.displayName} ${r.result} ${r.currentResult}\"",
					"    echo \"${r.fullDisplayName} ${r.absoluteUrl} ${r.description} ${r.duration}\"",
					"    echo \"${r.buildVariables.RUSH} ${r.getNumber()} ${r.getBuildVariables().SOURCE}\"",
					"  }",
					"}",
					"build job: 'fetch_model'"),
				Params: map[string]any{"SRC": "s3://models/gear.stl", "RUSH": true},
				Builds: map[string]Builds{"fetch_model": every("SUCCESS")},
			},
			want: Result{
				Result: "SUCCESS",
				Calls: []Call{
					{Job: "fetch_model", Phase: "outer", Params: map[string]string{}, Wait: true, Propagate: true, Result: "SUCCESS", Line: 2},
					{Job: "fetch_model", Phase: "inner", Params: map[string]string{
						"SOURCE": "s3://models/gear.stl", "RUSH": "true", "TOKEN": "secret", "NOTES": "two\nlines", "N": "3",
					}, Wait: true, Propagate: true, Result: "SUCCESS", Line: 4},
					{Job: "fetch_model", Wait: true, Propagate: true, Result: "SUCCESS", Line: 16},
				},
				Log: []string{
					"2 2 fetch_model-v1-8710a65b4acf #2 SUCCESS SUCCESS",
					"modelshop » fetch_model-v1-8710a65b4acf #2 http://jenkins.invalid/job/modelshop/job/fetch_model-v1-8710a65b4acf/2/ null 0",
					"true 2 s3://models/gear.stl",
				},
			},
		},
		test{
			name: "build every",
			c: Case{
				Script: lines(
					"for (i in 1..3) {",
					"  echo 'build ' + build(job: 'price_model', propagate: false).number",
					"}"),
				Builds: map[string]Builds{"price_model": every("UNSTABLE")},
			},
			want: Result{
				Result: "SUCCESS",
				Calls: []Call{
					{Job: "price_model", Wait: true, Result: "UNSTABLE", Line: 2},
					{Job: "price_model", Wait: true, Result: "UNSTABLE", Line: 2},
					{Job: "price_model", Wait: true, Result: "UNSTABLE", Line: 2},
				},
				Log: []string{"build 1", "build 2", "build 3"},
			},
		},
		test{
			name: "build results in turn",
			c: Case{
				Script: lines(
					"echo build(job: 'price_model', propagate: false).result",
					"echo build(job: 'price_model', propagate: false).result"),
				Builds: map[string]Builds{"price_model": results("FAILURE", "SUCCESS")},
			},
			want: Result{
				Result: "SUCCESS",
				Calls: []Call{
					{Job: "price_model", Wait: true, Result: "FAILURE", Line: 1},
					{Job: "price_model", Wait: true, Result: "SUCCESS", Line: 2},
				},
				Log: []string{"FAILURE", "SUCCESS"},
			},
		},
		test{
			name: "build downstream failure caught by class",
			c: Case{
				Script: lines(
					"try {",
					"  build job: 'fetch_model'",
					"} catch (org.jenkinsci.plugins.workflow.steps.FlowInterruptedException e) {",
					`  echo "${e.result}: ${e.message}"`,
					"}"),
				Builds: map[string]Builds{"fetch_model": every("ABORTED")},
			},
			want: Result{
				Result: "SUCCESS",
				Calls:  []Call{{Job: "fetch_model", Wait: true, Propagate: true, Result: "ABORTED", Line: 2}},
				Log:    []string{"ABORTED: modelshop/fetch_model-v1-8710a65b4acf #1 completed with status ABORTED (propagate: false to ignore)"},
			},
		},
		test{
			name: "retry succeeds on the second attempt",
			c: Case{
				Script: lines(
					"retry(3) {",
					"  build job: 'price_model'",
					"}",
					"echo 'priced'"),
				Builds: map[string]Builds{"price_model": results("FAILURE", "SUCCESS")},
			},
			want: Result{
				Result: "SUCCESS",
				Calls: []Call{
					{Job: "price_model", Wait: true, Propagate: true, Result: "FAILURE", Line: 2},
					{Job: "price_model", Wait: true, Propagate: true, Result: "SUCCESS", Line: 2},
				},
				Log: []string{"priced"},
			},
		},
	)
}

// stepTests cover the flow steps and the globals.
func stepTests() []test {
	return []test{
		{
			name: "retry gives up",
			c: Case{Script: lines(
				"retry(count: 2) {",
				"  echo 'trying'",
				"  error 'still broken'",
				"}")},
			want: Result{Result: "FAILURE", Error: "still broken", ErrorLine: 3, Log: []string{"trying", "trying"}},
		},
		{
			name: "parallel runs every branch in order then rethrows the first error",
			c: Case{
				Script: lines(
					"stage('both') {",
					"  parallel(failFast: true,",
					"    a: { build job: 'fetch_model' },",
					"    b: { error 'b failed' },",
					"    c: { error 'c failed' },",
					"    d: { build job: 'price_model' })",
					"}",
					"echo 'not reached'"),
				Builds: map[string]Builds{"fetch_model": every("SUCCESS"), "price_model": every("SUCCESS")},
			},
			want: Result{
				Result: "FAILURE", Error: "b failed", ErrorLine: 4,
				Calls: []Call{
					{Job: "fetch_model", Phase: "both", Wait: true, Propagate: true, Result: "SUCCESS", Line: 3},
					{Job: "price_model", Phase: "both", Wait: true, Propagate: true, Result: "SUCCESS", Line: 6},
				},
			},
		},
		{
			name: "stage with a map",
			c: Case{
				Script: lines("stage(name: 'mapped') {", "  build job: 'fetch_model'", "}"),
				Builds: map[string]Builds{"fetch_model": every("SUCCESS")},
			},
			want: Result{
				Result: "SUCCESS",
				Calls:  []Call{{Job: "fetch_model", Phase: "mapped", Wait: true, Propagate: true, Result: "SUCCESS", Line: 2}},
			},
		},
		{
			name: "parallel takes a map of branches",
			c: Case{Script: lines(
				"def branches = [:]",
				"for (name in ['x', 'y']) {",
				"  def n = name",
				"  branches[n] = { echo n; return n + '!' }",
				"}",
				"echo parallel(branches).toString()")},
			want: Result{Result: "SUCCESS", Log: []string{"x", "y", "[x:x!, y:y!]"}},
		},
		{
			name: "sh",
			c: Case{
				Script: lines(
					"sh 'make build'",
					"def v = sh(script: 'git describe --tags', returnStdout: true).trim()",
					"echo v",
					"def s = sh(script: 'curl -sS http://x.invalid', returnStatus: true, label: 'post')",
					`echo "status ${s}"`,
					"try {",
					"  sh(script: 'git status', returnStdout: true)",
					"} catch (hudson.AbortException e) {",
					"  echo e.message",
					"}",
					"sh 'exit 3'"),
				Sh: []Sh{
					{Command: "make build"},
					{Regex: "^git describe", Stdout: "v1.2.0\n"},
					{Regex: "git", Stdout: "never returned", Status: 128},
					{Regex: `curl\b`, Status: 7},
					{Command: "exit 3", Status: 3},
				},
			},
			want: Result{
				Result: "FAILURE", Error: "script returned exit code 3", ErrorLine: 11,
				ShCalls: []ShCall{
					{Command: "make build", Line: 1},
					{Command: "git describe --tags", Line: 2},
					{Command: "curl -sS http://x.invalid", Status: 7, Line: 4},
					{Command: "git status", Status: 128, Line: 7},
					{Command: "exit 3", Status: 3, Line: 11},
				},
				Log: []string{"v1.2.0", "status 7", "script returned exit code 128"},
			},
		},
		{
			name: "withEnv overlays env and restores it",
			c: Case{
				Script: lines(
					"env.STAGE = 'one'",
					"withEnv(['STAGE=two', 'PATH+TOOLS=/opt/tools']) {",
					`  echo "${env.STAGE} ${env.PATH}"`,
					"  env.STAGE = 'three'",
					"  echo env.STAGE",
					"}",
					`echo "${env.STAGE} ${env['PATH']} ${STAGE} ${env.UNSET} ${JOB_NAME}"`,
					"def all = env.getEnvironment()",
					"all.STAGE = 'copy'",
					`echo "${env.STAGE} ${all.WORKSPACE}"`),
				Env: map[string]string{"PATH": "/bin", "JOB_NAME": "modelshop/process_upload"},
			},
			want: Result{Result: "SUCCESS", Log: []string{
				"two /opt/tools:/bin", "two", "three /bin three null modelshop/process_upload", "three /workspace",
			}},
		},
		{
			name: "params are read-only",
			c: Case{
				Script: lines(
					`echo "${params.SRC} ${params.RUSH} ${params.NOPE}"`,
					"params.SRC = 'elsewhere'"),
				Params: map[string]any{"SRC": "s3://models/gear.stl", "RUSH": false},
			},
			want: Result{
				Result: "FAILURE", Error: "java.lang.UnsupportedOperationException", ErrorLine: 2,
				Log: []string{"s3://models/gear.stl false null"},
			},
		},
		{
			name: "currentBuild result only gets worse",
			c: Case{
				Script: lines(
					"echo \"${currentBuild.result} ${currentBuild.currentResult}\"",
					"currentBuild.result = 'UNSTABLE'",
					"currentBuild.result = 'SUCCESS'",
					"currentBuild.setResult('SUCCESS')",
					"currentBuild.description = 'gear.stl'",
					"echo \"${currentBuild.result} ${currentBuild.getResult()} ${currentBuild.currentResult} ${currentBuild.number}\"",
					"echo \"${currentBuild.description} ${currentBuild.displayName} ${currentBuild.fullDisplayName}\"",
					"echo \"${currentBuild.absoluteUrl} ${currentBuild.durationString}\""),
				Env: map[string]string{"JOB_NAME": "modelshop/process_upload", "BUILD_NUMBER": "42"},
			},
			want: Result{Result: "UNSTABLE", Log: []string{
				"null SUCCESS",
				"UNSTABLE UNSTABLE UNSTABLE 42",
				"gear.stl #42 modelshop » process_upload #42",
				"http://jenkins.invalid/job/modelshop/job/process_upload/42/ 0 ms and counting",
			}},
		},
		{
			name: "an error after ABORTED keeps ABORTED",
			c: Case{Script: lines(
				"currentBuild.result = 'ABORTED'",
				"error 'stop'")},
			want: Result{Result: "ABORTED", Error: "stop", ErrorLine: 2},
		},
		{
			name: "unstable",
			c:    Case{Script: lines("unstable 'flaky printer'", "echo 'on'")},
			want: Result{Result: "UNSTABLE", Log: []string{"WARNING: flaky printer", "on"}},
		},
		{
			name: "error ends the build",
			c: Case{
				ScriptName: "Orchestration",
				Script: lines(
					"node {",
					"  stage('check') {",
					"    error 'the model is too big'",
					"  }",
					"}"),
			},
			want: Result{Result: "FAILURE", Error: "the model is too big", ErrorLine: 3},
		},
		{
			name: "an exception of the script",
			c: Case{Script: lines(
				"def sizes = null",
				"echo sizes.first()")},
			want: Result{
				Result: "FAILURE", ErrorLine: 2,
				Error: "java.lang.NullPointerException: Cannot invoke method first() on null object",
			},
		},
		{
			name: "a method of the script called with the wrong arguments",
			c: Case{Script: lines(
				"def twice(int n) { 2 * n }",
				"echo twice(1, 2).toString()")},
			want: Result{
				Result: "FAILURE", ErrorLine: 2,
				Error: "groovy.lang.MissingMethodException: No signature of method: WorkflowScript.twice() is applicable for argument types: (java.lang.Integer, java.lang.Integer) values: [1, 2]\nPossible solutions: twice(int), wait(), find(), wait(long, int), with(groovy.lang.Closure)",
			},
		},
		{
			name: "node timeout sleep isUnix",
			c: Case{Script: lines(
				"node('linux') {",
				"  timeout(time: 10, unit: 'MINUTES') {",
				"    timeout(5) {",
				"      sleep 1000000",
				"      sleep(time: 3, unit: 'SECONDS')",
				"      echo \"unix ${isUnix()}\"",
				"    }",
				"  }",
				"}")},
			want: Result{Result: "SUCCESS", Log: []string{"unix true"}},
		},
		{
			name: "output goes to the log",
			c: Case{Script: lines(
				"class Part {",
				"  def show() { println 'from a class'; System.out.println('from System.out') }",
				"}",
				"new Part().show()",
				"printf('%03d%n', 7)",
				"print 'no newline, '",
				"println 'then one'",
				"echo \"two\\nlines\"")},
			want: Result{Result: "SUCCESS", Log: []string{
				"from a class", "from System.out", "007", "no newline, then one", "two", "lines",
			}},
		},
		{
			name: "NonCPS",
			c: Case{Script: lines(
				"@NonCPS",
				"def keys(Map m) {",
				"  return m.keySet().sort().join(',')",
				"}",
				"echo keys([b: 1, a: 2])")},
			want: Result{Result: "SUCCESS", Log: []string{"a,b"}},
		},
	}
}

// workspaceTests cover files, JSON and artifacts.
func workspaceTests() []test {
	return []test{
		{
			name: "readJSON writeJSON",
			c: Case{Script: lines(
				"writeJSON file: 'out/a.json', json: [name: 'gear', size: [1, 2.5], ok: true, none: null, empty: [:]]",
				"def a = readJSON file: './out/../out/a.json'",
				"echo readFile('out/a.json')",
				`echo "${a.name} ${a.size[1]} ${a.ok} ${a.getClass().simpleName}"`,
				"writeJSON file: 'b.json', json: a, pretty: 2",
				"echo readFile(file: 'b.json', encoding: 'UTF-8')",
				"echo readJSON(text: '{\"k\": [7]}').k[0].toString()",
				"echo writeJSON(json: [1], returnText: true)")},
			want: Result{Result: "SUCCESS", Log: []string{
				`{"name":"gear","size":[1,2.5],"ok":true,"none":null,"empty":{}}`,
				"gear 2.5 true LinkedHashMap",
				"{",
				`  "name": "gear",`,
				`  "size": [`,
				"    1,",
				"    2.5",
				"  ],",
				`  "ok": true,`,
				`  "none": null,`,
				`  "empty": {}`,
				"}",
				"7",
				"[1]",
			}},
		},
		{
			name: "dir fileExists deleteDir readFile",
			c: Case{Script: lines(
				"dir('sub') {",
				"  writeFile file: 'x.txt', text: 'x'",
				"  writeFile file: '../b/c.txt', text: 'c'",
				"}",
				"echo \"${fileExists('b')} ${fileExists('sub/x.txt')} ${fileExists('/workspace/b/c.txt')} ${fileExists(file: 'nope')}\"",
				"dir('sub') { deleteDir() }",
				"echo \"${fileExists('sub/x.txt')} ${fileExists('b/c.txt')}\"",
				"deleteDir()",
				"echo \"${fileExists('b/c.txt')}\"",
				"try {",
				"  readJSON file: 'gone.json'",
				"} catch (FileNotFoundException e) {",
				"  echo e.message",
				"}",
				"readFile 'gone.txt'")},
			want: Result{
				Result: "FAILURE", Error: "java.nio.file.NoSuchFileException: /workspace/gone.txt", ErrorLine: 15,
				Log: []string{"true true true false", "false true", "false", "/workspace/gone.json does not exist."},
			},
		},
		{
			name: "copyArtifacts and readJSON of a mocked report",
			c: Case{
				Script: lines(
					"def r = build job: 'fetch_model', propagate: false",
					"copyArtifacts projectName: r.fullProjectName, selector: specific(\"${r.number}\"), filter: 'report.json', target: 'reports/fetch'",
					"def report = readJSON file: 'reports/fetch/report.json'",
					`echo "${report.process} ${report.status} ${report.reason} ${report.data.sha256} ${report.attempts}"`,
					"copyArtifacts projectName: 'price_model', selector: lastSuccessful(), optional: true",
					"echo \"${fileExists('report.json')}\"",
					"copyArtifacts projectName: 'fetch_model', selector: lastCompleted(), target: 'x', flatten: true",
					"echo readFile('x/report.json')",
					"try {",
					"  copyArtifacts projectName: 'fetch_model', filter: '*.xml', selector: specific(buildNumber: '1')",
					"} catch (hudson.AbortException e) {",
					"  echo e.message",
					"}",
					"try {",
					"  copyArtifacts projectName: 'fetch_model'",
					"} catch (hudson.AbortException e) {",
					"  echo e.message",
					"}",
					"copyArtifacts projectName: 'modelshop/fetch_model-v1-8710a65b4acf', selector: specific('2')"),
				Builds: map[string]Builds{"fetch_model": {Every: true, Results: []BuildResult{{
					Status: "FAILURE", Reason: "no such object", Data: map[string]any{"sha256": "ab12"}, Report: true,
				}}}},
			},
			want: Result{
				Result: "FAILURE", ErrorLine: 19,
				Error: "Unable to find a build for artifact copy from: modelshop/fetch_model-v1-8710a65b4acf",
				Calls: []Call{{Job: "fetch_model", Wait: true, Result: "FAILURE", Line: 1}},
				Log: []string{
					"fetch_model FAILURE no such object ab12 1",
					"false",
					`{"process":"fetch_model","status":"FAILURE","reason":"no such object","data":{"sha256":"ab12"},"log":"","duration_ms":0,"attempts":1}`,
					"Failed to copy artifacts from fetch_model with filter: *.xml",
					"Unable to find a build for artifact copy from: fetch_model",
				},
			},
		},
		{
			name: "archiveArtifacts captures report.json",
			c: Case{Script: lines(
				"writeFile file: 'report.json', text: '{\"status\": \"SUCCESS\", \"n\": 1, \"data\": {\"price\": 12.5}}'",
				"archiveArtifacts artifacts: 'report.json', fingerprint: true",
				"writeFile file: 'report.json', text: 'not JSON'",
				"archiveArtifacts artifacts: '*.txt, logs/**', allowEmptyArchive: true",
				"archiveArtifacts 'missing/**'")},
			want: Result{
				Result: "FAILURE", ErrorLine: 5,
				Error:  `No artifacts found that match the file pattern "missing/**". Configuration error?`,
				Report: map[string]any{"status": "SUCCESS", "n": float64(1), "data": map[string]any{"price": 12.5}},
			},
		},
		{
			name: "archiveArtifacts in a dir",
			c: Case{Script: lines(
				"dir('out') {",
				"  writeFile file: 'report.json', text: '{\"status\": \"UNSTABLE\"}'",
				"  writeFile file: 'deep/report.json', text: '{}'",
				"  archiveArtifacts '**/*.json'",
				"}")},
			want: Result{Result: "SUCCESS", Report: map[string]any{"status": "UNSTABLE"}},
		},
	}
}

// faultTests cover failures of the case rather than of the script.
func faultTests() []test {
	const pad = "echo 'padding'"
	return []test{
		{
			name: "build of a job with no mock",
			c: Case{Script: lines(
				pad,
				"build job: 'price_model-v2-4e5f6a7b8c9d'")},
			want: Result{
				Result: "FAILURE", FaultLine: 2, Log: []string{"padding"},
				Fault: "line 2: build job 'price_model-v2-4e5f6a7b8c9d' (call 1 of price_model) has no mock: add price_model to the case's mocks",
			},
		},
		{
			name: "a fault names the line the call starts on",
			c: Case{Script: lines(
				"def r = build(",
				"  job: 'price_model',",
				"  parameters: [string(name: 'MATERIAL', value: 'pla')],",
				")")},
			want: Result{
				Result: "FAILURE", FaultLine: 1,
				Fault: "line 1: build job 'price_model' (call 1 of price_model) has no mock: add price_model to the case's mocks",
			},
		},
		{
			name: "build mocks exhausted",
			c: Case{
				Script: lines(
					"build job: 'price_model'",
					"build job: 'price_model'",
					pad,
					"build job: 'price_model'"),
				Builds: map[string]Builds{"price_model": results("SUCCESS", "SUCCESS")},
			},
			want: Result{
				Result: "FAILURE", FaultLine: 4, Log: []string{"padding"},
				Fault: "line 4: price_model was called 3 times but the case mocks only 2 results",
				Calls: []Call{
					{Job: "price_model", Wait: true, Propagate: true, Result: "SUCCESS", Line: 1},
					{Job: "price_model", Wait: true, Propagate: true, Result: "SUCCESS", Line: 2},
				},
			},
		},
		{
			name: "build of an unknown job",
			c:    Case{Script: lines("build job: 'modelshop/nope'")},
			want: Result{Result: "FAILURE", FaultLine: 1, Fault: "line 1: build job 'modelshop/nope': no job of the project is named nope"},
		},
		{
			name: "sh with no mock",
			c: Case{
				Script: lines(pad, "sh 'curl -sS https://example.invalid'"),
				Sh:     []Sh{{Regex: "^make"}},
			},
			want: Result{
				Result: "FAILURE", FaultLine: 2, Log: []string{"padding"},
				Fault: "line 2: sh has no mock for: curl -sS https://example.invalid (add an sh mock with this command or a regex)",
			},
		},
		{
			name: "unknown step",
			c: Case{Script: lines(
				"node {",
				"  withCredentials([]) {",
				"  }",
				"}")},
			want: Result{
				Result: "FAILURE", FaultLine: 2,
				Fault: "line 2: unknown step 'withCredentials': jobctl's mock step library has no such step",
			},
		},
		{
			name: "step with arguments it does not take",
			c:    Case{Script: lines("retry('twice') {", "}")},
			want: Result{Result: "FAILURE", FaultLine: 1, Fault: "line 1: retry does not take arguments (String, Closure)"},
		},
		{
			name: "unknown variable",
			c: Case{
				Script: lines("echo BUILD_TAG", "checkout scm"),
				Env:    map[string]string{"BUILD_TAG": "jenkins-process_upload-42"},
			},
			want: Result{
				Result: "FAILURE", FaultLine: 2, Log: []string{"jenkins-process_upload-42"},
				Fault: "line 2: unknown variable 'scm'",
			},
		},
		{
			name: "unknown property of currentBuild",
			c:    Case{Script: lines(pad, "echo currentBuild.rawBuild.toString()")},
			want: Result{
				Result: "FAILURE", FaultLine: 2, Log: []string{"padding"},
				Fault: "line 2: currentBuild.rawBuild is not in jobctl's mocks",
			},
		},
		{
			name: "unknown property of a build result",
			c: Case{
				Script: lines("def r = build job: 'fetch_model'", "echo r.rawBuild.toString()"),
				Builds: map[string]Builds{"fetch_model": every("SUCCESS")},
			},
			want: Result{
				Result: "FAILURE", FaultLine: 2,
				Fault: "line 2: the result of build modelshop/fetch_model-v1-8710a65b4acf has no property 'rawBuild' in jobctl's mocks",
				Calls: []Call{{Job: "fetch_model", Wait: true, Propagate: true, Result: "SUCCESS", Line: 1}},
			},
		},
		{
			name: "catch (e) cannot swallow a fault",
			c: Case{Script: lines(
				"try {",
				"  [1, 2].each { build job: 'price_model' }",
				"} catch (e) {",
				"  echo 'swallowed'",
				"}",
				"echo 'after'")},
			want: Result{
				Result: "FAILURE", FaultLine: 2,
				Fault: "line 2: build job 'price_model' (call 1 of price_model) has no mock: add price_model to the case's mocks",
			},
		},
		{
			name: "a fault caught as Throwable is still a fault",
			c: Case{Script: lines(
				"try {",
				"  nope()",
				"} catch (Throwable t) {",
				"  echo 'caught'",
				"}",
				"echo 'after'")},
			want: Result{
				Result: "FAILURE", FaultLine: 2, Log: []string{"caught", "after"},
				Fault: "line 2: unknown step 'nope': jobctl's mock step library has no such step",
			},
		},
		{
			name: "a fault ends parallel at once",
			c: Case{Script: lines(
				"parallel(",
				"  a: { junit 'x.xml' },",
				"  b: { echo 'b' })")},
			want: Result{
				Result: "FAILURE", FaultLine: 2,
				Fault: "line 2: unknown step 'junit': jobctl's mock step library has no such step",
			},
		},
		{
			name: "a script that does not compile",
			c: Case{Script: lines(
				"node {",
				"  echo 'x' +",
				"}")},
			want: Result{Result: "FAILURE", FaultLine: 3, Fault: "the script does not compile: unexpected token: } @ line 3, column 1."},
		},
		{
			name: "an archived report that is not JSON",
			c: Case{Script: lines(
				"writeFile file: 'report.json', text: '{\"status\": '",
				"archiveArtifacts 'report.json'")},
			want: Result{Result: "FAILURE", Fault: "the archived report.json is not a JSON object: unexpected end of the JSON text"},
		},
		{
			name: "an archived report that is not an object",
			c: Case{Script: lines(
				"writeFile file: 'report.json', text: '[1, 2]'",
				"archiveArtifacts 'report.json'")},
			want: Result{Result: "FAILURE", Fault: "the archived report.json is not a JSON object: it is [1,2]"},
		},
		{
			name: "an invalid sh regex",
			c: Case{
				Script: lines("sh 'ls'"),
				Sh:     []Sh{{Regex: "("}},
			},
			want: Result{Result: "FAILURE", Fault: "sh mock 1 has an invalid regex: Unclosed group near index 1\n("},
		},
	}
}

// modelshop mocks every worker of testdata/process_upload.groovy, each
// leaving a report.
func modelshop() map[string]Builds {
	ok := func(data map[string]any) Builds {
		return Builds{Every: true, Results: []BuildResult{{Status: "SUCCESS", Data: data, Report: true}}}
	}
	return map[string]Builds{
		"fetch_model":        ok(map[string]any{"name": "gear.stl", "sha256": "ab12", "size_bytes": 1024}),
		"inspect_model":      ok(map[string]any{"volume_mm3": 1234.5, "bbox": map[string]any{"size": []any{10, 20, 30.5}}}),
		"render_thumbnail":   ok(map[string]any{"path": "thumb.png"}),
		"check_printability": ok(map[string]any{"fits": true}),
		"price_model":        ok(map[string]any{"price": 12.5, "currency": "EUR"}),
		"register_part":      ok(map[string]any{"part_id": "P-1"}),
		"store_result":       ok(nil),
	}
}

// orchestrationCase is a case of testdata/process_upload.groovy with every
// worker succeeding.
func orchestrationCase(tb testing.TB) Case {
	tb.Helper()
	script, err := os.ReadFile(filepath.Join("testdata", "process_upload.groovy"))
	if err != nil {
		tb.Fatal(err)
	}
	return Case{
		Script: string(script),
		Params: map[string]any{
			"SOURCE_S3_FILE_PATH":     "s3://uploads/gear.stl",
			"RESULT_S3_FILE_PATH":     "s3://results/gear.json",
			"REGISTRATION_RETURN_URL": "https://shop.invalid/parts",
			"REPORT_RETURN_URL":       "https://shop.invalid/reports",
			"TOOLS_COMMIT":            "abc123",
			"MATERIAL":                "pla",
			"PRINTER":                 "mk4",
			"RUSH":                    false,
		},
		Env:    map[string]string{"JOB_NAME": "modelshop/process_upload-v1-000000000000", "BUILD_NUMBER": "1"},
		Folder: "modelshop",
		Jobs:   jobs,
		Builds: modelshop(),
		Sh: []Sh{
			{Command: "date -u +%Y-%m-%dT%H:%M:%SZ", Stdout: "2024-05-01T10:00:00Z\n"},
			{Regex: "^curl .*REPORT_URL"},
		},
	}
}

// orchestrationTests run testdata/process_upload.groovy, the benchmark's script.
func orchestrationTests(tb testing.TB) []test {
	ignoreParams := cmpopts.IgnoreFields(Call{}, "Params")
	call := func(job, phase string, line int, result string) Call {
		return Call{Job: job, Phase: phase, Wait: true, Result: result, Line: line}
	}
	sh := []ShCall{
		{Command: "date -u +%Y-%m-%dT%H:%M:%SZ", Line: 52},
		{Command: `curl -sS --fail --retry 3 -X POST -H "Content-Type: application/json" --data-binary @report.json "$REPORT_URL"`, Line: 147},
	}

	success := orchestrationCase(tb)
	inspectFails := orchestrationCase(tb)
	inspectFails.Builds["inspect_model"] = Builds{Every: true, Results: []BuildResult{{Status: "FAILURE", Reason: "not a mesh", Report: true}}}
	noPost := orchestrationCase(tb)
	noPost.Builds["render_thumbnail"] = every("ABORTED") // no report
	noPost.Sh[1].Status = 7

	return []test{
		{
			name: "orchestration succeeds",
			c:    success,
			opts: []cmp.Option{ignoreParams},
			want: Result{
				Result: "SUCCESS",
				Report: map[string]any{
					"process": "process_upload", "status": "SUCCESS", "reason": "", "log": "", "duration_ms": float64(0), "attempts": float64(1),
					"data": map[string]any{
						"tools_commit": "abc123", "started": "2024-05-01T10:00:00Z", "volume_mm3": 1234.5,
						"fits": true, "price": 12.5, "currency": "EUR", "part_id": "P-1",
					},
				},
				Calls: []Call{
					call("fetch_model", "fetch", 45, "SUCCESS"),
					call("inspect_model", "inspect", 45, "SUCCESS"),
					call("render_thumbnail", "inspect", 45, "SUCCESS"),
					call("check_printability", "check and price", 45, "SUCCESS"),
					call("price_model", "check and price", 45, "SUCCESS"),
					call("register_part", "register", 45, "SUCCESS"),
					call("store_result", "store", 45, "SUCCESS"),
				},
				ShCalls: sh,
				Log:     []string{"report sent"},
			},
		},
		{
			name: "orchestration with a failed step",
			c:    inspectFails,
			opts: []cmp.Option{ignoreParams},
			want: Result{
				Result: "FAILURE", Error: "inspect_model failed: not a mesh", ErrorLine: 151,
				Report: map[string]any{
					"process": "process_upload", "status": "FAILURE", "reason": "inspect_model failed: not a mesh",
					"log": "", "duration_ms": float64(0), "attempts": float64(1),
					"data": map[string]any{"tools_commit": "abc123", "started": "2024-05-01T10:00:00Z", "failed_step": "inspect_model"},
				},
				Calls: []Call{
					call("fetch_model", "fetch", 45, "SUCCESS"),
					call("inspect_model", "inspect", 45, "FAILURE"),
					call("render_thumbnail", "inspect", 45, "SUCCESS"),
					call("store_result", "store", 45, "SUCCESS"),
				},
				ShCalls: sh,
			},
		},
		{
			name: "orchestration with a step without a report",
			c:    noPost,
			opts: []cmp.Option{ignoreParams, cmpopts.IgnoreFields(Result{}, "Report", "ShCalls")},
			want: Result{
				Result: "FAILURE", ErrorLine: 151,
				Error: "render_thumbnail failed: build modelshop/render_thumbnail-v2-77c1d0a9e3b2 #1 ended ABORTED without a report",
				Calls: []Call{
					call("fetch_model", "fetch", 45, "SUCCESS"),
					call("inspect_model", "inspect", 45, "SUCCESS"),
					call("render_thumbnail", "inspect", 45, "ABORTED"),
					call("store_result", "store", 45, "SUCCESS"),
				},
			},
		},
	}
}

func TestRunGroovyNoGroovy(t *testing.T) {
	t.Setenv("JOBCTL_GROOVY", "")
	t.Setenv("PATH", t.TempDir())
	_, err := RunGroovy(context.Background(), []Case{{ID: "x", Script: "echo 'x'"}})
	if !errors.Is(err, ErrNoGroovy) {
		t.Fatalf("RunGroovy without groovy on PATH: got %v, want ErrNoGroovy", err)
	}
	for _, want := range []string{"raw Groovy orchestrations are tested under groovy", "apt-get install -y default-jre-headless groovy"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestRunGroovyFailures(t *testing.T) {
	// fake writes a shell script standing in for groovy.
	fake := func(t *testing.T, body string) string {
		path := filepath.Join(t.TempDir(), "groovy")
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name   string
		groovy string // the script's body
		want   []string
	}{
		{
			name:   "crash",
			groovy: "for i in $(seq 1 30); do echo \"line $i\" >&2; done; exit 1",
			want:   []string{"running groovy: exit status 1", "line 11\n", "line 30"},
		},
		{
			name:   "no results",
			groovy: "echo 'Caught: groovy.lang.MissingPropertyException' >&2",
			want:   []string{"running groovy: no results", "Caught: groovy.lang.MissingPropertyException"},
		},
		{
			name:   "results for other cases",
			groovy: `echo '{"results": []}' > "$3"`,
			want:   []string{"running groovy: 0 results for 1 cases"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("JOBCTL_GROOVY", fake(t, tt.groovy))
			_, err := RunGroovy(context.Background(), []Case{{ID: "x", Script: "echo 'x'"}})
			if err == nil {
				t.Fatal("RunGroovy: no error")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "line 10\n") {
				t.Errorf("error %q quotes more than the last %d lines", err, stderrLines)
			}
		})
	}
}

func TestRunGroovyInvalidCases(t *testing.T) {
	cases := []Case{{
		ID:         "bad",
		ScriptName: "Workflow Script",
		Builds: map[string]Builds{
			"b": {Every: true, Results: []BuildResult{{Status: "SUCCESS"}, {Status: "SUCCESS"}}},
			"a": {Results: []BuildResult{{Status: "PASSED"}}},
		},
		Sh: []Sh{{Command: "ls", Regex: "ls"}, {}},
	}}
	_, err := RunGroovy(context.Background(), cases)
	want := `invalid cases: case 1 (bad): scriptName "Workflow Script" is not a class name
case 1 (bad): builds of a: status "PASSED" is not one of SUCCESS, UNSTABLE, FAILURE, ABORTED, NOT_BUILT
case 1 (bad): builds of b: every needs exactly one result, not 2
case 1 (bad): sh mock 1: give command or regex, not both or neither
case 1 (bad): sh mock 2: give command or regex, not both or neither`
	if err == nil {
		t.Fatal("RunGroovy: no error")
	}
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
}

// BenchmarkRunGroovy100 runs 100 cases of a realistic orchestration
// (testdata/process_upload.groovy) in one groovy process, JVM start included.
func BenchmarkRunGroovy100(b *testing.B) {
	needGroovy(b)
	cases := make([]Case, 100)
	for i := range cases {
		c := orchestrationCase(b)
		c.ID = fmt.Sprintf("case-%d", i)
		c.Params["SOURCE_S3_FILE_PATH"] = fmt.Sprintf("s3://uploads/model-%d.stl", i)
		if i%4 == 3 {
			c.Builds["price_model"] = Builds{Every: true, Results: []BuildResult{{Status: "FAILURE", Reason: "no price", Report: true}}}
		}
		cases[i] = c
	}
	for b.Loop() {
		results, err := RunGroovy(context.Background(), cases)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range results {
			if r.Fault != "" {
				b.Fatalf("%s: %s", r.ID, r.Fault)
			}
		}
	}
}
