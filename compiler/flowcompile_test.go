package compiler

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jobctl/jobctl/jobs"
)

// flowRepo is repoFiles with a flow orchestration that calls both workers.
func flowRepo() map[string]string {
	files := repoFiles()
	files["jobs/quote/job.yaml"] = "kind: orchestration\nparams:\n  SRC: {type: string, required: true}\noutputs:\n  size: integer\n"
	files["jobs/quote/flow.yaml"] = `phases:
  - name: get
    steps:
      - {job: fetch, params: {SRC: "${params.SRC}"}}
  - name: look
    when: fetch.data.size > 0
    steps:
      - {job: inspect, params: {MODEL: "${params.SRC}"}}
report:
  data:
    size: ${fetch.data.size}
`
	return files
}

func TestCompileFlow(t *testing.T) {
	res := compileFiles(t, flowRepo())
	d := res.Def("quote")
	if d == nil || d.Flow == nil {
		t.Fatalf("quote was not compiled as a flow")
	}
	if diff := cmp.Diff([]string{"fetch", "inspect"}, d.Calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	// The flow comes after the workers it calls.
	pos := map[string]int{}
	for i, def := range res.Defs {
		pos[def.Name()] = i
	}
	if pos["quote"] < pos["fetch"] || pos["quote"] < pos["inspect"] {
		t.Errorf("order %v: quote before its callees", pos)
	}
	want := []jobs.Requirement{
		{Name: "copyartifact", Constraint: ">= 0"},
		{Name: "pipeline-build-step", Constraint: ">= 0"},
		{Name: "pipeline-stage-step", Constraint: ">= 0"},
		{Name: "pipeline-utility-steps", Constraint: ">= 2.9.0"},
		{Name: "workflow-basic-steps", Constraint: ">= 0"},
		{Name: "workflow-cps", Constraint: ">= 0"},
		{Name: "workflow-durable-task-step", Constraint: ">= 0"},
		{Name: "workflow-job", Constraint: ">= 0"},
	}
	if diff := cmp.Diff(want, d.Plugins); diff != "" {
		t.Errorf("plugins (-want +got):\n%s", diff)
	}
	script := scriptOf(t, d.XML)
	if script != d.Script {
		t.Errorf("Definition.Script differs from the XML's script")
	}
	for _, dep := range []string{res.Def("fetch").Deployed, res.Def("inspect").Deployed} {
		if !strings.Contains(script, "'"+dep+"'") {
			t.Errorf("the script does not call %s", dep)
		}
	}
	if !strings.Contains(string(d.XML), "<name>"+ReportReturnURL+"</name>") {
		t.Errorf("a flow accepts %s", ReportReturnURL)
	}
	// A worker's change renames the flow too.
	files := flowRepo()
	files["jobs/inspect/run.sh"] += "echo changed\n"
	if again := compileFiles(t, files).Def("quote"); again.Hash == d.Hash {
		t.Errorf("a callee's change left the flow's hash unchanged")
	}
}

func TestCompileFlowProblems(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(map[string]string)
		wants []string
	}{{
		name: "a misspelled job and a bad reference",
		edit: func(f map[string]string) {
			f["jobs/quote/flow.yaml"] = "phases:\n  - name: get\n    steps:\n      - {job: fetsh}\n      - {job: inspect, params: {MODEL: \"${fetch.data.path}\"}}\n"
		},
		wants: []string{
			`jobs/quote/flow.yaml:4:15: unknown job "fetsh"; did you mean "fetch"?`,
			`jobs/quote/flow.yaml:5:43: step inspect: unknown step "fetch"`,
		},
	}, {
		name: "both bodies",
		edit: func(f map[string]string) {
			f["jobs/quote/main.groovy"] = "build('fetch')\n"
		},
		wants: []string{"jobs/quote/job.yaml: jobs/quote has both main.groovy and flow.yaml: name the body with pipeline: main.groovy or flow: flow.yaml"},
	}, {
		name: "a flow file that is not YAML",
		edit: func(f map[string]string) {
			f["jobs/quote/flow.yaml"] = "phases: [\n"
		},
		wants: []string{"jobs/quote/flow.yaml:"},
	}, {
		name: "a flow that calls itself",
		edit: func(f map[string]string) {
			f["jobs/quote/flow.yaml"] = "phases:\n  - name: a\n    steps:\n      - {job: quote}\n"
		},
		wants: []string{"jobs/quote/flow.yaml:4:"},
	}, {
		name: "an inline flow",
		edit: func(f map[string]string) {
			delete(f, "jobs/quote/flow.yaml")
			f["jobs/quote/job.yaml"] = "kind: orchestration\nflow:\n  phases:\n    - name: a\n      steps:\n        - {job: inspct}\n"
		},
		wants: []string{`jobs/quote/job.yaml:6:17: unknown job "inspct"; did you mean "inspect"?`},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			files := flowRepo()
			tc.edit(files)
			got := strings.Join(compileErr(t, files), "\n")
			for _, w := range tc.wants {
				if !strings.Contains(got, w) {
					t.Errorf("problems lack %q:\n%s", w, got)
				}
			}
		})
	}
}
