package test

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// exampleCopy copies the example, cases and traces included, to a new
// folder and returns it.
func exampleCopy(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	copyExample(t, dir, false)
	return dir
}

// edit replaces old by new in a file of dir; old must occur.
func edit(t *testing.T, dir, file, old, new string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(file))
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s does not contain %q", file, old)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func needGroovy(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("groovy"); err != nil {
		t.Skip("groovy is not installed (apt-get install -y default-jre-headless groovy); CI installs it")
	}
}

// TestExampleCasesPass runs every case of the example, flows through the
// generated Groovy too, and checks the JSON and JUnit reports.
func TestExampleCasesPass(t *testing.T) {
	needGroovy(t)
	dir := exampleCopy(t)
	junit := filepath.Join(dir, "junit.xml")
	r := runJobctl(t, dir, "test", "--groovy", "--json", "--junit", junit)
	if r.code != 0 {
		t.Fatalf("jobctl test failed (%d):\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	var cases []struct {
		Case     string   `json:"case"`
		Mode     string   `json:"mode"`
		Passed   bool     `json:"passed"`
		Failures []string `json:"failures"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &cases); err != nil {
		t.Fatalf("--json output: %v\n%s", err, r.stdout)
	}
	modes := map[string]int{}
	for _, c := range cases {
		modes[c.Mode]++
		if !c.Passed {
			t.Errorf("%s failed: %v", c.Case, c.Failures)
		}
	}
	if modes["flow"] < 5 || modes["groovy"] < 3 {
		t.Errorf("cases by mode = %v; want the example's flow and raw Groovy cases", modes)
	}
	data, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("JUnit XML: %v", err)
	}
	if doc.Tests != len(cases) || doc.Failures != 0 {
		t.Errorf("JUnit: %d tests, %d failures; want %d, 0", doc.Tests, doc.Failures, len(cases))
	}
}

// TestCaseFailures changes an expectation, a worker's result, the flow and
// a raw Groovy script in turn: each makes a case fail, saying what differs.
func TestCaseFailures(t *testing.T) {
	needGroovy(t)
	for _, tc := range []struct {
		name    string
		file    string
		old     string
		new     string
		pattern string
		want    []string
	}{{
		name:    "a wrong expectation",
		file:    "mocks/process_upload/success.yaml",
		old:     "    price: 5.61\n    currency: EUR\n    part_id",
		new:     "    price: 5.5\n    currency: EUR\n    part_id",
		pattern: "process_upload/success",
		want:    []string{"FAIL process_upload/success", "data.price: want 5.5, got 5.61"},
	}, {
		name:    "a changed worker result",
		file:    "mocks/process_upload/success.yaml",
		old:     "data: {fits: true, printer: mk4",
		new:     "status: FAILURE\n    reason: too tall\n    data: {fits: false, printer: mk4",
		pattern: "process_upload/success",
		want: []string{
			"status: want SUCCESS, got FAILURE (reason: step fit (check_printability) failed: too tall)",
			"call 7: want register_part [register], got no call",
			"the run differs from the recorded trace mocks/process_upload/success.trace.yaml",
			"-     result: SUCCESS",
			"+     result: FAILURE",
		},
	}, {
		name:    "an edited flow",
		file:    "jobs/process_upload/flow.yaml",
		old:     "        allow_failure: true\n",
		new:     "",
		pattern: "process_upload/thumbnail_fails",
		want: []string{
			"status: want SUCCESS, got FAILURE (reason: step thumbnail (render_thumbnail) failed: render_thumbnail ended FAILURE without a report)",
			"call 5: want check_printability, got no call",
		},
	}, {
		name:    "an unmocked call",
		file:    "mocks/process_upload/success.yaml",
		old:     "  register_part:\n    data: {status_code: 201, part_id: part-0017, attempts: 1}\n",
		new:     "",
		pattern: "process_upload/success",
		want:    []string{"call 1 of register_part has no mock: add register_part to the case's mocks"},
	}, {
		name:    "an edited raw Groovy script",
		file:    "jobs/reprocess_batch/main.groovy",
		old:     "failed << model\n",
		new:     "failed << model\n        notify(model)\n",
		pattern: "reprocess_batch/some_fail",
		want:    []string{"jobs/reprocess_batch/main.groovy:46: unknown step 'notify': jobctl's mock step library has no such step"},
	}, {
		name:    "a raw Groovy case with a wrong status",
		file:    "mocks/reprocess_batch/some_fail.yaml",
		old:     "status: UNSTABLE",
		new:     "status: SUCCESS",
		pattern: "reprocess_batch/some_fail",
		want:    []string{"status: want SUCCESS, got UNSTABLE (reason: 1 of 3 models failed)"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := exampleCopy(t)
			edit(t, dir, tc.file, tc.old, tc.new)
			r := runJobctl(t, dir, "test", tc.pattern)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, r.stdout)
				}
			}
		})
	}
}

// TestUpdateRecordsTraces: a case without a trace fails until --update
// records it; then it passes.
func TestUpdateRecordsTraces(t *testing.T) {
	dir := exampleCopy(t)
	os.Remove(filepath.Join(dir, "mocks/process_upload/success.trace.yaml"))
	r := runJobctl(t, dir, "test", "process_upload/success")
	if r.code != 1 || !strings.Contains(r.stdout, "no recorded trace mocks/process_upload/success.trace.yaml") {
		t.Fatalf("without a trace: exit %d\n%s", r.code, r.stdout)
	}
	if r = runJobctl(t, dir, "test", "--update", "process_upload/success"); r.code != 0 || !strings.Contains(r.stdout, "trace recorded") {
		t.Fatalf("--update: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "mocks/process_upload/success.trace.yaml"))
	want, _ := os.ReadFile("../examples/modelshop/mocks/process_upload/success.trace.yaml")
	if string(got) != string(want) {
		t.Errorf("recorded trace differs from the committed one")
	}
	if r = runJobctl(t, dir, "test", "process_upload/success"); r.code != 0 {
		t.Fatalf("after --update: exit %d\n%s", r.code, r.stdout)
	}
}

// TestCaseFileProblems: mistakes in a case file are reported with their
// position, all at once, before anything runs.
func TestCaseFileProblems(t *testing.T) {
	dir := exampleCopy(t)
	edit(t, dir, "mocks/process_upload/success.yaml", "  MATERIAL: petg\n", "  MATERIAL: wood\n  PRINTR: mk4\n")
	edit(t, dir, "mocks/process_upload/success.yaml", "  register_part:", "  register_prt:")
	edit(t, dir, "mocks/process_upload/success.yaml", "      price: 5.61\n", "      price: cheap\n")
	edit(t, dir, "mocks/process_upload/unprintable.yaml", "expect:\n  status: FAILURE", "expect:\n  status: FAILED")
	r := runJobctl(t, dir, "test")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, w := range []string{
		`mocks/process_upload/success.yaml:8:13: "wood" is not a choice of param MATERIAL (pla, petg, resin)`,
		`mocks/process_upload/success.yaml:9:3: job process_upload has no param "PRINTR"; did you mean "PRINTER"?`,
		`mocks/process_upload/success.yaml:36:3: unknown job "register_prt"; did you mean "register_part"?`,
		`mocks/process_upload/success.yaml:32:14: mocks.price_model.data does not match the outputs of price_model: price: want number, found string`,
		`mocks/process_upload/unprintable.yaml:27:11: expect.status must be one of SUCCESS, FAILURE, UNSTABLE, ABORTED, found "FAILED"`,
	} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
		}
	}
	if r.stdout != "" {
		t.Errorf("no case should run; stdout:\n%s", r.stdout)
	}
}

// TestNoGroovy: without groovy, raw Groovy cases cannot run, and the
// message says how to install it.
func TestNoGroovy(t *testing.T) {
	dir := exampleCopy(t)
	cmd := exec.Command(jobctl, "test", "reprocess_batch")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("jobctl test ran raw Groovy cases without groovy:\n%s", out)
	}
	for _, name := range []string{"all_quoted", "listing_fails", "some_fail", "store_fails"} {
		if !strings.Contains(string(out), "FAIL reprocess_batch/"+name) {
			t.Errorf("case %s is not reported as failed:\n%s", name, out)
		}
	}
	if !strings.Contains(string(out), "apt-get install -y default-jre-headless groovy") {
		t.Errorf("the message does not say how to install groovy:\n%s", out)
	}
	// Flow cases need no JVM.
	cmd = exec.Command(jobctl, "test", "process_upload")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("flow cases without groovy: %v\n%s", err, out)
	}
}
