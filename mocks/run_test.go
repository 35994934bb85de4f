package mocks

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jobctl/jobctl/compiler"
	"github.com/jobctl/jobctl/flow"
	"github.com/jobctl/jobctl/jobs"
)

func TestCheck(t *testing.T) {
	c := &Case{Expect: Expect{
		Status:         "SUCCESS",
		Reason:         ptr(""),
		ReasonContains: "fine",
		Data:           map[string]any{"price": 5.5, "tags": []any{"a"}, "missing": true},
		HasCalls:       true,
		Calls: []ExpectCall{
			{Job: "fetch", Phase: "fetch"},
			{Job: "price", Params: map[string]string{"RUSH": "true", "VOLUME": "8000"}},
			{Job: "register"},
		},
		NotCalled: []string{"store"},
	}}
	tr := &Trace{
		Calls: []Call{
			{Phase: "get", Job: "fetch", Result: "SUCCESS"},
			{Phase: "quote", Job: "price", Params: map[string]string{"RUSH": "false"}, Result: "SUCCESS"},
			{Phase: "store", Job: "store", Result: "FAILURE"},
			{Phase: "store", Job: "store", Result: "SUCCESS"},
		},
		Outcome: Outcome{Status: "FAILURE", Reason: "step x failed", Data: map[string]any{"price": 5.0, "tags": []any{"a"}}},
	}
	want := []string{
		"status: want SUCCESS, got FAILURE (reason: step x failed)",
		`reason: want "", got "step x failed"`,
		`reason: want it to contain "fine", got "step x failed"`,
		"data.missing: want true, got nothing",
		"data.price: want 5.5, got 5",
		`calls differ:
    call 1: want fetch in phase fetch, got it in phase "get"
    call 2: price params differ: RUSH: want "true", got "false"; VOLUME: want "8000", not passed
    call 3: want register, got store [store] -> FAILURE
    call 4: want no more calls, got store [store] -> SUCCESS
  the calls made:
    1. fetch [get] -> SUCCESS
    2. price [quote] RUSH=false -> SUCCESS
    3. store [store] -> FAILURE
    4. store [store] -> SUCCESS`,
		"store must not be called, but was: store [store] -> FAILURE",
	}
	if diff := cmp.Diff(want, Check(c, tr)); diff != "" {
		t.Errorf("Check (-want +got):\n%s", diff)
	}
	// A trace that matches has no messages.
	ok := &Case{Expect: Expect{Status: "SUCCESS", HasCalls: true, Calls: []ExpectCall{{Job: "fetch"}}, Data: map[string]any{"n": 1.0}}}
	if msgs := Check(ok, &Trace{Calls: []Call{{Job: "fetch"}}, Outcome: Outcome{Status: "SUCCESS", Data: map[string]any{"n": 1.0, "x": 2.0}}}); msgs != nil {
		t.Errorf("Check of a matching trace: %v", msgs)
	}
}

func TestLineDiff(t *testing.T) {
	before := "a\nb\nc\nd\ne\nf\ng\nh\n"
	after := "a\nb\nC\nd\ne\nf\ng\nh\ni\n"
	want := "  a\n  b\n- c\n+ C\n  d\n  e\n  …\n  g\n  h\n+ i"
	if got := lineDiff(before, after); got != want {
		t.Errorf("lineDiff =\n%s\nwant\n%s", got, want)
	}
	if got := lineDiff("x\n", "x\n"); got != "" {
		t.Errorf("equal texts: %q", got)
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, job, name string
		want               bool
	}{
		{"", "a", "b", true},
		{"upload", "upload", "ok", true},
		{"up*", "upload", "ok", true},
		{"upload/ok", "upload", "ok", true},
		{"upload/o*", "upload", "other", true},
		{"upload/x", "upload", "ok", false},
		{"ok", "upload", "ok", false},
	} {
		if got := Match(tc.pattern, tc.job, tc.name); got != tc.want {
			t.Errorf("Match(%q, %q, %q) = %v", tc.pattern, tc.job, tc.name, got)
		}
	}
}

func TestResolveParams(t *testing.T) {
	j := &jobs.Job{Params: []jobs.Param{
		{Name: "S", Type: jobs.String},
		{Name: "D", Type: jobs.String, Default: "dflt", HasDefault: true},
		{Name: "B", Type: jobs.Boolean},
		{Name: "BT", Type: jobs.Boolean, Default: "true", HasDefault: true},
		{Name: "N", Type: jobs.String},
	}}
	got := ResolveParams(j, map[string]any{"N": 3.0, "B": true, "UNDECLARED": "x"})
	want := map[string]flow.Value{"S": "", "D": "dflt", "B": true, "BT": true, "N": "3"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ResolveParams (-want +got):\n%s", diff)
	}
}

func TestGolden(t *testing.T) {
	tr := &Trace{
		Calls:   []Call{{Phase: "p", Job: "j", Params: map[string]string{"B": "2", "A": "true"}, Result: "SUCCESS"}},
		Outcome: Outcome{Status: "SUCCESS", Data: map[string]any{"n": 8000.0, "f": 2.5, "o": map[string]any{"z": 1.0, "a": []any{1.0}}}},
	}
	want := `# The recorded trace of mocks/j/c.yaml, checked by jobctl test.
# Refresh it with: jobctl test --update
calls:
  - phase: p
    job: j
    params:
      A: "true"
      B: "2"
    result: SUCCESS
outcome:
  status: SUCCESS
  reason: ""
  data:
    f: 2.5
    "n": 8000
    o:
      a: [1]
      z: 1
`
	if got := string(tr.Golden("mocks/j/c.yaml")); got != want {
		t.Errorf("Golden:\n%s\nwant\n%s\ndiff:\n%s", got, want, lineDiff(want, got))
	}
}

func TestWriteJUnit(t *testing.T) {
	results := []*CaseResult{
		{Case: &Case{File: "mocks/a/ok.yaml", Job: "a", Name: "ok"}, Duration: 1500 * time.Microsecond},
		{Case: &Case{File: "mocks/a/bad.yaml", Job: "a", Name: "bad"}, Failures: []string{"status: want SUCCESS, got FAILURE", "calls <differ> & \x01"}},
		{Case: &Case{File: "mocks/b/x.yaml", Job: "b", Name: "x"}},
	}
	var b bytes.Buffer
	if err := WriteJUnit(&b, results); err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="jobctl test" tests="3" failures="1" time="0.002">
  <testsuite name="a" tests="2" failures="1" time="0.002">
    <testcase name="ok" classname="a" file="mocks/a/ok.yaml" time="0.002"></testcase>
    <testcase name="bad" classname="a" file="mocks/a/bad.yaml" time="0.000">
      <failure message="status: want SUCCESS, got FAILURE" type="jobctl.CaseFailed">status: want SUCCESS, got FAILURE&#xA;calls &lt;differ&gt; &amp; ` + "\uFFFD" + `</failure>
    </testcase>
  </testsuite>
  <testsuite name="b" tests="1" failures="0" time="0.000">
    <testcase name="x" classname="b" file="mocks/b/x.yaml" time="0.000"></testcase>
  </testsuite>
</testsuites>
`
	if got := b.String(); got != want {
		t.Errorf("JUnit:\n%s\ndiff:\n%s", got, lineDiff(want, got))
	}
	if strings.Contains(b.String(), "\x01") {
		t.Errorf("a control character reached the XML")
	}
}

// TestGroovyDisagreement: when the generated Groovy of a flow decides
// otherwise than the interpreter, --groovy fails the case and shows how.
func TestGroovyDisagreement(t *testing.T) {
	if _, err := exec.LookPath("groovy"); err != nil {
		t.Skip("groovy is not installed (apt-get install -y default-jre-headless groovy); CI installs it")
	}
	root := filepath.Join("..", "examples", "modelshop")
	repo, err := compiler.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	lock, err := jobs.ReadLock(root)
	if err != nil {
		t.Fatal(err)
	}
	res, err := compiler.Compile(repo, lock, compiler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases, err := Load(root, res, "process_upload/thumbnail_fails")
	if err != nil || len(cases) != 1 {
		t.Fatalf("loading the case: %v (%d cases)", err, len(cases))
	}
	// Tamper with the script: the thumbnail step may no longer fail.
	d := res.Def("process_upload")
	tampered := strings.Replace(d.Script, "allowFailure: true", "allowFailure: false", 1)
	if tampered == d.Script {
		t.Fatal("the script has no allowFailure: true to tamper with")
	}
	d.Script = tampered
	r := &Runner{Root: root, Result: res, Groovy: true}
	results, err := r.Run(context.Background(), cases)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(results[0].Failures, "\n")
	for _, want := range []string{
		"the generated Groovy and the flow interpreter disagree (-interpreter +groovy):",
		"-     job: register_part",
		"-     part_id: part-0018",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("failures lack %q:\n%s", want, got)
		}
	}
}
