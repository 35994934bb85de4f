// Package test holds end-to-end tests: they build the jobctl binary and
// drive it as a user would, on copies of the example repositories.
package test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var jobctl string // path of the binary under test

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "jobctl-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	jobctl = filepath.Join(dir, "jobctl")
	build := exec.Command("go", "build", "-o", jobctl, "../cmd/jobctl")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building jobctl:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

func runJobctl(t *testing.T, dir string, args ...string) result {
	t.Helper()
	cmd := exec.Command(jobctl, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running jobctl: %v", err)
	}
	return result{code, out.String(), errb.String()}
}

// copyExample copies examples/modelshop (without build output) to dst,
// creating files in sorted or reverse order.
func copyExample(t *testing.T, dst string, reverse bool) {
	t.Helper()
	src := filepath.Join("..", "examples", "modelshop")
	var files []string
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() && rel == "build" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	if reverse {
		sort.Sort(sort.Reverse(sort.StringSlice(files)))
	}
	for _, rel := range files {
		data, err := os.ReadFile(filepath.Join(src, rel))
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(filepath.Join(src, rel))
		p := filepath.Join(dst, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	os.Remove(filepath.Join(dst, "jobctl.lock"))
}

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			out[filepath.ToSlash(rel)] = string(b)
		}
		return nil
	})
	return out
}

type summary struct {
	Project string `json:"project"`
	Jobs    []struct {
		Name, Kind, Deployed, Hash, Status string
		Version                            int
	} `json:"jobs"`
}

func buildJSON(t *testing.T, dir string, args ...string) summary {
	t.Helper()
	r := runJobctl(t, dir, append([]string{"build", "--json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("jobctl build: exit %d\n%s", r.code, r.stderr)
	}
	var s summary
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("--json output: %v\n%s", err, r.stdout)
	}
	return s
}

func TestBuildExample(t *testing.T) {
	dir := t.TempDir()
	copyExample(t, dir, false)
	r := runJobctl(t, dir, "build")
	if r.code != 0 {
		t.Fatalf("jobctl build: exit %d\n%s", r.code, r.stderr)
	}
	if !strings.HasPrefix(r.stdout, "NAME") || !strings.Contains(r.stdout, "process_upload") || !strings.Contains(r.stdout, "new") {
		t.Errorf("unexpected table:\n%s", r.stdout)
	}
	lock, err := os.ReadFile(filepath.Join(dir, "jobctl.lock"))
	if err != nil {
		t.Fatal(err)
	}
	s := buildJSON(t, dir)
	if len(s.Jobs) < 6 {
		t.Fatalf("only %d jobs built", len(s.Jobs))
	}
	for _, j := range s.Jobs {
		if j.Status != "unchanged" {
			t.Errorf("%s: %s on an unchanged rebuild", j.Name, j.Status)
		}
		if !strings.Contains(string(lock), fmt.Sprintf("%s v%d %s\n", j.Name, j.Version, j.Hash)) {
			t.Errorf("%s v%d %s is not in the lock:\n%s", j.Name, j.Version, j.Hash, lock)
		}
		xmlFile := filepath.Join(dir, "build", "jobs", j.Deployed+".xml")
		b, err := os.ReadFile(xmlFile)
		if err != nil {
			t.Fatal(err)
		}
		var any struct{}
		if err := xml.Unmarshal(b, &any); err != nil {
			t.Errorf("%s: not valid XML: %v", xmlFile, err)
		}
	}
	if r := runJobctl(t, dir, "build", "--locked"); r.code != 0 {
		t.Errorf("--locked on an up-to-date lock: exit %d\n%s", r.code, r.stderr)
	}
	// From a folder inside the repository, jobctl finds jobctl.yaml upwards.
	if r := runJobctl(t, filepath.Join(dir, "jobs", "inspect_model"), "build", "--locked"); r.code != 0 || !strings.Contains(r.stderr, "into "+filepath.Join(dir, "build")) {
		t.Errorf("build from a subfolder: exit %d\n%s", r.code, r.stderr)
	}
}

func TestLockedRefusesChanges(t *testing.T) {
	dir := t.TempDir()
	copyExample(t, dir, false)
	if r := runJobctl(t, dir, "build"); r.code != 0 {
		t.Fatalf("build: %s", r.stderr)
	}
	before := readTree(t, dir)
	body := filepath.Join(dir, "jobs", "price_model", "run.sh")
	b, _ := os.ReadFile(body)
	os.WriteFile(body, append(b, "# tweak\n"...), 0o755)
	before["jobs/price_model/run.sh"] = string(b) + "# tweak\n"

	r := runJobctl(t, dir, "build", "--locked")
	if r.code != 1 {
		t.Fatalf("--locked with a changed worker: exit %d, want 1\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"jobctl.lock: out of date", "price_model: changed, v1", "would become v2", "process_upload: changed", "run jobctl build without --locked"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("message lacks %q:\n%s", want, r.stderr)
		}
	}
	if diff := cmp.Diff(before, readTree(t, dir)); diff != "" {
		t.Errorf("--locked changed files (-before +after):\n%s", diff)
	}
}

// TestDeterministicAcrossFolders builds the example in two folders whose
// files were written in opposite orders: every output byte must match.
func TestDeterministicAcrossFolders(t *testing.T) {
	a, b := t.TempDir(), filepath.Join(t.TempDir(), "other", "place")
	copyExample(t, a, false)
	copyExample(t, b, true)
	for _, d := range []string{a, b} {
		if r := runJobctl(t, d, "build"); r.code != 0 {
			t.Fatalf("build in %s: %s", d, r.stderr)
		}
	}
	ta, tb := readTree(t, filepath.Join(a, "build")), readTree(t, filepath.Join(b, "build"))
	if len(ta) == 0 {
		t.Fatal("nothing built")
	}
	if diff := cmp.Diff(ta, tb); diff != "" {
		t.Errorf("outputs differ (-a +b):\n%s", diff)
	}
	la, _ := os.ReadFile(filepath.Join(a, "jobctl.lock"))
	lb, _ := os.ReadFile(filepath.Join(b, "jobctl.lock"))
	if !bytes.Equal(la, lb) {
		t.Errorf("locks differ:\n%s\n%s", la, lb)
	}
}

func TestExitCodes(t *testing.T) {
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "jobctl.yaml"), []byte("project: p\n"), 0o644)
	os.MkdirAll(filepath.Join(bad, "jobs", "w"), 0o755)
	os.WriteFile(filepath.Join(bad, "jobs", "w", "job.yaml"), []byte("kind: worker\ntimeout: soon\nparams:\n  X: {type: strng}\n"), 0o644)
	os.WriteFile(filepath.Join(bad, "jobs", "w", "run.sh"), []byte("#!/bin/sh\n"), 0o644)
	empty := t.TempDir()

	tests := []struct {
		name       string
		dir        string
		args       []string
		wantCode   int
		wantStderr []string
	}{
		{"version", empty, []string{"version"}, 0, nil},
		{"unknown flag", empty, []string{"build", "--nope"}, 2, []string{"unknown flag: --nope", "jobctl build --help"}},
		{"extra argument", empty, []string{"build", "extra"}, 2, []string{"build takes no arguments"}},
		{"unknown command", empty, []string{"bild"}, 2, []string{`unknown command "bild"; did you mean "build"?`}},
		{"missing -C folder", empty, []string{"build", "-C", "/nonexistent/x"}, 2, []string{"-C /nonexistent/x: not a folder"}},
		{"no jobctl.yaml", empty, []string{"build"}, 1, []string{"jobctl.yaml: not found in"}},
		{"all input problems at once", bad, []string{"build"}, 1, []string{
			"jobs/w/job.yaml:2:10: timeout: invalid duration \"soon\"",
			"jobs/w/job.yaml:4:13: param X: type must be string, boolean, choice or password, found \"strng\"; did you mean \"string\"?",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runJobctl(t, tt.dir, tt.args...)
			if r.code != tt.wantCode {
				t.Errorf("exit %d, want %d\nstderr: %s", r.code, tt.wantCode, r.stderr)
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(bad, "build")); !os.IsNotExist(err) {
		t.Errorf("a failed build wrote build/")
	}
	if _, err := os.Stat(filepath.Join(bad, "jobctl.lock")); !os.IsNotExist(err) {
		t.Errorf("a failed build wrote jobctl.lock")
	}
}

// TestGeneratedScriptsCompile compiles every generated pipeline script of
// the example with Groovy 2.4, the version Jenkins embeds, and checks every
// generated worker script with bash -n.
func TestGeneratedScriptsCompile(t *testing.T) {
	dir := t.TempDir()
	copyExample(t, dir, false)
	s := buildJSON(t, dir)
	var scripts []string
	for _, j := range s.Jobs {
		b, err := os.ReadFile(filepath.Join(dir, "build", "jobs", j.Deployed+".xml"))
		if err != nil {
			t.Fatal(err)
		}
		var x struct {
			Command string `xml:"builders>hudson.tasks.Shell>command"`
			Script  string `xml:"definition>script"`
		}
		if err := xml.Unmarshal(b, &x); err != nil {
			t.Fatal(err)
		}
		switch j.Kind {
		case "worker":
			out, err := exec.Command("bash", "-n", "-c", x.Command).CombinedOutput()
			if err != nil {
				t.Errorf("%s: bash -n: %v\n%s", j.Deployed, err, out)
			}
		case "orchestration":
			f := filepath.Join(dir, j.Deployed+".groovy")
			os.WriteFile(f, []byte(x.Script), 0o644)
			scripts = append(scripts, f)
		}
	}
	if len(scripts) == 0 {
		t.Fatal("no orchestrations in the example")
	}
	groovy, err := exec.LookPath("groovy")
	if err != nil {
		t.Skip("groovy not installed (apt-get install -y default-jre-headless groovy); CI installs it")
	}
	checker := filepath.Join(dir, "check.groovy")
	// Jenkins imports com.cloudbees.groovy.cps.NonCPS into every pipeline
	// script; the checker defines it and imports it the same way.
	os.WriteFile(checker, []byte(`
import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.customizers.ImportCustomizer

def loader = new GroovyClassLoader(this.class.classLoader)
loader.parseClass('package com.cloudbees.groovy.cps; import java.lang.annotation.*; @Retention(RetentionPolicy.RUNTIME) @interface NonCPS {}')
def config = new CompilerConfiguration()
def imports = new ImportCustomizer()
imports.addImports('com.cloudbees.groovy.cps.NonCPS')
config.addCompilationCustomizers(imports)
def failed = false
args.each { f ->
  try {
    new GroovyShell(loader, new Binding(), config).parse(new File(f))
  } catch (Throwable e) {
    failed = true
    System.err.println("${f}: ${e.message}")
  }
}
System.exit(failed ? 1 : 0)
`), 0o644)
	out, err := exec.Command(groovy, append([]string{checker}, scripts...)...).CombinedOutput()
	if err != nil {
		t.Errorf("generated Groovy does not compile under Groovy 2.4: %v\n%s", err, out)
	}
}
