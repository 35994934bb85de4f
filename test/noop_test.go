package test

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestNoopBuild builds the example's noop build next to its real build and
// runs one of its workers as Jenkins would.
func TestNoopBuild(t *testing.T) {
	dir := exampleCopy(t)

	// Without a lock, a noop build does not write one.
	r := runJobctl(t, dir, "build", "--noop")
	if r.code != 0 {
		t.Fatalf("jobctl build --noop: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "jobctl.lock")); !os.IsNotExist(err) {
		t.Errorf("build --noop wrote jobctl.lock: %v", err)
	}
	if !strings.HasPrefix(r.stdout, "NAME") || !strings.Contains(r.stdout, "fetch_model") {
		t.Errorf("unexpected table:\n%s", r.stdout)
	}
	for _, s := range []string{"as project modelshop-noop", "into " + filepath.Join(dir, "build", "noop"), "trigger the orchestration with JOBCTL_CASE=<orchestration>/<case>"} {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
		}
	}

	// The real build goes around it, and leaves it alone.
	if r := runJobctl(t, dir, "build"); r.code != 0 {
		t.Fatalf("jobctl build: exit %d\n%s", r.code, r.stderr)
	}
	lock, _ := os.ReadFile(filepath.Join(dir, "jobctl.lock"))
	realBuild := readTree(t, filepath.Join(dir, "build"))
	r = runJobctl(t, dir, "build", "--noop", "--json")
	if r.code != 0 {
		t.Fatalf("jobctl build --noop --json: exit %d\n%s", r.code, r.stderr)
	}
	var s struct {
		Project string `json:"project"`
		Noop    bool   `json:"noop"`
		Out     string `json:"out"`
		Jobs    []struct {
			Name, Kind, Deployed string
		} `json:"jobs"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("--json output: %v\n%s", err, r.stdout)
	}
	if s.Project != "modelshop-noop" || !s.Noop || s.Out != filepath.Join(dir, "build", "noop") {
		t.Errorf("summary: project %q noop %t out %q", s.Project, s.Noop, s.Out)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "jobctl.lock")); string(after) != string(lock) {
		t.Errorf("build --noop changed jobctl.lock:\n%s", cmp.Diff(string(lock), string(after)))
	}
	after := readTree(t, filepath.Join(dir, "build"))
	for name, data := range realBuild {
		if !strings.HasPrefix(name, "noop/") && after[name] != data {
			t.Errorf("build --noop changed build/%s", name)
		}
	}
	var m struct {
		Project string `json:"project"`
	}
	if err := json.Unmarshal([]byte(after["noop/manifest.json"]), &m); err != nil || m.Project != "modelshop-noop" {
		t.Errorf("build/noop/manifest.json: project %q, %v", m.Project, err)
	}

	// --locked checks the real lock.
	edit(t, dir, "jobs/price_model/run.sh", "\n", "\n# tweak\n")
	r = runJobctl(t, dir, "build", "--noop", "--locked")
	if r.code != 1 || !strings.Contains(r.stderr, "jobctl.lock: out of date") {
		t.Errorf("--noop --locked with a changed worker: exit %d\n%s", r.code, r.stderr)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "jobctl.lock")); string(after) != string(lock) {
		t.Errorf("build --noop --locked changed jobctl.lock")
	}

	// A noop worker reports what the case prescribes.
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	var deployed string
	for _, j := range s.Jobs {
		if j.Name == "fetch_model" {
			deployed = j.Deployed
		}
	}
	var def struct {
		Command string `xml:"builders>hudson.tasks.Shell>command"`
	}
	if err := xml.Unmarshal([]byte(after["noop/jobs/"+deployed+".xml"]), &def); err != nil || def.Command == "" {
		t.Fatalf("noop fetch_model %s: %v", deployed, err)
	}
	step := filepath.Join(t.TempDir(), "step.sh")
	os.WriteFile(step, []byte(def.Command), 0o700)
	for _, tt := range []struct {
		call, status, reason string
	}{
		{"1", "FAILURE", "exit status 1: could not fetch s3://uploads/hex_prism.stl: curl: (56) Recv failure: Connection reset by peer"},
		{"2", "SUCCESS", ""},
	} {
		ws := t.TempDir()
		cmd := exec.Command("bash", step)
		cmd.Dir = ws
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "WORKSPACE=" + ws, "SOURCE=s3://uploads/hex_prism.stl",
			"JOBCTL_CASE=process_upload/fetch_retried", "JOBCTL_CALL=" + tt.call}
		out, _ := cmd.CombinedOutput()
		raw, err := os.ReadFile(filepath.Join(ws, "report.json"))
		if err != nil {
			t.Fatalf("call %s: no report: %v\n%s", tt.call, err, out)
		}
		var rep struct{ Status, Reason string }
		json.Unmarshal(raw, &rep)
		if rep.Status != tt.status || rep.Reason != tt.reason {
			t.Errorf("call %s: %s %q, want %s %q\n%s", tt.call, rep.Status, rep.Reason, tt.status, tt.reason, out)
		}
	}
}
