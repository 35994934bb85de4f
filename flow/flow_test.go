package flow

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/jobctl/jobctl/jobs"
)

var testSelf = &jobs.Job{
	Name: "process_upload",
	Kind: jobs.Orchestration,
	Params: []jobs.Param{
		{Name: "SOURCE_S3_FILE_PATH", Type: jobs.String, Required: true},
		{Name: "RUSH", Type: jobs.Boolean},
		{Name: "DRY_RUN", Type: jobs.Boolean},
		{Name: "MATERIAL", Type: jobs.Choice, Choices: []string{"pla", "petg", "resin"}},
		{Name: "TOKEN", Type: jobs.Password},
		{Name: "COLOR", Type: jobs.Choice, Choices: []string{"red", "blue", "green"}},
	},
	Outputs: []jobs.Field{
		{Name: "price", Type: jobs.TypeNumber, Required: true},
		{Name: "volume_mm3", Type: jobs.TypeNumber},
		{Name: "fits", Type: jobs.TypeBoolean},
		{Name: "note", Type: jobs.TypeString},
		{Name: "triangles", Type: jobs.TypeInteger},
		{Name: "bbox", Type: jobs.TypeObject},
	},
}

var testCallees = map[string]Callee{
	"fetch_model": {
		Name: "fetch_model", Kind: jobs.Worker,
		Params: []jobs.Param{
			{Name: "SOURCE", Type: jobs.String, Required: true},
			{Name: "RUSH", Type: jobs.Boolean},
			{Name: "MATERIAL", Type: jobs.Choice, Choices: []string{"pla", "petg", "resin"}},
		},
		Outputs: []jobs.Field{
			{Name: "path", Type: jobs.TypeString, Required: true},
			{Name: "size", Type: jobs.TypeInteger},
			{Name: "meta", Type: jobs.TypeObject},
			{Name: "extra", Type: jobs.TypeAny},
		},
	},
	"inspect_model": {
		Name: "inspect_model", Kind: jobs.Worker,
		Params: []jobs.Param{{Name: "MODEL_URL", Type: jobs.String, Required: true}},
		Outputs: []jobs.Field{
			{Name: "volume_mm3", Type: jobs.TypeNumber},
			{Name: "triangles", Type: jobs.TypeInteger},
			{Name: "closed", Type: jobs.TypeBoolean},
			{Name: "bbox", Type: jobs.TypeObject, Fields: []jobs.Field{
				{Name: "size", Type: jobs.TypeArray, Items: &jobs.Field{Type: jobs.TypeNumber}},
				{Name: "unit", Type: jobs.TypeString},
			}},
		},
	},
	"price_model": {
		Name: "price_model", Kind: jobs.Worker,
		Params: []jobs.Param{
			{Name: "VOLUME", Type: jobs.String, Required: true},
			{Name: "RUSH", Type: jobs.Boolean},
		},
		Outputs: []jobs.Field{
			{Name: "price", Type: jobs.TypeNumber},
			{Name: "currency", Type: jobs.TypeString},
		},
	},
	"paint": {
		Name: "paint", Kind: jobs.Worker,
		Params: []jobs.Param{{Name: "COLOR", Type: jobs.Choice, Choices: []string{"red", "green"}}},
	},
	"render-thumb":   {Name: "render-thumb", Kind: jobs.Worker},
	"process_upload": {Name: "process_upload", Kind: jobs.Orchestration},
}

var testNames = []string{"fetch_model", "inspect_model", "paint", "price_model", "process_upload", "render-thumb"}

func lookup(name string) (Callee, bool) {
	c, ok := testCallees[name]
	return c, ok
}

// parseDoc parses src as a flow.yaml and returns the flow and every
// problem as "file:line:col: message", sorted by position.
func parseDoc(t *testing.T, file, src string) (*Flow, []string) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatalf("test YAML does not parse: %v", err)
	}
	var ps jobs.Problems
	f := Parse(file, &doc, testSelf, lookup, testNames, &ps)
	return f, problems(ps.Err())
}

func problems(err error) []string {
	if err == nil {
		return nil
	}
	var ie *jobs.InputError
	if !errors.As(err, &ie) {
		return []string{err.Error()}
	}
	var out []string
	for _, p := range ie.Problems {
		out = append(out, p.Error())
	}
	return out
}

const fullFlow = `phases:
  - name: fetch
    steps:
      - job: fetch_model
        name: fetch
        params:
          SOURCE: "${params.SOURCE_S3_FILE_PATH}"
          RUSH: ${params.RUSH}
          MATERIAL: ${params.MATERIAL}
        retry: 2
  - name: check
    when: fetch.status == 'SUCCESS' && !params.DRY_RUN
    steps:
      - job: inspect_model
        name: inspect
        params:
          MODEL_URL: "file://${fetch.data.path}?size=${fetch.data.size}"
        allow_failure: true
      - job: price_model
        name: price
        params:
          VOLUME: ${fetch.data.meta.volume.value}
          RUSH: true
  - name: late
    when: ${inspect.data.triangles > 10 || price.data.currency != null}
    steps:
      - job: price_model
        name: reprice
        params: {VOLUME: "${inspect.data.volume_mm3}", RUSH: false}
report:
  status: "${price.status}"
  reason: 'priced in ${price.data.currency}, $${literal}'
  data:
    price: ${price.data.price}
    volume_mm3: ${inspect.data.triangles}
    fits: ${inspect.data.closed && reprice.status == 'SUCCESS'}
    note: text ${fetch.data.size}
    bbox: ${inspect.data.bbox}
`

// outline writes a flow's plan compactly, with the type of every value.
func outline(f *Flow) string {
	var b strings.Builder
	for _, p := range f.Phases {
		fmt.Fprintf(&b, "phase %s @%d:%d", p.Name, p.Pos.Line, p.Pos.Col)
		if p.When != nil {
			fmt.Fprintf(&b, " when %T@%d:%d", p.When, p.When.Position().Line, p.When.Position().Col)
		}
		b.WriteString("\n")
		for _, s := range p.Steps {
			fmt.Fprintf(&b, "  step %s=%s(%s) retry=%d allow_failure=%v\n", s.Name, s.Job, s.Kind, s.Retry, s.AllowFailure)
			for _, a := range s.Params {
				fmt.Fprintf(&b, "    %s: %s %T@%d:%d\n", a.Name, a.Value.Type(), a.Value, a.Value.Position().Line, a.Value.Position().Col)
			}
		}
	}
	if r := f.Report; r != nil {
		fmt.Fprintf(&b, "report status=%T reason=%T\n", r.Status, r.Reason)
		for _, a := range r.Data {
			fmt.Fprintf(&b, "  %s: %s %T\n", a.Name, a.Value.Type(), a.Value)
		}
	}
	return b.String()
}

func TestParseValid(t *testing.T) {
	f, ps := parseDoc(t, "jobs/process_upload/flow.yaml", fullFlow)
	if ps != nil {
		t.Fatalf("unexpected problems:\n%s", strings.Join(ps, "\n"))
	}
	want := `phase fetch @2:5
  step fetch=fetch_model(worker) retry=2 allow_failure=false
    SOURCE: string *flow.Template@7:20
    RUSH: boolean *flow.ParamRef@8:19
    MATERIAL: string *flow.ParamRef@9:23
phase check @11:5 when *flow.Binary@12:11
  step inspect=inspect_model(worker) retry=0 allow_failure=true
    MODEL_URL: string *flow.Template@17:23
  step price=price_model(worker) retry=0 allow_failure=false
    VOLUME: any *flow.StepRef@22:21
    RUSH: boolean *flow.Lit@23:17
phase late @24:5 when *flow.Binary@25:13
  step reprice=price_model(worker) retry=0 allow_failure=false
    VOLUME: string *flow.Template@29:27
    RUSH: boolean *flow.Lit@29:62
report status=*flow.Template reason=*flow.Template
  price: number *flow.StepRef
  volume_mm3: integer *flow.StepRef
  fits: boolean *flow.Binary
  note: string *flow.Template
  bbox: object *flow.StepRef
`
	if diff := cmp.Diff(want, outline(f)); diff != "" {
		t.Errorf("outline (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"fetch_model", "inspect_model", "price_model"}, f.Calls()); diff != "" {
		t.Errorf("Calls (-want +got):\n%s", diff)
	}
	reason := f.Report.Reason.(*Template)
	wantParts := []Part{{Text: "priced in "}, {Expr: reason.Parts[1].Expr}, {Text: ", ${literal}"}}
	if diff := cmp.Diff(wantParts, reason.Parts, cmp.Comparer(func(a, b Expr) bool { return a == b })); diff != "" {
		t.Errorf("reason parts (-want +got):\n%s", diff)
	}
	if s, ok := f.Step("inspect"); !ok || s.Job != "inspect_model" {
		t.Errorf("Step(inspect) = %v, %v", s, ok)
	}
}

// An inline flow keeps the line numbers of job.yaml.
func TestParseInline(t *testing.T) {
	src := `kind: orchestration
description: x
flow:
  phases:
    - name: fetch
      steps:
        - job: fetch_model
          params:
            SOURCE: "${params.SOURCE_S3_FILE_PATH}"
    - name: check
      when: fetch_model.status == 'SUCESS'
      steps:
        - {job: inspect_model, params: {MODEL_URL: "${fetch_model.data.pth}"}}
`
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	node := doc.Content[0].Content[5]
	self := *testSelf
	self.Outputs = nil
	var ps jobs.Problems
	f := Parse("jobs/process_upload/job.yaml", node, &self, lookup, testNames, &ps)
	want := []string{
		`jobs/process_upload/job.yaml:11:35: the when of phase check: a step's status is never "SUCESS"; it is one of SUCCESS, FAILURE, UNSTABLE, ABORTED, SKIPPED; did you mean "SUCCESS"?`,
		`jobs/process_upload/job.yaml:13:72: step inspect_model: job fetch_model declares no output "pth"; did you mean "path"?`,
	}
	if diff := cmp.Diff(want, problems(ps.Err())); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if len(f.Phases) != 2 || f.Phases[1].Steps[0].Name != "inspect_model" {
		t.Fatalf("phases: %s", outline(f))
	}
	// Positions inside inline expressions are those of job.yaml.
	var got []Pos
	Walk(f.Phases[1].When, func(e Expr) { got = append(got, e.Position()) })
	Walk(f.Phases[0].Steps[0].Params[0].Value, func(e Expr) { got = append(got, e.Position()) })
	if diff := cmp.Diff([]Pos{{11, 13}, {11, 13}, {11, 35}, {9, 22}, {9, 24}}, got); diff != "" {
		t.Errorf("positions (-want +got):\n%s", diff)
	}
}

func TestParseProblems(t *testing.T) {
	const file = "jobs/p/flow.yaml"
	for _, tc := range []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "empty",
			src:  "",
			want: []string{"jobs/p/flow.yaml: the flow is empty; it needs phases"},
		},
		{
			name: "structure",
			src: `phase: []
report: {status: FAILURE, extra: 1}
`,
			want: []string{
				`jobs/p/flow.yaml:1:1: flow: unknown key "phase"; did you mean "phases"?`,
				`jobs/p/flow.yaml:1:1: flow: missing required key "phases"`,
				`jobs/p/flow.yaml:2:9: report data: missing required output price of job process_upload`,
				`jobs/p/flow.yaml:2:27: report: unknown key "extra"; expected one of: data, reason, status`,
			},
		},
		{
			name: "phases and steps",
			src: `phases:
  - name: Fetch
    steps: []
  - name: a
    steps:
      - name: x
      - job: fetch_modle
      - job: render-thumb
      - job: process_upload
        retry: 99
        allow_failure: yes please
  - name: a
    steps: {}
  - steps:
      - job: price_model
        name: params
        params: {VOLUME: x}
report:
  data: {price: 1}
`,
			want: []string{
				`jobs/p/flow.yaml:2:11: phase name "Fetch": a name must start with a lowercase letter and hold only lowercase letters, digits and '_'`,
				`jobs/p/flow.yaml:3:12: phase "Fetch": steps cannot be empty`,
				`jobs/p/flow.yaml:6:9: phase a: step: missing required key "job"`,
				`jobs/p/flow.yaml:7:14: unknown job "fetch_modle"; did you mean "fetch_model"?`,
				`jobs/p/flow.yaml:8:14: step "render-thumb": the job's name is not a valid step name (a name must start with a lowercase letter and hold only lowercase letters, digits and '_'); give the step a name`,
				`jobs/p/flow.yaml:9:14: a flow cannot call its own job "process_upload"`,
				`jobs/p/flow.yaml:10:16: retry must be an integer from 0 to 20, found 99`,
				`jobs/p/flow.yaml:11:24: allow_failure must be true or false, found a string`,
				`jobs/p/flow.yaml:12:11: phase name "a" is used twice (first at line 4)`,
				`jobs/p/flow.yaml:13:12: phase a: steps must be a list, found a mapping`,
				`jobs/p/flow.yaml:14:5: phase: missing required key "name"`,
				`jobs/p/flow.yaml:16:15: step name "params": this name is reserved in expressions`,
			},
		},
		{
			name: "duplicate step names",
			src: `phases:
  - name: a
    steps:
      - {job: price_model, params: {VOLUME: x}}
      - {job: price_model, params: {VOLUME: y}}
      - {job: price_model, name: price_model, params: {VOLUME: y}}
report: {data: {price: 1}}
`,
			want: []string{
				`jobs/p/flow.yaml:5:15: step name "price_model" is used twice (first at line 4); give one of the steps a name`,
				`jobs/p/flow.yaml:6:34: step name "price_model" is used twice (first at line 4); give one of the steps a name`,
			},
		},
		{
			name: "references",
			src: `phases:
  - name: a
    when: params.DRY_RUNN || price_model.status == 'SUCCESS'
    steps:
      - job: fetch_model
        name: f
        params:
          SOURCE: "${params.SOURCE_S3_FILE_PATH} ${g.data.path} ${h.status}"
      - job: fetch_model
        name: g
        params:
          SOURCE: '${pricee.data.price}${fetch.status}'
  - name: b
    steps:
      - job: inspect_model
        params:
          MODEL_URL: "${f.data.path.x}${f.data.nope}${f.data.meta.a.b}${f.data.extra.x.y}"
      - job: price_model
        params:
          VOLUME: "${f.reason}"
report:
  data:
    price: ${price_model.data.price}
    note: "${h.status}"
    bbox: "${inspect_model.data.bbox.sise}"
`,
			want: []string{
				`jobs/p/flow.yaml:3:18: the when of phase a: unknown param "DRY_RUNN": job process_upload declares no such param; did you mean "DRY_RUN"?`,
				`jobs/p/flow.yaml:3:30: the when of phase a reads step price_model, which runs in a later phase (b); only steps of earlier phases can be read`,
				`jobs/p/flow.yaml:8:52: step f reads step g, which runs in the same phase (a); only steps of earlier phases can be read`,
				`jobs/p/flow.yaml:8:67: step f: unknown step "h"`,
				`jobs/p/flow.yaml:12:22: step g: unknown step "pricee"`,
				`jobs/p/flow.yaml:12:42: step g: unknown step "fetch"`,
				`jobs/p/flow.yaml:17:37: step inspect_model: f.data.path is a string; it has no field "x"`,
				`jobs/p/flow.yaml:17:48: step inspect_model: job fetch_model declares no output "nope"`,
				`jobs/p/flow.yaml:24:14: the report: unknown step "h"`,
				`jobs/p/flow.yaml:25:12: report data: output bbox of job process_upload is an object, found a string`,
				`jobs/p/flow.yaml:25:38: the report: output bbox of job inspect_model has no field "sise"; did you mean "size"?`,
			},
		},
		{
			name: "fetch is a phase",
			src: `phases:
  - name: fetch
    steps:
      - {job: price_model, name: p, params: {VOLUME: x}}
  - name: b
    when: fetch.status == 'SUCCESS'
    steps:
      - {job: price_model, params: {VOLUME: x}}
report: {data: {price: 1}}
`,
			want: []string{
				`jobs/p/flow.yaml:6:11: the when of phase b: unknown step "fetch"; fetch is a phase: read one of its steps`,
			},
		},
		{
			name: "types",
			src: `phases:
  - name: a
    when: params.RUSH == 'yes'
    steps:
      - job: inspect_model
        params: {MODEL_URL: x}
  - name: b
    when: inspect_model.data.volume_mm3 > 'big' && (inspect_model.data.closed || params.SOURCE_S3_FILE_PATH)
    steps:
      - job: fetch_model
        params:
          SOURCE: "${inspect_model.data.bbox}"
          RUSH: "true"
          MATERIAL: ${inspect_model.data.closed}
  - name: c
    when: "!inspect_model.reason"
    steps:
      - job: price_model
        params:
          VOLUME: ${inspect_model.data.bbox.size}
          RUSH: ${inspect_model.data.triangles}
  - name: d
    when: params.RUSH == params.DRY_RUN && inspect_model.data.bbox == inspect_model.data.bbox
    steps:
      - job: price_model
        name: p2
        params:
          VOLUME: x
          RUSH: ${params.RUSH}
  - name: e
    when: inspect_model.status
    steps:
      - {job: price_model, name: p3, params: {VOLUME: x}}
report:
  status: ${inspect_model.data.triangles}
  reason: ${inspect_model.data.bbox.size}
  data:
    price: "${price_model.data.price}"
    triangles: ${inspect_model.data.volume_mm3}
    fits: ${params.RUSH}
    volume_mm3: ${inspect_model.data.triangles}
`,
			want: []string{
				`jobs/p/flow.yaml:3:23: the when of phase a: cannot compare a boolean with a string`,
				`jobs/p/flow.yaml:8:41: the when of phase b: > needs two numbers or two strings, found a number and a string`,
				`jobs/p/flow.yaml:8:82: the when of phase b: || needs booleans, found a string`,
				`jobs/p/flow.yaml:12:22: step fetch_model: cannot interpolate an object into a string; read one of its fields`,
				`jobs/p/flow.yaml:13:17: step fetch_model: param RUSH of job fetch_model is a boolean, found a string`,
				`jobs/p/flow.yaml:16:13: the when of phase c: ! needs a boolean, found a string`,
				`jobs/p/flow.yaml:21:19: step price_model: param RUSH of job price_model is a boolean, found an integer`,
				`jobs/p/flow.yaml:23:68: the when of phase d: cannot compare an object with an object`,
				`jobs/p/flow.yaml:31:11: phase e: when must be a boolean expression, found a string`,
				`jobs/p/flow.yaml:35:13: report status must be a string, found an integer`,
				`jobs/p/flow.yaml:36:13: report reason must be a string, found an array`,
				`jobs/p/flow.yaml:38:13: report data: output price of job process_upload is a number, found a string`,
				`jobs/p/flow.yaml:39:18: report data: output triangles of job process_upload is an integer, found a number`,
			},
		},
		{
			name: "params",
			src: `phases:
  - name: a
    steps:
      - job: fetch_model
        params:
          SORCE: x
          MATERIAL: plaa
      - job: price_model
        name: p
        params:
          VOLUME: null
          RUSH: null
      - job: inspect_model
        params: [MODEL_URL]
      -
      - job: fetch_model
        name: f2
        params: {SOURCE: x, MATERIAL: "${params.MATERIAL}"}
  -
  - name: c
    steps:
      - job: paint
        params:
          COLOR: ${params.COLOR}
report:
  status: SUCCES
  data:
    price: 1
    prize: 2
    fits: [true]
`,
			want: []string{
				`jobs/p/flow.yaml:4:9: step fetch_model: missing required param SOURCE of job fetch_model`,
				`jobs/p/flow.yaml:6:11: step fetch_model: job fetch_model has no param "SORCE"; did you mean "SOURCE"?`,
				`jobs/p/flow.yaml:7:21: step fetch_model: "plaa" is not a choice of param MATERIAL of job fetch_model (pla, petg, resin); did you mean "pla"?`,
				`jobs/p/flow.yaml:11:19: step p: param VOLUME of job price_model is required; it cannot be null`,
				`jobs/p/flow.yaml:13:9: step inspect_model: missing required param MODEL_URL of job inspect_model`,
				`jobs/p/flow.yaml:14:17: step inspect_model params must be a mapping, found a list`,
				`jobs/p/flow.yaml:15:8: phase a: a step must be a mapping (job, name, params, allow_failure, retry), found null`,
				`jobs/p/flow.yaml:19:4: a phase must be a mapping (name, when, steps), found null`,
				`jobs/p/flow.yaml:24:20: step paint: choice "blue" of param COLOR is not a choice of param COLOR of job paint (red, green)`,
				`jobs/p/flow.yaml:26:11: report status must be SUCCESS or FAILURE, found "SUCCES"`,
				`jobs/p/flow.yaml:29:5: report data: job process_upload declares no output "prize"; did you mean "price"?`,
				`jobs/p/flow.yaml:30:11: report data: output fits of job process_upload is a boolean, found an array`,
			},
		},
		{
			name: "syntax",
			src: `phases:
  - name: a
    when: params.RUSH = true
    steps:
      - job: price_model
        params:
          VOLUME: "${params.RUSH"
          RUSH: ${params.RUSH && }
  - name: b
    when: 'params.RUSH && inspect_model.status == ''x'' ||'
    steps:
      - job: price_model
        name: p2
        params:
          VOLUME: 'a ${ ''it\''s'' == "x" }'
          RUSH: ${1 == 2 == 3}
  - name: c
    when: |
      params.RUSH &&
    steps:
      - {job: price_model, name: p3, params: {VOLUME: "${}"}}
report:
  data: {price: "${price_model.data.price} ${params}"}
`,
			want: []string{
				`jobs/p/flow.yaml:3:23: unexpected '='; write == to compare`,
				`jobs/p/flow.yaml:7:20: unclosed ${: missing '}'`,
				`jobs/p/flow.yaml:8:34: unexpected '}'; expected a value`,
				`jobs/p/flow.yaml:10:59: missing value at end of expression`,
				`jobs/p/flow.yaml:15:39: strings in expressions are single-quoted: 'text'`,
				`jobs/p/flow.yaml:16:26: comparisons do not chain; use parentheses and && instead`,
				`jobs/p/flow.yaml:18:11: missing value at end of expression`,
				`jobs/p/flow.yaml:21:56: empty ${}`,
				`jobs/p/flow.yaml:23:46: write params.NAME to read a param`,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, got := parseDoc(t, file, tc.src)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}
