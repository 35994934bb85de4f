package jobs

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var testDefaults = Defaults{Label: "linux", Keep: Keep{Days: 3, Builds: 200}, Timeout: 10 * time.Minute}

func TestParseJobFull(t *testing.T) {
	src := `kind: worker
description: Inspect a model.
params:
  MODEL_URL:
    type: string
    required: true
    description: Where the model is.
  MATERIAL:
    type: choice
    choices: [pla, petg, resin]
    default: petg
  RUSH:
    type: boolean
    default: true
  TOKEN:
    type: password
outputs:
  volume_mm3: number
  bbox:
    type: object
    required: true
    fields:
      min: {type: array, items: number}
script: body.sh
label: linux && docker
schedule: "H 2 * * 1-5"
concurrent: true
timeout: 1h30m
retries: 2
keep: {builds: 10}
requires:
  plugins: {workflow-job: ">= 2.40"}
  tools:
    node: "~> 8.12"
    java: {version: ">= 11", probe: "java -version"}
`
	var ps Problems
	got := ParseJob("jobs/inspect/job.yaml", "inspect", []byte(src), testDefaults, &ps)
	if err := ps.Err(); err != nil {
		t.Fatalf("unexpected problems:\n%v", err)
	}
	want := &Job{
		Name: "inspect", File: "jobs/inspect/job.yaml", Kind: Worker,
		Description: "Inspect a model.",
		Params: []Param{
			{Name: "MODEL_URL", Type: String, Required: true, Description: "Where the model is.", Line: 4, Col: 3},
			{Name: "MATERIAL", Type: Choice, Default: "petg", HasDefault: true, Choices: []string{"petg", "pla", "resin"}, Line: 8, Col: 3},
			{Name: "RUSH", Type: Boolean, Default: "true", HasDefault: true, Line: 12, Col: 3},
			{Name: "TOKEN", Type: Password, Line: 15, Col: 3},
		},
		Outputs: []Field{
			{Name: "volume_mm3", Type: TypeNumber, Line: 18, Col: 3},
			{Name: "bbox", Type: TypeObject, Required: true, Line: 19, Col: 3, Fields: []Field{
				{Name: "min", Type: TypeArray, Line: 23, Col: 7, Items: &Field{Name: "items", Type: TypeNumber, Line: 23, Col: 26}},
			}},
		},
		Script:   "jobs/inspect/body.sh",
		BodyLine: 24, BodyCol: 9,
		Label:      "linux && docker",
		Schedule:   "H 2 * * 1-5",
		Concurrent: true,
		Timeout:    90 * time.Minute,
		Retries:    2,
		Keep:       Keep{Days: 3, Builds: 10},
		Requires: Requires{
			Plugins: []Requirement{{Name: "workflow-job", Constraint: ">= 2.40", Line: 32, Col: 13}},
			Tools: []Requirement{
				{Name: "node", Constraint: "~> 8.12", Probe: "node --version", Line: 34, Col: 5},
				{Name: "java", Constraint: ">= 11", Probe: "java -version", Line: 35, Col: 5},
			},
		},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Job{}, "FlowNode")); diff != "" {
		t.Errorf("ParseJob (-want +got):\n%s", diff)
	}
}

func TestParseJobDefaults(t *testing.T) {
	var ps Problems
	got := ParseJob("jobs/o/job.yaml", "o", []byte("kind: orchestration\n"), testDefaults, &ps)
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	if got.Label != "linux" || got.Timeout != 10*time.Minute || got.Keep != (Keep{3, 200}) || got.Pipeline != "" {
		t.Errorf("defaults not applied: %+v", got)
	}
	got = ParseJob("jobs/w/job.yaml", "w", []byte("kind: worker\n"), testDefaults, &ps)
	if got.Script != "jobs/w/run.sh" {
		t.Errorf("Script = %q, want jobs/w/run.sh", got.Script)
	}
}

// TestParseJobProblems checks that every problem in a file is reported in
// one run, each with its file:line:col.
func TestParseJobProblems(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "many problems at once",
			src: `kind: wroker
descriptoin: x
params:
  bad-name: {type: string}
  P1: {type: strng}
  P2: {type: choice}
  P3: {type: password, default: s3cret}
  P4: {type: boolean, default: maybe}
  P5: {type: string, required: true, default: x}
  P6: {type: choice, choices: [a, b], default: c}
  PATH: {}
  JOBCTL_X: {}
schedule: "H 75 * * *"
timeout: soon
retries: -1
concurrent: "yes"
requires:
  plugins: {workflow-job: "> = 2"}
  tools: {node: "~> x"}
keep: {days: many}
`,
			want: []string{
				`jobs/j/job.yaml:1:7: kind must be worker or orchestration, found "wroker"; did you mean "worker"?`,
				`jobs/j/job.yaml:2:1: job: unknown key "descriptoin"; did you mean "description"?`,
				`jobs/j/job.yaml:4:3: param "bad-name": a param name must be a valid environment variable name (letters, digits and '_', not starting with a digit)`,
				`jobs/j/job.yaml:5:14: param P1: type must be string, boolean, choice or password, found "strng"; did you mean "string"?`,
				`jobs/j/job.yaml:6:3: param P2: a choice param needs choices`,
				`jobs/j/job.yaml:7:24: param P3: a password param cannot have a default (it would be stored in the job's XML); pass it when triggering the build`,
				`jobs/j/job.yaml:8:32: param P4 default must be true or false, found a string`,
				`jobs/j/job.yaml:9:38: param P5: a required param cannot have a default; drop one of the two`,
				`jobs/j/job.yaml:10:48: param P6: default "c" is not one of the choices`,
				`jobs/j/job.yaml:11:3: param "PATH": this name is set by Jenkins or the shell on every build; choose another`,
				`jobs/j/job.yaml:12:3: param "JOBCTL_X": names starting with JOBCTL_ are reserved for jobctl`,
				`jobs/j/job.yaml:13:14: schedule: hour 75 is out of range 0-23`,
				`jobs/j/job.yaml:14:10: timeout: invalid duration "soon"; write it like 90s, 30m, 2h or 7d`,
				`jobs/j/job.yaml:15:10: retries must be an integer from 0 to 20, found -1`,
				`jobs/j/job.yaml:16:13: concurrent must be true or false, found a string`,
				`jobs/j/job.yaml:18:27: plugin workflow-job: invalid version constraint "> = 2"; write e.g. ">= 1.2", "~> 8.12" or ">= 1.2, < 2"`,
				`jobs/j/job.yaml:19:17: tool node: invalid version constraint "~> x"; write e.g. ">= 1.2", "~> 8.12" or ">= 1.2, < 2"`,
				`jobs/j/job.yaml:20:14: keep days must be an integer, found a string`,
			},
		},
		{
			name: "missing kind",
			src:  "description: x\n",
			want: []string{`jobs/j/job.yaml:1:1: missing required key "kind" (worker or orchestration)`},
		},
		{
			name: "not a mapping",
			src:  "- a\n- b\n",
			want: []string{`jobs/j/job.yaml:1:1: job must be a mapping, found a list`, `jobs/j/job.yaml:1:1: missing required key "kind" (worker or orchestration)`},
		},
		{
			name: "yaml syntax",
			src:  "kind: worker\nparams: [\n",
			want: []string{`jobs/j/job.yaml:2: invalid YAML: did not find expected node content`},
		},
		{
			name: "duplicate keys",
			src:  "kind: worker\nkind: worker\nparams:\n  A: {}\n  A: {}\n",
			want: []string{
				`jobs/j/job.yaml:2:1: job: duplicate key "kind" (first at line 1)`,
				`jobs/j/job.yaml:5:3: params: duplicate key "A" (first at line 4)`,
			},
		},
		{
			name: "body keys of the wrong kind",
			src:  "kind: worker\npipeline: main.groovy\nflow: flow.yaml\n",
			want: []string{
				`jobs/j/job.yaml:2:1: pipeline is for orchestrations; a worker's body is its script`,
				`jobs/j/job.yaml:3:1: flow is for orchestrations; a worker's body is its script`,
			},
		},
		{
			name: "orchestration specifics",
			src:  "kind: orchestration\nscript: run.sh\nretries: 1\nrequires: {tools: {node: '>= 1'}}\npipeline: ../../etc/passwd\n",
			want: []string{
				`jobs/j/job.yaml:2:1: script is for workers; an orchestration's body is a flow or a pipeline`,
				`jobs/j/job.yaml:3:1: retries applies to workers only; an orchestration decides itself which steps to retry`,
				`jobs/j/job.yaml:4:11: requires.tools applies to workers only: an orchestration runs no tools itself`,
				`jobs/j/job.yaml:5:11: pipeline must name a file inside the job's folder, found "../../etc/passwd"`,
			},
		},
		{
			name: "control characters",
			src:  "kind: worker\ndescription: \"a\\x01b\"\n",
			want: []string{`jobs/j/job.yaml:2:14: description contains the control character U+0001 at byte 1, which Jenkins job XML cannot carry`},
		},
		{
			name: "choices with line breaks and twice",
			src:  "kind: worker\nparams:\n  C: {type: choice, choices: [\"a\\nb\", x, x]}\n",
			want: []string{
				`jobs/j/job.yaml:3:31: param C: a choice cannot contain a line break (Jenkins stores choices one per line)`,
				`jobs/j/job.yaml:3:42: param C: choice "x" is listed twice`,
			},
		},
		{
			name: "outputs",
			src:  "kind: worker\noutputs:\n  1x: number\n  y: {type: flaot}\n  z: {type: number, fields: {a: any}}\n",
			want: []string{
				`jobs/j/job.yaml:3:3: outputs: field "1x": a field name holds letters, digits and '_' and does not start with a digit`,
				`jobs/j/job.yaml:4:13: outputs.y: type must be one of string, number, integer, boolean, object, array, any, found "flaot"`,
				`jobs/j/job.yaml:5:21: outputs.z: fields are only for type object`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ps Problems
			ParseJob("jobs/j/job.yaml", "j", []byte(tt.src), testDefaults, &ps)
			err := ps.Err()
			if err == nil {
				t.Fatal("no problems reported")
			}
			got := strings.Split(err.Error(), "\n")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseJobBadName(t *testing.T) {
	for _, name := range []string{"Upper", "has space", "x--y", "trailing-", "9start", "a-v1-0123456789ab", strings.Repeat("a", 81)} {
		var ps Problems
		ParseJob("jobs/"+name+"/job.yaml", name, []byte("kind: worker\n"), testDefaults, &ps)
		if ps.Len() == 0 {
			t.Errorf("name %q accepted", name)
		}
	}
	for _, name := range []string{"a", "process_upload", "web-frontend-build-test", "x9"} {
		if err := CheckName(name); err != nil {
			t.Errorf("CheckName(%q) = %v", name, err)
		}
	}
}

func TestParseProject(t *testing.T) {
	src := `project: modelshop
defaults:
  label: linux
  keep: {days: 5}
  timeout: 10m
  retries: 1
  concurrent: true
master:
  url: http://127.0.0.1:8080
prune:
  schedule: "@daily"
  older_than: 14d
`
	var ps Problems
	got := ParseProject(ProjectFile, []byte(src), &ps)
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	want := &Project{
		Name:      "modelshop",
		Defaults:  Defaults{Label: "linux", Keep: Keep{Days: 5, Builds: 200}, Timeout: 10 * time.Minute, Retries: 1, Concurrent: true},
		MasterURL: "http://127.0.0.1:8080",
		Prune:     Prune{Schedule: "@daily", OlderThan: 14 * 24 * time.Hour, Line: 10, Col: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseProject (-want +got):\n%s", diff)
	}

	ps = Problems{}
	ParseProject(ProjectFile, []byte("project: Bad Name\nmaster: {url: 'https://u:p@x'}\nextra: 1\n"), &ps)
	got2 := strings.Split(ps.Err().Error(), "\n")
	want2 := []string{
		`jobctl.yaml:1:10: project "Bad Name": a name must start with a lowercase letter and hold only lowercase letters, digits, '_' and single '-' (not at the end)`,
		`jobctl.yaml:2:15: master url must not carry credentials; set JENKINS_USER and JENKINS_API_TOKEN in the environment instead`,
		`jobctl.yaml:3:1: jobctl.yaml: unknown key "extra"; expected one of: defaults, master, project, prune`,
	}
	if diff := cmp.Diff(want2, got2); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"90s": 90 * time.Second, "7d": 7 * 24 * time.Hour, "1d12h": 36 * time.Hour, "1h30m": 90 * time.Minute} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "-5m", "5", "x7d", "7dd"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) succeeded", in)
		}
	}
	for d, want := range map[time.Duration]string{90 * time.Second: "1m30s", 7 * 24 * time.Hour: "7d", 36 * time.Hour: "1d12h", 1500 * time.Millisecond: "1.5s"} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
