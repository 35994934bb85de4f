package flow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// scripted is an Executor that answers from a table by job, successive
// calls taking successive answers, and records the calls.
type scripted struct {
	answers map[string][]Result
	calls   []string
}

func (s *scripted) Execute(_ context.Context, c Call) (Result, error) {
	var ps []string
	for _, p := range c.Params {
		ps = append(ps, p.Name+"="+p.Value)
	}
	s.calls = append(s.calls, fmt.Sprintf("%s/%s#%d %s(%s)", c.Phase, c.Step, c.Attempt, c.Job, strings.Join(ps, ",")))
	list := s.answers[c.Job]
	if len(list) == 0 {
		return Result{}, fmt.Errorf("no answer for %s", c.Job)
	}
	res := list[0]
	if len(list) > 1 {
		s.answers[c.Job] = list[1:]
	}
	return res, nil
}

func TestRun(t *testing.T) {
	const base = `phases:
  - name: fetch
    steps:
      - job: fetch_model
        name: fetch
        retry: 1
        params:
          SOURCE: "${params.SOURCE_S3_FILE_PATH}"
          RUSH: ${params.RUSH}
  - name: inspect
    when: fetch.data.size > 10
    steps:
      - {job: inspect_model, name: inspect, params: {MODEL_URL: "${fetch.data.path}"}}
      - {job: render-thumb, name: thumb, allow_failure: true}
  - name: price
    steps:
      - job: price_model
        name: price
        params:
          VOLUME:
            v: ${inspect.data.volume_mm3}
            b:
              - ${inspect.data.bbox}
              - 1.5e-7
          RUSH: ${params.RUSH}
`
	const report = `report:
  data:
    price: ${price.data.price}
    note: "thumb ${thumb.status}: ${thumb.reason}"
    bbox: ${fetch.data.extra}
`
	ok := func(data string) Result {
		return Result{Status: "SUCCESS", Data: jsonData(t, data)}
	}
	params := map[string]Value{"SOURCE_S3_FILE_PATH": "s3://b/m.stl", "RUSH": true, "DRY_RUN": false, "MATERIAL": "pla", "TOKEN": "", "COLOR": "red"}
	for _, tc := range []struct {
		name    string
		src     string
		params  map[string]Value
		answers map[string][]Result
		want    Outcome
		calls   []string
	}{{
		name: "success after a retry, allowed failure",
		src:  base + report,
		answers: map[string][]Result{
			"fetch_model":   {{Status: "FAILURE", Reason: "timeout"}, ok(`{"path": "m.stl", "size": 1234567}`)},
			"inspect_model": {ok(`{"volume_mm3": 8000, "bbox": {"size": [20, 20, 20]}}`)},
			"render-thumb":  {{Status: "FAILURE", Reason: "no GPU"}},
			"price_model":   {ok(`{"price": 12.5}`)},
		},
		want: Outcome{Status: "SUCCESS", Data: map[string]any{"price": 12.5, "note": "thumb FAILURE: no GPU"}},
		calls: []string{
			"fetch/fetch#1 fetch_model(SOURCE=s3://b/m.stl,RUSH=true)",
			"fetch/fetch#2 fetch_model(SOURCE=s3://b/m.stl,RUSH=true)",
			"inspect/inspect#1 inspect_model(MODEL_URL=m.stl)",
			"inspect/thumb#1 render-thumb()",
			`price/price#1 price_model(VOLUME={"b":[{"size":[20,20,20]},1.5e-7],"v":8000},RUSH=true)`,
		},
	}, {
		name: "a failure skips later phases; the default reason names the step",
		src:  base + report,
		answers: map[string][]Result{
			"fetch_model":   {ok(`{"path": "m.stl", "size": 99}`)},
			"inspect_model": {{Status: "FAILURE"}},
			"render-thumb":  {ok(`{}`)},
		},
		want: Outcome{Status: "FAILURE", Reason: "step inspect (inspect_model) failed: it ended FAILURE", Data: map[string]any{"note": "thumb SUCCESS: "}},
		calls: []string{
			"fetch/fetch#1 fetch_model(SOURCE=s3://b/m.stl,RUSH=true)",
			"inspect/inspect#1 inspect_model(MODEL_URL=m.stl)",
			"inspect/thumb#1 render-thumb()",
		},
	}, {
		name:    "a false when skips the phase; its steps read SKIPPED",
		src:     base + report,
		answers: map[string][]Result{"fetch_model": {ok(`{"path": "m.stl", "size": 1}`)}, "price_model": {ok(`{"price": 1}`)}},
		want:    Outcome{Status: "SUCCESS", Data: map[string]any{"price": 1.0, "note": "thumb SKIPPED: "}},
		calls: []string{
			"fetch/fetch#1 fetch_model(SOURCE=s3://b/m.stl,RUSH=true)",
			`price/price#1 price_model(VOLUME={"b":[null,1.5e-7],"v":null},RUSH=true)`,
		},
	}, {
		name:   "an empty required param fails before any call",
		src:    base + report,
		params: map[string]Value{"SOURCE_S3_FILE_PATH": "", "RUSH": false},
		want:   Outcome{Status: "FAILURE", Reason: "required param SOURCE_S3_FILE_PATH is empty", Data: map[string]any{}},
	}, {
		name:    "an evaluation error fails the flow with its position",
		src:     base + report,
		answers: map[string][]Result{"fetch_model": {ok(`{"path": "m.stl", "size": "big"}`)}},
		want:    Outcome{Status: "FAILURE", Reason: "jobs/p/flow.yaml:11:27: cannot order a string and a number", Data: map[string]any{"note": "thumb SKIPPED: "}},
		calls:   []string{"fetch/fetch#1 fetch_model(SOURCE=s3://b/m.stl,RUSH=true)"},
	}, {
		name: "a data error empties the data; an explicit status and reason",
		src: base + `report:
  status: "${params.MATERIAL}"
  data:
    price: 1
    note: "${fetch.data.extra}"
`,
		answers: map[string][]Result{"fetch_model": {ok(`{"path": "m.stl", "size": 1, "extra": {"x": 1}}`)}, "price_model": {ok(`{}`)}},
		want:    Outcome{Status: "FAILURE", Reason: `jobs/p/flow.yaml:27:12: the report status must be SUCCESS or FAILURE, found "pla"`, Data: map[string]any{}},
		calls: []string{
			"fetch/fetch#1 fetch_model(SOURCE=s3://b/m.stl,RUSH=true)",
			`price/price#1 price_model(VOLUME={"b":[null,1.5e-7],"v":null},RUSH=true)`,
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			f, ps := parseDoc(t, "jobs/p/flow.yaml", tc.src)
			if len(ps) > 0 {
				t.Fatalf("flow does not check: %v", ps)
			}
			p := tc.params
			if p == nil {
				p = params
			}
			ex := &scripted{answers: tc.answers}
			got, err := Run(context.Background(), f, testSelf, p, ex, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, *got); diff != "" {
				t.Errorf("outcome (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.calls, ex.calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunExecutorError(t *testing.T) {
	f, ps := parseDoc(t, "jobs/p/flow.yaml", "phases: [{name: a, steps: [{job: paint, params: {COLOR: red}}]}]\nreport: {data: {price: 1}}")
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	_, err := Run(context.Background(), f, testSelf, map[string]Value{"SOURCE_S3_FILE_PATH": "x"}, &scripted{}, Options{Concurrent: true})
	if err == nil || !strings.Contains(err.Error(), "no answer for paint") {
		t.Fatalf("err = %v, want the executor's error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Run(ctx, f, testSelf, map[string]Value{"SOURCE_S3_FILE_PATH": "x"}, &scripted{answers: map[string][]Result{"paint": {{Status: "SUCCESS"}}}}, Options{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
