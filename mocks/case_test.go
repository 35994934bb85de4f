package mocks

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jobctl/jobctl/jobs"
)

var (
	orch = &jobs.Job{
		Name: "upload", Kind: jobs.Orchestration,
		Params: []jobs.Param{
			{Name: "SOURCE", Type: jobs.String, Required: true},
			{Name: "RUSH", Type: jobs.Boolean},
			{Name: "MATERIAL", Type: jobs.Choice, Choices: []string{"pla", "petg"}, Default: "pla", HasDefault: true},
		},
		Outputs: []jobs.Field{{Name: "price", Type: jobs.TypeNumber}, {Name: "note", Type: jobs.TypeString}},
	}
	fetch = &jobs.Job{
		Name: "fetch", Kind: jobs.Worker,
		Params:  []jobs.Param{{Name: "URL", Type: jobs.String, Required: true}},
		Outputs: []jobs.Field{{Name: "path", Type: jobs.TypeString, Required: true}, {Name: "size", Type: jobs.TypeInteger}},
	}
	price = &jobs.Job{Name: "price", Kind: jobs.Worker}
	other = &jobs.Job{Name: "other", Kind: jobs.Worker}
)

func target(groovy bool) Target {
	all := map[string]*jobs.Job{"upload": orch, "fetch": fetch, "price": price, "other": other}
	return Target{
		Job:    orch,
		Calls:  []string{"fetch", "price"},
		Lookup: func(n string) (*jobs.Job, bool) { j, ok := all[n]; return j, ok },
		Names:  []string{"fetch", "other", "price", "upload"},
		Groovy: groovy,
	}
}

func parse(t *testing.T, src string, groovy bool) (*Case, []string) {
	t.Helper()
	var ps jobs.Problems
	c := ParseCase("mocks/upload/ok.yaml", []byte(src), target(groovy), &ps)
	var msgs []string
	var ie *jobs.InputError
	if err := ps.Err(); errors.As(err, &ie) {
		for _, p := range ie.Problems {
			msgs = append(msgs, p.Error())
		}
	}
	return c, msgs
}

func ptr(s string) *string { return &s }

func TestParseCase(t *testing.T) {
	c, msgs := parse(t, `description: all good
params:
  SOURCE: s3://b/k
  RUSH: true
mocks:
  fetch:
    - {status: FAILURE, reason: flaky}
    - data: {path: m.stl, size: 12}
  price:
    report: false
    status: ABORTED
sh:
  - command: date
    stdout: "today\n"
  - regex: '^aws '
    status: 2
expect:
  status: SUCCESS
  reason: ""
  data: {price: 1.5}
  calls:
    - fetch
    - job: fetch
      phase: quote
      params: {URL: x}
  not_called: [other]
`, true)
	if len(msgs) > 0 {
		t.Fatalf("problems: %v", msgs)
	}
	want := &Case{
		File: "mocks/upload/ok.yaml", Job: "upload", Name: "ok", Description: "all good",
		Params: map[string]any{"SOURCE": "s3://b/k", "RUSH": true},
		Mocks: map[string]*Mock{
			"fetch": {Results: []*Result{{Line: 7, Status: "FAILURE", Reason: "flaky"}, {Line: 8, Status: "SUCCESS", Data: map[string]any{"path": "m.stl", "size": 12.0}}}},
			"price": {Every: true, Results: []*Result{{Line: 10, Status: "ABORTED", NoReport: true}}},
		},
		Sh: []*ShMock{{Line: 13, Command: "date", Stdout: "today\n"}, {Line: 15, Regex: "^aws ", Status: 2}},
		Expect: Expect{
			Status: "SUCCESS", Reason: ptr(""), Data: map[string]any{"price": 1.5},
			HasCalls:  true,
			Calls:     []ExpectCall{{Line: 22, Job: "fetch"}, {Line: 23, Job: "fetch", Phase: "quote", Params: map[string]string{"URL": "x"}}},
			NotCalled: []string{"other"},
		},
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("case (-want +got):\n%s", diff)
	}
	if got := c.TraceFile(); got != "mocks/upload/ok.trace.yaml" {
		t.Errorf("TraceFile = %s", got)
	}
}

func TestParseCaseProblems(t *testing.T) {
	for _, tc := range []struct {
		name   string
		src    string
		groovy bool
		want   []string
	}{{
		name: "no expect",
		src:  "params: {SOURCE: x}\n",
		want: []string{"mocks/upload/ok.yaml:1:1: a case needs expect: with at least the status the run must end with"},
	}, {
		name: "unknown keys and bad values",
		src: `parms: {}
params:
  SORCE: x
  RUSH: "yes"
  MATERIAL: wood
  SOURCE: [a]
expect: {status: PASSED, calls: nope, not_called: [fech]}
`,
		want: []string{
			`mocks/upload/ok.yaml:1:1: a case: unknown key "parms"; did you mean "params"?`,
			`mocks/upload/ok.yaml:3:3: job upload has no param "SORCE"; did you mean "SOURCE"?`,
			`mocks/upload/ok.yaml:4:9: param RUSH is a boolean: write true or false, found "yes"`,
			`mocks/upload/ok.yaml:5:13: "wood" is not a choice of param MATERIAL (pla, petg)`,
			`mocks/upload/ok.yaml:6:11: param SOURCE must be a scalar, found a list`,
			`mocks/upload/ok.yaml:7:18: expect.status must be one of SUCCESS, FAILURE, UNSTABLE, ABORTED, found "PASSED"`,
			`mocks/upload/ok.yaml:7:33: expect.calls must be a list of calls (job:, phase:, params:); [] for none`,
			`mocks/upload/ok.yaml:7:52: unknown job "fech"; did you mean "fetch"?`,
		},
	}, {
		name: "mocks",
		src: `mocks:
  fetch: {status: DONE, data: {path: 3}}
  other: {}
  nope: {}
  price: []
expect: {status: SUCCESS}
`,
		want: []string{
			`mocks/upload/ok.yaml:2:19: mocks.fetch.status must be one of SUCCESS, FAILURE, UNSTABLE, ABORTED, NOT_BUILT, found "DONE"`,
			`mocks/upload/ok.yaml:3:3: upload never calls other, so its mock would never be used; remove it`,
			`mocks/upload/ok.yaml:4:3: unknown job "nope"`,
			`mocks/upload/ok.yaml:5:10: mocks.price: an empty list mocks no call; give one result per call`,
		},
	}, {
		name: "success data must match the outputs",
		src: `mocks:
  fetch:
    data: {path: 3, size: 1.5}
  price: {data: [1]}
expect: {status: SUCCESS}
`,
		want: []string{
			`mocks/upload/ok.yaml:3:18: mocks.fetch.data does not match the outputs of fetch: path: want string, found number`,
			`mocks/upload/ok.yaml:3:27: mocks.fetch.data does not match the outputs of fetch: size: want integer, found number`,
			`mocks/upload/ok.yaml:4:17: mocks.price.data must be a mapping (the report's data object)`,
		},
	}, {
		name: "sh mocks belong to raw Groovy",
		src:  "sh: [{command: ls}]\nexpect: {status: SUCCESS}\n",
		want: []string{"mocks/upload/ok.yaml:1:1: sh mocks are for raw Groovy orchestrations; upload is a flow, which runs no sh of its own"},
	}, {
		name:   "bad sh mocks",
		src:    "sh:\n  - {command: ls, regex: l}\n  - {regex: '(', status: 300}\n  - {stdout: x}\nexpect: {status: SUCCESS}\n",
		groovy: true,
		want: []string{
			`mocks/upload/ok.yaml:2:19: sh[0]: give command (exact) or regex, not both`,
			"mocks/upload/ok.yaml:3:13: sh[1].regex does not compile: error parsing regexp: missing closing ): `(`",
			`mocks/upload/ok.yaml:3:26: sh[1].status must be an exit status, 0 to 255`,
			`mocks/upload/ok.yaml:4:5: sh[2] needs command: (the exact script) or regex:`,
		},
	}, {
		name: "expected calls and data",
		src: `expect:
  status: SUCCESS
  data: {prize: 1}
  calls:
    - {job: fetch, params: {URLS: x, URL: [1]}}
    - {phase: a}
    - fetsh
`,
		want: []string{
			`mocks/upload/ok.yaml:3:10: expect.data: job upload declares no output "prize"; did you mean "price"?`,
			`mocks/upload/ok.yaml:5:7: expect.calls[0]: job fetch has no param "URLS"; did you mean "URL"?`,
			`mocks/upload/ok.yaml:5:43: expect.calls[0].params.URL: a param is passed as text; write a scalar`,
			`mocks/upload/ok.yaml:6:7: expect.calls[1] needs job:`,
			`mocks/upload/ok.yaml:7:7: expect.calls[2]: unknown job "fetsh"; did you mean "fetch"?`,
		},
	}, {
		name: "YAML syntax",
		src:  "expect: {status: [\n",
		want: []string{"mocks/upload/ok.yaml:1: invalid YAML: did not find expected node content"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			c, msgs := parse(t, tc.src, tc.groovy)
			if diff := cmp.Diff(tc.want, msgs); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if c != nil {
				t.Errorf("a case with problems was returned")
			}
		})
	}
}

func TestParseCaseName(t *testing.T) {
	var ps jobs.Problems
	if c := ParseCase("mocks/upload/Bad Name.yaml", []byte("expect: {status: SUCCESS}"), target(false), &ps); c != nil || !strings.Contains(ps.Err().Error(), "a case file is named <case>.yaml") {
		t.Errorf("bad case name accepted: %v", ps.Err())
	}
}

func FuzzParseCase(f *testing.F) {
	f.Add("params: {SOURCE: x}\nmocks:\n  fetch: [{data: {path: a}}]\nexpect: {status: SUCCESS, calls: [fetch]}\n")
	f.Add("sh: [{regex: '^a'}]\nexpect: {status: FAILURE, data: {price: &a [1, *a]}}\n")
	f.Add("mocks: {price: {data: {a: {b: {c: [1, {d: null}]}}}}}\nexpect: {status: SUCCESS}")
	f.Fuzz(func(t *testing.T, src string) {
		var ps jobs.Problems
		c := ParseCase("mocks/upload/f.yaml", []byte(src), target(true), &ps)
		if c == nil && ps.Len() == 0 {
			t.Fatalf("no case and no problem for %q", src)
		}
		if c != nil && ps.Len() > 0 {
			t.Fatalf("a case with problems for %q", src)
		}
	})
}
