package compiler

import (
	"bytes"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jobctl/jobctl/jobs"
)

var update = flag.Bool("update", false, "rewrite golden files")

// repoFiles is a small repository: two workers sharing lib/sh, an
// orchestration calling both through lib/groovy, and an orchestration
// calling that orchestration.
func repoFiles() map[string]string {
	return map[string]string{
		"jobctl.yaml":               "project: shop\ndefaults:\n  label: linux\n  keep: {days: 3, builds: 200}\n  timeout: 10m\n",
		"lib/sh/log.sh":             "log_info() {\n  echo \"info: $*\"\n}\n",
		"lib/sh/fetch.sh":           "fetch_to() {\n  log_info \"fetching $1\"\n  cp \"$1\" \"$2\"\n}\n",
		"lib/sh/unused.sh":          "never_called() {\n  :\n}\n",
		"lib/groovy/reports.groovy": "import groovy.json.JsonOutput\n\ndef readReport(r, String name) {\n  copyArtifacts(projectName: r.fullProjectName, selector: specific(\"${r.number}\"), filter: 'report.json', target: name)\n  return readJSON(file: \"${name}/report.json\")\n}\n",
		"lib/groovy/unused.groovy":  "def unusedHelper() {\n  echo 'never'\n}\n",
		"jobs/fetch/job.yaml":       "kind: worker\ndescription: Fetch a file.\nparams:\n  SRC: {type: string, required: true}\noutputs:\n  size: integer\n",
		"jobs/fetch/run.sh":         "#!/usr/bin/env bash\nset -euo pipefail\nfetch_to \"$SRC\" model.stl\necho '{\"size\": 1}' > \"$JOBCTL_REPORT_DATA\"\n",
		"jobs/inspect/job.yaml":     "kind: worker\ndescription: Inspect a file.\nparams:\n  MODEL: {type: string, required: true}\n  MATERIAL: {type: choice, choices: [pla, petg], default: petg}\nrequires:\n  tools: {awk: '>= 1'}\n",
		"jobs/inspect/run.sh":       "#!/bin/bash\nlog_info \"inspecting $MODEL\"\n",
		"jobs/upload/job.yaml":      "kind: orchestration\ndescription: Upload.\nparams:\n  SRC: {type: string, required: true}\nrequires:\n  plugins: {copyartifact: '>= 1.46'}\n",
		"jobs/upload/main.groovy":   "// Runs fetch then inspect.\nimport groovy.transform.Field\n\n@Field String phase = 'start'\n\ndef helper(x) {\n  return x\n}\n\nnode {\n  def f = build job: 'fetch', propagate: false, parameters: [string(name: 'SRC', value: params.SRC)]\n  def r = readReport(f, 'fetch')\n  build('inspect')\n}\n",
		"jobs/nightly/job.yaml":     "kind: orchestration\nschedule: 'H 3 * * *'\ntimeout: none\n",
		"jobs/nightly/main.groovy":  "build job: 'upload', parameters: [string(name: 'SRC', value: '/tmp/x')]\n",
	}
}

// writeRepo writes files into dir, in sorted or reverse-sorted order.
func writeRepo(t testing.TB, dir string, files map[string]string, reverse bool) {
	t.Helper()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	if reverse {
		for i, j := 0, len(names)-1; i < j; i, j = i+1, j-1 {
			names[i], names[j] = names[j], names[i]
		}
	}
	for _, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(files[n]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func compileDir(t testing.TB, dir string) *Result {
	t.Helper()
	repo, err := Load(dir)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	lock, err := jobs.ReadLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Compile(repo, lock, Options{})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return res
}

func compileFiles(t testing.TB, files map[string]string) *Result {
	t.Helper()
	dir := t.TempDir()
	writeRepo(t, dir, files, false)
	return compileDir(t, dir)
}

// compileErr compiles files that must fail and returns the problems, one per line.
func compileErr(t *testing.T, files map[string]string) []string {
	t.Helper()
	dir := t.TempDir()
	writeRepo(t, dir, files, false)
	repo, err := Load(dir)
	if err == nil {
		_, err = Compile(repo, &jobs.Lock{}, Options{})
	}
	if err == nil {
		t.Fatal("compiled without problems")
	}
	if !jobs.IsInputError(err) {
		t.Fatalf("not an input error: %v", err)
	}
	return strings.Split(err.Error(), "\n")
}

func TestGolden(t *testing.T) {
	res := compileFiles(t, repoFiles())
	golden := filepath.Join("testdata", "golden")
	files := res.Files()
	if *update {
		os.RemoveAll(golden)
		for rel, data := range files {
			p := filepath.Join(golden, rel)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	var want []string
	filepath.WalkDir(golden, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(golden, p)
			want = append(want, filepath.ToSlash(rel))
		}
		return nil
	})
	var got []string
	for rel := range files {
		got = append(got, rel)
	}
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("files (-want +got); run go test ./compiler -run Golden -update:\n%s", diff)
	}
	for _, rel := range got {
		w, _ := os.ReadFile(filepath.Join(golden, rel))
		if diff := cmp.Diff(string(w), string(files[rel])); diff != "" {
			t.Errorf("%s (-want +got); run go test ./compiler -run Golden -update:\n%s", rel, diff)
		}
	}
}

func TestOrderAndCalls(t *testing.T) {
	res := compileFiles(t, repoFiles())
	var order []string
	for _, d := range res.Defs {
		order = append(order, d.Job.Name)
	}
	if diff := cmp.Diff([]string{"fetch", "inspect", "upload", "nightly"}, order); diff != "" {
		t.Errorf("dependency order (-want +got):\n%s", diff)
	}
	up := res.Def("upload")
	if diff := cmp.Diff([]string{"fetch", "inspect"}, up.Calls); diff != "" {
		t.Errorf("upload calls (-want +got):\n%s", diff)
	}
	want := []string{res.Def("fetch").Deployed, res.Def("inspect").Deployed}
	if diff := cmp.Diff(want, up.CallsDeployed); diff != "" {
		t.Errorf("upload calls deployed (-want +got):\n%s", diff)
	}
	m, ok := jobs.ParseMarker(descriptionOf(t, up.XML))
	if !ok {
		t.Fatalf("no marker in upload's description")
	}
	if diff := cmp.Diff(jobs.Marker{Project: "shop", Name: "upload", Kind: jobs.Orchestration, Version: 1, Hash: up.Hash, Calls: want}, m); diff != "" {
		t.Errorf("marker (-want +got):\n%s", diff)
	}
	script := scriptOf(t, up.XML)
	for _, w := range want {
		if !strings.Contains(script, "'"+w+"'") {
			t.Errorf("script does not call %s:\n%s", w, script)
		}
	}
}

// TestDeterministic builds the same sources in two folders, written in
// opposite orders: the outputs must be byte-identical.
func TestDeterministic(t *testing.T) {
	a, b := t.TempDir(), filepath.Join(t.TempDir(), "elsewhere", "deeper")
	writeRepo(t, a, repoFiles(), false)
	writeRepo(t, b, repoFiles(), true)
	ra, rb := compileDir(t, a), compileDir(t, b)
	if err := ra.Write(filepath.Join(a, "build")); err != nil {
		t.Fatal(err)
	}
	if err := rb.Write(filepath.Join(b, "build")); err != nil {
		t.Fatal(err)
	}
	da, db := readTree(t, filepath.Join(a, "build")), readTree(t, filepath.Join(b, "build"))
	if diff := cmp.Diff(da, db); diff != "" {
		t.Errorf("builds differ (-a +b):\n%s", diff)
	}
	if !bytes.Equal(ra.Lock.Bytes(), rb.Lock.Bytes()) {
		t.Errorf("locks differ:\n%s\n%s", ra.Lock.Bytes(), rb.Lock.Bytes())
	}
}

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestChangePropagates changes one worker's body: that worker and every job
// that calls it (directly or not) get new names, nothing else does; reverting
// gives a new version number with the old hash.
func TestChangePropagates(t *testing.T) {
	dir := t.TempDir()
	files := repoFiles()
	writeRepo(t, dir, files, false)
	build := func() map[string]*Definition {
		res := compileDir(t, dir)
		if err := res.Lock.Write(dir); err != nil {
			t.Fatal(err)
		}
		out := map[string]*Definition{}
		for _, d := range res.Defs {
			out[d.Job.Name] = d
		}
		return out
	}
	v1 := build()
	again := build()
	for n, d := range v1 {
		if again[n].Deployed != d.Deployed || again[n].Status != jobs.Unchanged {
			t.Errorf("%s: rebuild without changes gave %s (%s), want %s unchanged", n, again[n].Deployed, again[n].Status, d.Deployed)
		}
	}

	changed := map[string]string{"jobs/inspect/run.sh": files["jobs/inspect/run.sh"] + "echo changed\n"}
	writeRepo(t, dir, changed, false)
	v2 := build()
	var gotChanged []string
	for n := range v1 {
		if v1[n].Deployed != v2[n].Deployed {
			gotChanged = append(gotChanged, n)
			if v2[n].Version != v1[n].Version+1 || v2[n].Status != jobs.Changed {
				t.Errorf("%s: version %d (%s), want %d changed", n, v2[n].Version, v2[n].Status, v1[n].Version+1)
			}
		}
	}
	sort.Strings(gotChanged)
	if diff := cmp.Diff([]string{"inspect", "nightly", "upload"}, gotChanged); diff != "" {
		t.Errorf("changed jobs (-want +got):\n%s", diff)
	}

	writeRepo(t, dir, map[string]string{"jobs/inspect/run.sh": files["jobs/inspect/run.sh"]}, false)
	v3 := build()
	if v3["inspect"].Hash != v1["inspect"].Hash || v3["inspect"].Version != 3 {
		t.Errorf("inspect after revert: v%d %s, want v3 %s", v3["inspect"].Version, v3["inspect"].Hash, v1["inspect"].Hash)
	}
	// Its callers call inspect-v3-<old hash> now, a name that differs from
	// both earlier ones, so they get a third hash: equal hashes always mean
	// equal definitions.
	for _, n := range []string{"upload", "nightly"} {
		if v3[n].Version != 3 || v3[n].Hash == v1[n].Hash || v3[n].Hash == v2[n].Hash {
			t.Errorf("%s after revert: v%d %s, want v3 with a new hash (v1 %s, v2 %s)", n, v3[n].Version, v3[n].Hash, v1[n].Hash, v2[n].Hash)
		}
	}
	if v3["fetch"].Deployed != v1["fetch"].Deployed {
		t.Errorf("fetch changed: %s → %s", v1["fetch"].Deployed, v3["fetch"].Deployed)
	}
}

// TestLibInclusion checks that a job's hash covers exactly the library code
// it uses.
func TestLibInclusion(t *testing.T) {
	base := compileFiles(t, repoFiles())
	fetch := commandOf(t, base.Def("fetch").XML)
	for _, want := range []string{"fetch_to()", "log_info()"} {
		if !strings.Contains(fetch, want) {
			t.Errorf("fetch's wrapper lacks %s (transitive lib/sh inclusion)", want)
		}
	}
	if strings.Contains(fetch, "never_called") {
		t.Errorf("fetch's wrapper includes an unused lib/sh file")
	}
	if s := scriptOf(t, base.Def("upload").XML); !strings.Contains(s, "def readReport") || strings.Contains(s, "unusedHelper") {
		t.Errorf("upload's script has the wrong lib/groovy code:\n%s", s)
	}

	files := repoFiles()
	files["lib/sh/unused.sh"] += "# edited\n"
	files["lib/groovy/unused.groovy"] += "// edited\n"
	same := compileFiles(t, files)
	for _, d := range base.Defs {
		if same.Def(d.Job.Name).Hash != d.Hash {
			t.Errorf("%s: hash changed when an unused library changed", d.Job.Name)
		}
	}
	files = repoFiles()
	files["lib/sh/log.sh"] += "# edited\n"
	edited := compileFiles(t, files)
	for _, n := range []string{"fetch", "inspect", "upload", "nightly"} {
		if edited.Def(n).Hash == base.Def(n).Hash {
			t.Errorf("%s: hash did not change when a library it uses changed", n)
		}
	}
}

func TestLineMap(t *testing.T) {
	res := compileFiles(t, repoFiles())
	up := res.Def("upload")
	lines := strings.Split(scriptOf(t, up.XML), "\n")
	found := false
	for i, l := range lines {
		if strings.Contains(l, "def r = readReport(f, 'fetch')") {
			file, line, ok := up.LineMap.Lookup(i + 1)
			if !ok || file != "jobs/upload/main.groovy" || line != 12 {
				t.Errorf("line %d maps to %s:%d %v, want jobs/upload/main.groovy:12", i+1, file, line, ok)
			}
			found = true
		}
		if strings.Contains(l, "copyArtifacts(") {
			file, line, _ := up.LineMap.Lookup(i + 1)
			if file != "lib/groovy/reports.groovy" || line != 4 {
				t.Errorf("lib line maps to %s:%d, want lib/groovy/reports.groovy:4", file, line)
			}
		}
	}
	if !found {
		t.Fatal("statement not found in the generated script")
	}
	if _, _, ok := up.LineMap.Lookup(1); ok {
		t.Errorf("the generated header maps to a source line")
	}
	if up.LineMap.Lines != len(lines)-1 {
		t.Errorf("LineMap.Lines = %d, want %d", up.LineMap.Lines, len(lines)-1)
	}
}

func TestReferenceProblems(t *testing.T) {
	tests := []struct {
		name string
		edit map[string]string
		want []string
	}{
		{
			name: "unknown job with did-you-mean",
			edit: map[string]string{"jobs/nightly/main.groovy": "node {\n  build job: 'uplaod'\n  build 'nope'\n}\n"},
			want: []string{
				`jobs/nightly/main.groovy:2:14: unknown job "uplaod"; did you mean "upload"?`,
				`jobs/nightly/main.groovy:3:9: unknown job "nope"`,
			},
		},
		{
			name: "deployed name instead of common name",
			edit: map[string]string{"jobs/nightly/main.groovy": "build job: 'upload-v1-0123456789ab'\n"},
			want: []string{`jobs/nightly/main.groovy:1:12: unknown job "upload-v1-0123456789ab"; name the job by its common name "upload" and jobctl picks the version`},
		},
		{
			name: "cycle",
			edit: map[string]string{"jobs/upload/main.groovy": "build job: 'nightly'\n"},
			want: []string{`jobs/nightly/main.groovy: jobs call each other in a cycle: nightly → upload → nightly; an orchestration cannot (indirectly) call itself`},
		},
		{
			name: "self call",
			edit: map[string]string{"jobs/nightly/main.groovy": "build job: 'nightly'\n"},
			want: []string{`jobs/nightly/main.groovy: jobs call each other in a cycle: nightly → nightly; an orchestration cannot (indirectly) call itself`},
		},
		{
			name: "dynamic name",
			edit: map[string]string{"jobs/nightly/main.groovy": "def n = 'upload'\nbuild job: n\n"},
			want: []string{`jobs/nightly/main.groovy:2:12: build: the job name must be a string literal so jobctl can resolve it to a deployed version`},
		},
		{
			name: "lib reference",
			edit: map[string]string{"lib/groovy/unused.groovy": "def unusedHelper() {\n  build job: 'fetc'\n}\n"},
			want: []string{`lib/groovy/unused.groovy:2:14: unknown job "fetc"; did you mean "fetch"?`},
		},
		{
			name: "statement in a lib",
			edit: map[string]string{"lib/groovy/unused.groovy": "def a() { 1 }\necho 'top level'\n"},
			want: []string{`lib/groovy/unused.groovy:2:1: a lib/groovy file may only declare methods, classes, imports and @Field variables; move statements into a method`},
		},
		{
			name: "no shebang",
			edit: map[string]string{"jobs/fetch/run.sh": "echo hi\n"},
			want: []string{`jobs/fetch/run.sh:1:1: a worker body must start with a shebang line that names its interpreter, e.g. #!/usr/bin/env bash`},
		},
		{
			name: "missing body and bad job folder",
			edit: map[string]string{"jobs/fetch/job.yaml": "kind: worker\nscript: nope.sh\n", "jobs/Bad/job.yaml": "kind: worker\n", "jobs/Bad/run.sh": "#!/bin/sh\n"},
			want: []string{
				`jobs/Bad: job name "Bad" (the folder's name): a name must start with a lowercase letter and hold only lowercase letters, digits, '_' and single '-' (not at the end)`,
				`jobs/fetch/job.yaml:2:9: script jobs/fetch/nope.sh does not exist; create it or name the right file with script:`,
			},
		},
		{
			name: "problems in files are reported before references are resolved",
			edit: map[string]string{
				"jobs/fetch/run.sh":       "echo no shebang\n",
				"jobs/upload/main.groovy": "node { build 'fetch' }; def f() { 1 }\nbuild 'inspec'\n",
			},
			want: []string{
				`jobs/fetch/run.sh:1:1: a worker body must start with a shebang line that names its interpreter, e.g. #!/usr/bin/env bash`,
			},
		},
		{
			name: "declaration sharing a line",
			edit: map[string]string{"jobs/upload/main.groovy": "node { build 'fetch' }; def f() { 1 }\nbuild 'inspec'\n"},
			want: []string{
				`jobs/upload/main.groovy:1:1: put this declaration on lines of its own: jobctl moves it to the top of the generated script`,
				`jobs/upload/main.groovy:2:7: unknown job "inspec"; did you mean "inspect"?`,
			},
		},
		{
			name: "binary body",
			edit: map[string]string{"jobs/fetch/run.sh": "#!/bin/sh\necho \x00\n"},
			want: []string{`jobs/fetch/run.sh:2: the line contains the control character U+0000 at byte 5, which Jenkins job XML cannot carry; is this a text file?`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := repoFiles()
			for k, v := range tt.edit {
				files[k] = v
			}
			got := compileErr(t, files)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteRefusesForeignFolder(t *testing.T) {
	res := compileFiles(t, repoFiles())
	out := t.TempDir()
	precious := filepath.Join(out, "precious.txt")
	os.WriteFile(precious, []byte("data"), 0o644)
	if err := res.Write(out); err == nil || !strings.Contains(err.Error(), "refusing to replace") {
		t.Fatalf("Write over a foreign folder: %v", err)
	}
	if _, err := os.Stat(precious); err != nil {
		t.Fatalf("foreign file lost: %v", err)
	}
	// A previous build is replaced whole: stale definitions disappear.
	build := filepath.Join(t.TempDir(), "build")
	if err := res.Write(build); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(build, "jobs", "stale-v1-0123456789ab.xml")
	os.WriteFile(stale, []byte("<project/>"), 0o644)
	if err := res.Write(build); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale definition survived a rebuild")
	}
	m, err := ReadManifest(build)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Jobs) != 4 {
		t.Errorf("manifest has %d jobs, want 4", len(m.Jobs))
	}
}

// Helpers reading the parts of a definition back out of its XML.

type jobXML struct {
	Description string `xml:"description"`
	Command     string `xml:"builders>hudson.tasks.Shell>command"`
	Script      string `xml:"definition>script"`
	Defs        struct {
		Params []paramXML `xml:",any"`
	} `xml:"properties>hudson.model.ParametersDefinitionProperty>parameterDefinitions"`
	Params []paramXML `xml:"-"`
}

type paramXML struct {
	XMLName     xml.Name
	Name        string   `xml:"name"`
	Description string   `xml:"description"`
	Default     string   `xml:"defaultValue"`
	Choices     []string `xml:"choices>a>string"`
}

func parseJobXML(t *testing.T, b []byte) jobXML {
	t.Helper()
	var j jobXML
	if err := xml.Unmarshal(b, &j); err != nil {
		t.Fatalf("definition is not valid XML: %v\n%s", err, b)
	}
	j.Params = j.Defs.Params
	return j
}

func descriptionOf(t *testing.T, b []byte) string { return parseJobXML(t, b).Description }
func scriptOf(t *testing.T, b []byte) string      { return parseJobXML(t, b).Script }
func commandOf(t *testing.T, b []byte) string     { return parseJobXML(t, b).Command }
