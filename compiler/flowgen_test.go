package compiler

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/jobctl/jobctl/flow"
	"github.com/jobctl/jobctl/jobs"
)

// flowSelf is the orchestration of the test flows.
var flowSelf = &jobs.Job{
	Name: "quote",
	Kind: jobs.Orchestration,
	Params: []jobs.Param{
		{Name: "SOURCE", Type: jobs.String, Required: true},
		{Name: "RUSH", Type: jobs.Boolean},
		{Name: "DRY_RUN", Type: jobs.Boolean},
		{Name: "TOKEN", Type: jobs.Password},
		{Name: "NOTE", Type: jobs.String},
		{Name: "OWNER", Type: jobs.String, Required: true},
	},
	Outputs: []jobs.Field{
		{Name: "price", Type: jobs.TypeNumber},
		{Name: "currency", Type: jobs.TypeString},
		{Name: "volume", Type: jobs.TypeNumber},
		{Name: "bbox", Type: jobs.TypeObject},
		{Name: "thumb", Type: jobs.TypeAny},
		{Name: "note", Type: jobs.TypeString},
		{Name: "flag", Type: jobs.TypeBoolean},
	},
}

// flowCallees are the jobs the test flows call.
var flowCallees = map[string]flow.Callee{
	"fetch_model": {
		Name: "fetch_model", Kind: jobs.Worker,
		Params: []jobs.Param{
			{Name: "SOURCE", Type: jobs.String, Required: true},
			{Name: "RUSH", Type: jobs.Boolean},
			{Name: "TOKEN", Type: jobs.Password},
		},
		Outputs: []jobs.Field{
			{Name: "path", Type: jobs.TypeString},
			{Name: "size", Type: jobs.TypeInteger},
			{Name: "meta", Type: jobs.TypeObject},
			{Name: "extra", Type: jobs.TypeAny},
		},
	},
	"inspect_model": {
		Name: "inspect_model", Kind: jobs.Worker,
		Params: []jobs.Param{{Name: "MODEL_URL", Type: jobs.String, Required: true}},
		Outputs: []jobs.Field{
			{Name: "volume", Type: jobs.TypeNumber},
			{Name: "bbox", Type: jobs.TypeObject},
		},
	},
	"render_thumb": {
		Name: "render_thumb", Kind: jobs.Worker,
		Params:  []jobs.Param{{Name: "MODEL_URL", Type: jobs.String}},
		Outputs: []jobs.Field{{Name: "path", Type: jobs.TypeString}},
	},
	"price_model": {
		Name: "price_model", Kind: jobs.Worker,
		Params: []jobs.Param{
			{Name: "VOLUME", Type: jobs.String, Required: true},
			{Name: "RUSH", Type: jobs.Boolean},
			{Name: "SPEC", Type: jobs.String},
		},
		Outputs: []jobs.Field{
			{Name: "price", Type: jobs.TypeNumber},
			{Name: "currency", Type: jobs.TypeString},
		},
	},
}

// flowDeployed is the deployed name of a callee in the test flows.
func flowDeployed(name string) string { return name + "-v3-0123456789ab" }

func flowCalleeParams(name string) []jobs.Param { return flowCallees[name].Params }

// parseTestFlow parses and checks a flow of flowSelf; the test fails on
// any problem.
func parseTestFlow(t *testing.T, file, src string) *flow.Flow {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatalf("test YAML does not parse: %v", err)
	}
	var ps jobs.Problems
	lookup := func(name string) (flow.Callee, bool) {
		c, ok := flowCallees[name]
		return c, ok
	}
	f := flow.Parse(file, &doc, flowSelf, lookup, nil, &ps)
	if err := ps.Err(); err != nil {
		t.Fatalf("test flow %s has problems:\n%v", file, err)
	}
	return f
}

// goldenFlow uses every part of the language: a retried step, a when,
// parallel steps one of which may fail, boolean, password and object
// params, interpolation, and a report with status, reason and data.
const goldenFlow = `phases:
  - name: fetch
    steps:
      - job: fetch_model
        name: fetch
        retry: 2
        params:
          SOURCE: ${params.SOURCE}
          RUSH: ${params.RUSH}
          TOKEN: ${params.TOKEN}
  - name: inspect
    when: fetch.data.size > 0 && !params.DRY_RUN
    steps:
      - job: inspect_model
        name: inspect
        params:
          MODEL_URL: "${fetch.data.path}"
      - job: render_thumb
        name: thumb
        allow_failure: true
        params:
          MODEL_URL: "file://${fetch.data.path}?size=${fetch.data.size}&note=$${not}"
  - name: price
    steps:
      - job: price_model
        name: price
        params:
          VOLUME: ${inspect.data.volume}
          RUSH: ${params.RUSH || fetch.data.size >= 1e6}
          SPEC:
            volume: ${inspect.data.volume}
            bbox: ${inspect.data.bbox}
            tags: [pla, 2.5, -1, true, null, 'it''s']
report:
  status: "${price.status}"
  reason: "priced ${fetch.data.path} (${params.NOTE})"
  data:
    price: ${price.data.price}
    currency: ${price.data.currency}
    volume: ${inspect.data.volume}
    bbox: ${inspect.data.bbox}
    thumb: ${thumb.data}
    flag: ${thumb.status != 'SUCCESS'}
`

const goldenFlowFile = "jobs/quote/flow.yaml"

func TestFlowGolden(t *testing.T) {
	f := parseTestFlow(t, goldenFlowFile, goldenFlow)
	script, lm := flowScript(flowSelf, f, flowDeployed, flowCalleeParams, "linux && docker", 90*time.Minute, false)
	lmJSON, err := json.MarshalIndent(lm, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"testdata/flowgen/quote.groovy":       script,
		"testdata/flowgen/quote.linemap.json": string(lmJSON) + "\n",
	}
	for path, got := range files {
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v; run go test ./compiler -run Flow -update", err)
		}
		if diff := cmp.Diff(string(want), got); diff != "" {
			t.Errorf("%s (-want +got); run go test ./compiler -run Flow -update:\n%s", path, diff)
		}
	}

	// Every line of the plan and of the main code that stands for a step
	// leads back to the step's line in the flow.
	lines := strings.Split(script, "\n")
	if lm.Lines != len(lines)-1 {
		t.Errorf("line map says %d lines, the script has %d", lm.Lines, len(lines)-1)
	}
	for _, ph := range f.Phases {
		for _, st := range ph.Steps {
			found := false
			for i, l := range lines {
				if strings.Contains(l, "jobctlCall(jobctl, ") && strings.Contains(l, fmt.Sprintf("s%d)", stepIndex(f, st))) {
					file, line, ok := lm.Lookup(i + 1)
					if !ok || file != goldenFlowFile || line != st.Pos.Line {
						t.Errorf("line %d (%s) maps to %s:%d %v, want %s:%d", i+1, strings.TrimSpace(l), file, line, ok, goldenFlowFile, st.Pos.Line)
					}
					found = true
				}
			}
			if !found {
				t.Errorf("no jobctlCall line for step %s", st.Name)
			}
		}
	}
}

func stepIndex(f *flow.Flow, want *flow.Step) int {
	i := 0
	for _, ph := range f.Phases {
		for _, st := range ph.Steps {
			i++
			if st == want {
				return i
			}
		}
	}
	return 0
}

// groovyCommand returns the groovy command, skipping the test when it is
// not installed.
func groovyCommand(t *testing.T) string {
	t.Helper()
	g, err := exec.LookPath("groovy")
	if err != nil {
		t.Skip("groovy not installed (apt-get install -y default-jre-headless groovy); CI installs it")
	}
	return g
}

// groovyPrelude compiles scripts as Jenkins does for syntax: with a
// NonCPS annotation and its import.
const groovyPrelude = `import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.customizers.ImportCustomizer

def jenkins = new GroovyClassLoader(this.class.classLoader)
jenkins.parseClass('''package com.cloudbees.groovy.cps
import java.lang.annotation.*
@Retention(RetentionPolicy.RUNTIME) @interface NonCPS {}
''')
def config = new CompilerConfiguration()
def imports = new ImportCustomizer()
imports.addImports('com.cloudbees.groovy.cps.NonCPS')
config.addCompilationCustomizers(imports)
def shell = new GroovyShell(jenkins, new Binding(), config)
`

// runGroovy runs a groovy script with args in dir and returns its stdout.
func runGroovy(t *testing.T, dir, script string, args ...string) string {
	t.Helper()
	g := groovyCommand(t)
	path := filepath.Join(dir, "check.groovy")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(g, append([]string{path}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("groovy: %v\n%s\n%s", err, out, stderr.String())
	}
	return string(out)
}

// checkGroovyCompiles compiles every script (name -> text) in one groovy
// process and reports those that do not compile.
func checkGroovyCompiles(t *testing.T, scripts map[string]string) {
	t.Helper()
	groovyCommand(t)
	dir := t.TempDir()
	var names []string
	for name, text := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name+".groovy"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, filepath.Join(dir, name+".groovy"))
	}
	out := runGroovy(t, dir, groovyPrelude+`
for (f in args) {
  try {
    shell.parse(new File(f).getText('UTF-8'), 'WorkflowScript')
    println('ok ' + new File(f).name)
  } catch (Throwable e) {
    println('FAIL ' + new File(f).name + ': ' + String.valueOf(e.message).replace('\n', ' | '))
  }
}
`, names...)
	ok := 0
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(l, "ok ") {
			ok++
		} else {
			t.Errorf("does not compile: %s", l)
		}
	}
	if ok != len(scripts) {
		t.Errorf("%d of %d scripts compiled; groovy said:\n%s", ok, len(scripts), out)
	}
}

// flowVariants are flows that, with the options below, cover every shape
// of generated code.
var flowVariants = map[string]string{
	"minimal": `phases:
  - name: only
    steps:
      - job: render_thumb
`,
	"retry-allow": `phases:
  - name: a
    steps:
      - {job: fetch_model, name: fetch, retry: 3, allow_failure: true, params: {SOURCE: x}}
  - name: b
    when: fetch.status == 'SUCCESS'
    steps:
      - {job: render_thumb, name: t1, params: {MODEL_URL: "${fetch.reason}"}}
      - {job: render_thumb, name: t2, allow_failure: true}
      - {job: inspect_model, name: i, params: {MODEL_URL: "${fetch.data.path}"}}
`,
	"report": `phases:
  - name: a
    steps:
      - {job: fetch_model, name: fetch, params: {SOURCE: "${params.SOURCE}", RUSH: false}}
report:
  status: FAILURE
  reason: ${fetch.reason}
  data:
    note: "${fetch.data.extra}"
    flag: ${fetch.data.size < 10 || fetch.data.path == null}
    bbox:
      a:
        - 1
        - [2, 'x']
        - b: ${fetch.data.meta}
      c: -0.5e-9
`,
}

func TestFlowScriptCompiles(t *testing.T) {
	scripts := map[string]string{}
	golden := parseTestFlow(t, goldenFlowFile, goldenFlow)
	for _, o := range []struct {
		name    string
		label   string
		timeout time.Duration
		noop    bool
	}{
		{"plain", "", 0, false},
		{"label", "linux", 0, false},
		{"timeout", "", 90 * time.Second, false},
		{"noop", "x86 && !windows", 1500 * time.Millisecond, true},
	} {
		s, _ := flowScript(flowSelf, golden, flowDeployed, flowCalleeParams, o.label, o.timeout, o.noop)
		scripts["golden-"+o.name] = s
		for name, src := range flowVariants {
			f := parseTestFlow(t, "jobs/quote/"+name+".yaml", src)
			s, _ := flowScript(flowSelf, f, flowDeployed, flowCalleeParams, o.label, o.timeout, o.noop)
			scripts[name+"-"+o.name] = s
		}
	}
	hostile, _ := hostileFlow(hostileTexts)
	s, _ := flowScript(hostileSelf(hostileTexts), hostile, hostileDeployed, nil, hostileTexts[0], time.Minute, true)
	scripts["hostile"] = s
	checkGroovyCompiles(t, scripts)

	for name, s := range scripts {
		if code := codeOnly(s); strings.ContainsAny(code, "\"$") {
			t.Errorf("%s: outside single-quoted literals and comments the script has a \" or $, which could interpolate", name)
		}
		if n := strings.Count(s, "timeout(time:"); (n == 1) != (strings.Contains(name, "timeout") || strings.Contains(name, "noop") || name == "hostile") {
			t.Errorf("%s: %d timeout blocks", name, n)
		}
		if (strings.Contains(name, "noop") || name == "hostile") != strings.Contains(s, "JOBCTL_CALL") {
			t.Errorf("%s: JOBCTL_CALL present: %v", name, strings.Contains(s, "JOBCTL_CALL"))
		}
	}
}

// hostileTexts are names and values that try to break out of Groovy
// string literals and comments.
var hostileTexts = []string{
	`it's`,
	`back\slash\`,
	`${env.SECRET} $HOME`,
	"line\nbreak\r\nand\rreturn",
	`*/ /* // comment`,
	"line\u2028separator\u2029paragraph",
	`''' """ $/ /$`,
	`\u0027 \u000a \'`,
	"tab\tand\x00nul\x7f",
	`"); sh('touch /tmp/jobctl-pwned'); ("`,
	`Zürich 東京 🚀`,
}

// hostileFlow builds (without the checker, which would refuse them) a flow
// whose every name, path and string is one of texts; benign builds the
// same flow with plain text instead.
func hostileFlow(texts []string) (*flow.Flow, []string) {
	pick := func(i int) string { return texts[i%len(texts)] }
	at := func(l int) flow.Pos { return flow.Pos{Line: l, Col: 3} }
	var names []string
	f := &flow.Flow{File: "jobs/" + pick(0) + "/flow.yaml"}
	for p := 0; p < 2; p++ {
		ph := &flow.Phase{Pos: at(1 + p*10), Name: "phase " + pick(p)}
		if p == 1 {
			ph.When = &flow.Binary{Op: "==", OpPos: at(12),
				X: &flow.StepRef{Pos: at(12), Step: "step " + pick(1), Field: "status"},
				Y: &flow.Lit{Pos: at(12), Val: "SUCCESS"}}
		}
		for s := 0; s < 2; s++ {
			k := p*2 + s
			st := &flow.Step{Pos: at(2 + p*10 + s), Name: "step " + pick(k+1), Job: "job " + pick(k+2)}
			names = append(names, st.Job)
			st.Params = []*flow.Arg{
				{Pos: at(3), Name: "P " + pick(k+3), Value: &flow.Lit{Pos: at(3), Val: pick(k + 4)}},
				{Pos: at(4), Name: "Q " + pick(k+5), Value: &flow.Template{Pos: at(4), Parts: []flow.Part{
					{Text: pick(k + 6)},
					{Expr: &flow.ParamRef{Pos: at(4), Name: "PARAM " + pick(k+7)}},
				}}},
				{Pos: at(5), Name: "R " + pick(k+8), Value: &flow.Map{Pos: at(5), Fields: []*flow.Arg{
					{Pos: at(5), Name: pick(k + 9), Value: &flow.StepRef{Pos: at(5), Step: "step " + pick(1), Field: "data", Path: []string{pick(k + 10)}}},
				}}},
			}
			ph.Steps = append(ph.Steps, st)
		}
		f.Phases = append(f.Phases, ph)
	}
	f.Report = &flow.Report{Pos: at(30),
		Reason: &flow.Template{Pos: at(31), Parts: []flow.Part{{Text: pick(3)}, {Expr: &flow.StepRef{Pos: at(31), Step: "step " + pick(2), Field: "reason"}}}},
		Data: []*flow.Arg{
			{Pos: at(32), Name: pick(4), Value: &flow.Lit{Pos: at(32), Val: pick(5)}},
			{Pos: at(33), Name: pick(6), Value: &flow.List{Pos: at(33), Items: []flow.Expr{&flow.Lit{Pos: at(33), Val: pick(7)}}}},
		},
	}
	return f, names
}

func hostileSelf(texts []string) *jobs.Job {
	j := &jobs.Job{Name: "self " + texts[len(texts)-1], Kind: jobs.Orchestration}
	for i := range texts {
		j.Params = append(j.Params, jobs.Param{Name: "PARAM " + texts[i], Type: jobs.String})
	}
	return j
}

func hostileDeployed(name string) string { return name + " deployed" }

// literalsRemoved returns a script with the content of every single-quoted
// literal removed, outside comments: what is left is its structure.
func literalsRemoved(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '/' && i+1 < len(s) && s[i+1] == '/':
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				j = len(s) - i
			}
			b.WriteString(s[i : i+j])
			i += j - 1
		case c == '\'':
			b.WriteString("''")
			for i++; i < len(s) && s[i] != '\''; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// codeOnly is a script without the content of its literals and without
// its comments.
func codeOnly(s string) string {
	lines := strings.Split(literalsRemoved(s), "\n")
	for i, l := range lines {
		if j := strings.Index(l, "//"); j >= 0 {
			lines[i] = l[:j]
		}
	}
	return strings.Join(lines, "\n")
}

// TestFlowEscaping checks that no name or text can change the structure
// of the script: with hostile text everywhere, the script is the benign
// one but for the content of its string literals. (That it compiles is
// checked by TestFlowScriptCompiles, and that the values arrive intact by
// TestFlowRunHostile.)
func TestFlowEscaping(t *testing.T) {
	benignTexts := make([]string, len(hostileTexts))
	for i := range benignTexts {
		benignTexts[i] = fmt.Sprintf("plain%d", i)
	}
	hostile, _ := hostileFlow(hostileTexts)
	benign, _ := hostileFlow(benignTexts)
	hs, hm := flowScript(hostileSelf(hostileTexts), hostile, hostileDeployed, nil, hostileTexts[3], time.Minute, true)
	bs, bm := flowScript(hostileSelf(benignTexts), benign, hostileDeployed, nil, benignTexts[3], time.Minute, true)
	if diff := cmp.Diff(literalsRemoved(bs), literalsRemoved(hs)); diff != "" {
		t.Errorf("hostile text changed the script's structure (-benign +hostile):\n%s", diff)
	}
	if hm.Lines != bm.Lines || strings.Count(hs, "\n") != strings.Count(bs, "\n") {
		t.Errorf("hostile text changed the line count: %d, want %d", hm.Lines, bm.Lines)
	}
	for _, text := range hostileTexts {
		inner := strings.TrimSuffix(strings.TrimPrefix(QuoteGroovy(text), "'"), "'")
		if !strings.Contains(hs, inner) {
			t.Errorf("%q does not appear quoted in the script", text)
		}
	}
}

// jsonHex decodes the hex of one groovy output field.
func fromHex(t *testing.T, s string) string {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q from groovy: %v", s, err)
	}
	return string(b)
}

// TestFlowRuntimeText runs the runtime's number, text and JSON helpers
// under groovy on the values of a table and checks they write what
// package flow writes, byte for byte.
func TestFlowRuntimeText(t *testing.T) {
	values := []any{
		0.0, negZero(), 1.0, -1.0, 3.0, 2.5, -2.5, 0.1, 123.456, 1234567.0, 1e21, 1e20, 999999999999999900000.0,
		1e-6, 1e-7, 1.5e-7, 0.000001234, 1e300, 1.7976931348623157e308, 5e-324, 2.2250738585072014e-308,
		123456789012345.0, 1234567890123456.0, 12345678901234567890.0, 0.30000000000000004, 1.0 / 3, 2.0 / 3, 1e23, 4.35,
		float64(1 << 53), float64(1<<53) + 2, -1.5e-10, 8000.5, 100.0,
		"", "plain", "quote \" backslash \\ slash /", "\b\f\n\r\t\x00\x01\x1f\x7f", "\u2028\u2029", "Zürich 東京 🚀 \U0010FFFF",
		"<script>&amp;</script>", "\uFFFD", "${x} $y",
		true, false, nil,
		[]any{}, []any{1.0, "a", nil, true, []any{2.5}},
		map[string]any{},
		map[string]any{"b": 1.0, "a": "x", "B": nil, "é": true, "e": []any{}, "\U0001F680": 1.0, "\uFFFF": 2.0, "": 0.0,
			"nested": map[string]any{"z": map[string]any{}, "y": []any{map[string]any{"k": "v\n"}}}},
	}
	var in []string
	for _, v := range values {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		in = append(in, string(b))
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rt.groovy"), []byte(flowRuntime), 0o644); err != nil {
		t.Fatal(err)
	}
	inJSON, _ := json.Marshal(in)
	if err := os.WriteFile(filepath.Join(dir, "in.json"), inJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	out := runGroovy(t, dir, groovyPrelude+`
def rt = shell.parse(new File(args[0]).getText('UTF-8'), 'Runtime')
def hex = { String s -> s.getBytes('UTF-8').encodeHex().toString() }
for (text in new groovy.json.JsonSlurperClassic().parseText(new File(args[1]).getText('UTF-8'))) {
  def v = new groovy.json.JsonSlurperClassic().parseText('[' + text + ']')[0]
  def t = rt.jobctlText(v)
  def fields = [
    v instanceof Number ? rt.jobctlFormatNumber(v) : '-',
    rt.jobctlJson(v),
    rt.jobctlParamText(v),
    (t[0] ? 'ok:' : 'err:') + t[1],
  ]
  println(fields.collect { hex(it) }.join('|'))
}
`, filepath.Join(dir, "rt.groovy"), filepath.Join(dir, "in.json"))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(values) {
		t.Fatalf("groovy gave %d lines for %d values:\n%s", len(lines), len(values), out)
	}
	for i, v := range values {
		fields := strings.Split(lines[i], "|")
		if len(fields) != 4 {
			t.Fatalf("value %d: bad line %q", i, lines[i])
		}
		want := []string{"-", flow.JSON(v), flow.ParamText(v)}
		if f, ok := v.(float64); ok {
			want[0] = flow.FormatNumber(f)
		}
		if s, err := flow.Text(v); err != nil {
			want = append(want, "err:"+err.Error())
		} else {
			want = append(want, "ok:"+s)
		}
		var got []string
		for _, f := range fields {
			got = append(got, fromHex(t, f))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: [FormatNumber, JSON, ParamText, Text] (-go +groovy):\n%s", in[i], diff)
		}
	}
}

func negZero() float64 {
	z := 0.0
	return -z
}

// evalEnv is the Env of TestFlowRuntimeEval.
type evalEnv struct {
	Params map[string]any `json:"params"`
	// Steps holds [status, reason, data] by step name.
	Steps map[string][]any `json:"steps"`
}

func (e *evalEnv) Param(name string) flow.Value { return e.Params[name] }

func (e *evalEnv) Step(name string) (string, string, map[string]any, bool) {
	s, ok := e.Steps[name]
	if !ok {
		return "", "", nil, false
	}
	data, _ := s[2].(map[string]any)
	return s[0].(string), s[1].(string), data, true
}

// TestFlowRuntimeEval evaluates expressions with the runtime under groovy
// and with package flow, and checks they give the same values and the
// same errors.
func TestFlowRuntimeEval(t *testing.T) {
	env := &evalEnv{
		Params: map[string]any{"S": "abc", "B": true, "F": false, "E": "", "U": "ü", "N": "12"},
		Steps: map[string][]any{
			"fetch": {"SUCCESS", "", map[string]any{
				"path": "m.stl", "size": 12.0, "zero": 0.0, "meta": map[string]any{"a": 1.0, "b": []any{"x", 2.5}},
				"list": []any{1.0, 2.0}, "flag": true, "n": nil, "big": 1e21, "tiny": 1.5e-7, "text": "\uffff", "emoji": "😀",
			}},
			"bad": {"FAILURE", "boom", nil},
		},
	}
	exprs := []string{
		// values and paths
		`fetch.status`, `fetch.reason`, `bad.reason`, `nostep.status`, `nostep.reason`, `nostep.data`, `nostep.data.a.b`,
		`fetch.data`, `fetch.data.meta.b`, `fetch.data.path.x`, `fetch.data.missing`, `bad.data.x`, `params.S`, `params.NOPE`,
		`'it\'s'`, `12`, `-0`, `2.5`, `1e21`, `1e-7`, `-1.5e-7`, `true`, `null`,
		// equality
		`fetch.status == 'SUCCESS'`, `bad.status != 'SUCCESS'`, `null == nostep.data.x`, `null == null`, `fetch.data.n == null`,
		`fetch.data.size == 12`, `fetch.data.size == 12.0`, `fetch.data.zero == -0`, `fetch.data.big == 1000000000000000000000`,
		`fetch.data.size == '12'`, `params.N == 12`, `params.B == true`, `params.B == 'true'`, `fetch.data.meta == fetch.data.meta`,
		`fetch.data.meta.b == fetch.data.meta.b`, `fetch.data.list == fetch.data.meta.b`, `fetch.data.meta == fetch.data.list`,
		`fetch.data == bad.data`,
		// order
		`fetch.data.size > 10`, `fetch.data.size <= 12`, `fetch.data.tiny < 1e-6`, `'a' < 'b'`, `'b' >= 'a'`, `'é' < 'z'`,
		`fetch.data.text < fetch.data.emoji`, `fetch.data.emoji > fetch.data.text`, `params.U > 'u'`, `params.E < 'a'`,
		`nostep.data.x < 3`, `3 > nostep.data.x`, `fetch.data.size < 'a'`, `params.B > false`, `fetch.data.meta < fetch.data.list`,
		`fetch.data.n >= 1`,
		// logic
		`!params.B`, `!params.F`, `!nostep.data.x`, `!params.S`, `!fetch.data.size`, `params.B && params.F`, `params.F && params.S`,
		`params.B || params.S`, `params.F || fetch.data.meta`, `params.B && fetch.data.list`, `(params.F || params.B) && !(1 > 2)`,
		`nostep.data.x || params.B`, `params.B && fetch.status == 'SUCCESS' && fetch.data.size > 10 && !bad.data.x`,
	}
	templates := []string{
		`${fetch.data.size} items, ${fetch.data.path} $${not} ${params.B}${params.F} [${nostep.data.x}]`,
		`${fetch.data.big}/${fetch.data.tiny}/${fetch.data.zero}/${-2.5}`,
		`a ${fetch.data.meta} b`, `a ${fetch.data.list}`, `${params.U}${fetch.data.emoji}`,
		`${!params.S}`, `${fetch.data.size < 'x'}`,
	}
	var parsed []flow.Expr
	var src []string
	for _, s := range exprs {
		e, err := flow.ParseExpr(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		parsed, src = append(parsed, e), append(src, s)
	}
	for _, s := range templates {
		e, err := flow.ParseTemplate(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		parsed, src = append(parsed, e), append(src, s)
	}
	// Objects and arrays as values.
	m := &flow.Map{Pos: flow.Pos{Line: 9, Col: 1}, Fields: []*flow.Arg{
		{Name: "z", Value: parsed[0]}, {Name: "a", Value: &flow.Lit{Val: nil}},
		{Name: "l", Value: &flow.List{Items: []flow.Expr{parsed[1], &flow.Lit{Val: 2.5}}}},
	}}
	parsed, src = append(parsed, m), append(src, "(a map)")
	bad := &flow.List{Items: []flow.Expr{&flow.Lit{Val: 1.0}, parsed[len(parsed)-2]}}
	parsed, src = append(parsed, bad), append(src, "(a list with an error)")

	var script strings.Builder
	script.WriteString("[\n")
	for i, e := range parsed {
		if i > 0 {
			script.WriteString(",\n")
		}
		script.WriteString(groovyExpr(e))
	}
	script.WriteString("\n]\n")
	dir := t.TempDir()
	envJSON, _ := json.Marshal(env)
	for name, content := range map[string]string{"rt.groovy": flowRuntime, "exprs.groovy": script.String(), "env.json": string(envJSON)} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := runGroovy(t, dir, groovyPrelude+`
def rt = shell.parse(new File(args[0]).getText('UTF-8'), 'Runtime')
def exprs = shell.evaluate(new File(args[1]).getText('UTF-8'))
def env = new groovy.json.JsonSlurperClassic().parseText(new File(args[2]).getText('UTF-8'))
def jobctl = [file: 'f.yaml', P: env.params, S: env.steps]
def hex = { String s -> s.getBytes('UTF-8').encodeHex().toString() }
for (e in exprs) {
  def r = rt.jobctlEval(jobctl, e)
  println(hex(r[0] ? 'ok:' + rt.jobctlJson(r[1]) : 'err:' + r[1]))
}
`, filepath.Join(dir, "rt.groovy"), filepath.Join(dir, "exprs.groovy"), filepath.Join(dir, "env.json"))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(parsed) {
		t.Fatalf("groovy gave %d lines for %d expressions:\n%s", len(lines), len(parsed), out)
	}
	for i, e := range parsed {
		var want string
		v, err := e.Eval(env)
		var ee *flow.EvalError
		switch {
		case errors.As(err, &ee):
			want = "err:" + err.Error()
		case err != nil:
			t.Fatalf("%s: %v", src[i], err)
		default:
			want = "ok:" + flow.JSON(v)
		}
		if got := fromHex(t, lines[i]); got != want {
			t.Errorf("%s:\n   go %s\ngroovy %s", src[i], want, got)
		}
	}
}
