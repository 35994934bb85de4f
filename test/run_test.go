package test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// runRepo is a small job repository for run, status and logs: a worker
// with params whose report does not quite match its outputs, one that
// fails, and a slow one that is never concurrent.
var runRepo = map[string]string{
	"jobctl.yaml": "project: runtest\ndefaults:\n  timeout: 5m\n",
	"jobs/greet/job.yaml": `kind: worker
description: Greets.
params:
  WHO: {type: string, required: true}
  LOUD: {type: boolean, default: false}
  COLOR: {type: choice, choices: [red, blue]}
outputs:
  greeting: {type: string, required: true}
  count: {type: string}
`,
	"jobs/greet/run.sh": `#!/usr/bin/env bash
set -euo pipefail
g="hello $WHO in $COLOR"
[[ $LOUD == true ]] && g="${g^^}"
echo "$g"
printf '{"greeting": "%s", "count": 1}\n' "$g" >"$JOBCTL_REPORT_DATA"
`,
	"jobs/broken/job.yaml": "kind: worker\ndescription: Fails.\n",
	"jobs/broken/run.sh":   "#!/usr/bin/env bash\necho 'the disk is on fire' >&2\nexit 3\n",
	"jobs/slow/job.yaml":   "kind: worker\ndescription: Ticks slowly.\nconcurrent: false\n",
	"jobs/slow/run.sh":     "#!/usr/bin/env bash\nfor i in 1 2 3 4 5 6; do echo \"tick $i\"; sleep 0.5; done\n",
}

const (
	runUser  = "admin"
	runToken = "tok-7d3e9a1b2c4f6e8d"
)

// runSetup writes runRepo, starts a secured master, points the
// environment at it and deploys the repository.
func runSetup(t *testing.T) (dir, base string) {
	t.Helper()
	dir = t.TempDir()
	for name, text := range runRepo {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	m := startMasterProc(t, filepath.Join(t.TempDir(), "home"), "--user", runUser, "--token", runToken, "--executors", "3")
	t.Setenv("JENKINS_URL", m.url)
	t.Setenv("JENKINS_USER", runUser)
	t.Setenv("JENKINS_API_TOKEN", runToken)
	if r := runJobctl(t, dir, "deploy"); r.code != 0 {
		t.Fatalf("deploy: exit %d\n%s", r.code, r.stderr)
	}
	return dir, m.url
}

// noToken fails the test if the token appears in a result.
func noToken(t *testing.T, what string, r result) {
	t.Helper()
	if strings.Contains(r.stdout+r.stderr, runToken) {
		t.Errorf("%s printed the token:\n%s\n%s", what, r.stdout, r.stderr)
	}
}

// getAuth GETs a path of the master as the admin and decodes its JSON.
func getAuth(t *testing.T, base, path string, v any) {
	t.Helper()
	httpGetJSON(t, base+path, v)
}

func httpGetJSON(t *testing.T, u string, v any) {
	t.Helper()
	text := httpGet(t, u, runUser, runToken)
	if err := json.Unmarshal([]byte(text), v); err != nil {
		t.Fatalf("GET %s: %v\n%s", u, err, text)
	}
}

// statusJSON runs jobctl status --json.
func statusJSON(t *testing.T, dir, arg string) (result, map[string]any) {
	t.Helper()
	r := runJobctl(t, dir, "status", arg, "--json")
	var out map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("status %s --json: %v (exit %d)\n%s\n%s", arg, err, r.code, r.stdout, r.stderr)
	}
	return r, out
}

func TestRunWait(t *testing.T) {
	dir, _ := runSetup(t)
	r := runJobctl(t, dir, "run", "greet", "-p", "WHO=world", "-p", "LOUD=true", "-p", "COLOR=blue", "--wait")
	noToken(t, "run --wait", r)
	if r.code != 0 {
		t.Fatalf("run greet --wait: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	first, rest, _ := strings.Cut(r.stdout, "\n")
	if !strings.Contains(first, "/queue/item/") {
		t.Errorf("the first line is %q, want the queue item URL", first)
	}
	var report struct {
		Status string         `json:"status"`
		Data   map[string]any `json:"data"`
	}
	if err := json.Unmarshal([]byte(rest), &report); err != nil {
		t.Fatalf("the report: %v\n%s", err, rest)
	}
	if diff := cmp.Diff(map[string]any{"greeting": "HELLO WORLD IN BLUE", "count": 1.0}, report.Data); diff != "" {
		t.Errorf("report data (-want +got):\n%s", diff)
	}
	for _, s := range []string{"SUCCESS", "count: want string, found"} {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
		}
	}

	// --json: one object.
	r = runJobctl(t, dir, "run", "greet", "-p", "WHO=json", "-p", "COLOR=red", "--wait", "--json")
	noToken(t, "run --wait --json", r)
	var out struct {
		QueueURL string          `json:"queue_url"`
		BuildURL string          `json:"build_url"`
		Number   int             `json:"number"`
		Result   string          `json:"result"`
		Report   json.RawMessage `json:"report"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != 0 {
		t.Fatalf("run --json: exit %d, %v\n%s\n%s", r.code, err, r.stdout, r.stderr)
	}
	if out.Number != 2 || out.Result != "SUCCESS" || !strings.Contains(out.QueueURL, "/queue/item/") || !strings.Contains(out.BuildURL, "/2/") || !bytes.Contains(out.Report, []byte("hello json in red")) {
		t.Errorf("run --json: %+v", out)
	}
}

func TestRunFailing(t *testing.T) {
	dir, _ := runSetup(t)
	r := runJobctl(t, dir, "run", "broken", "--wait")
	noToken(t, "run broken", r)
	if r.code != 1 {
		t.Fatalf("run broken --wait: exit %d, want 1\n%s", r.code, r.stderr)
	}
	for _, s := range []string{"FAILURE", "the disk is on fire"} {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
		}
	}
}

// TestRunChecksParams: bad params trigger nothing.
func TestRunChecksParams(t *testing.T) {
	dir, base := runSetup(t)
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{name: "unknown", args: []string{"greet", "-p", "WHO=x", "-p", "COLOUR=red"}, code: 2, want: []string{`-p COLOUR: greet has no param "COLOUR"; did you mean "COLOR"?`}},
		{name: "boolean", args: []string{"greet", "-p", "WHO=x", "-p", "LOUD=yes"}, code: 2, want: []string{`-p LOUD: a boolean must be true or false, got "yes"`}},
		{name: "choice", args: []string{"greet", "-p", "WHO=x", "-p", "COLOR=green"}, code: 2, want: []string{`-p COLOR: "green" is not one of red, blue`}},
		{name: "missing", args: []string{"greet", "-p", "COLOR=red"}, code: 2, want: []string{"-p WHO: required by greet, missing"}},
		{name: "empty", args: []string{"greet", "-p", "WHO="}, code: 2, want: []string{"-p WHO: required, must not be empty"}},
		{name: "all at once", args: []string{"greet", "-p", "LOUD=1", "-p", "COLOR=x"}, code: 2, want: []string{"-p LOUD:", "-p COLOR:", "-p WHO:"}},
		{name: "no params", args: []string{"broken", "-p", "A=1"}, code: 2, want: []string{"-p A: broken declares no params"}},
		{name: "not a job", args: []string{"gret"}, code: 2, want: []string{`gret: no job of that name`, `did you mean "greet"?`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runJobctl(t, dir, append([]string{"run"}, tt.args...)...)
			noToken(t, "run", r)
			if r.code != tt.code || r.stdout != "" {
				t.Errorf("exit %d, want %d; stdout %q\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			for _, s := range tt.want {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
				}
			}
		})
	}
	var q struct {
		Items []any `json:"items"`
	}
	getAuth(t, base, "queue/api/json", &q)
	var root struct {
		Jobs []struct {
			Name   string `json:"name"`
			Builds []any  `json:"builds"`
		} `json:"jobs"`
	}
	getAuth(t, base, "job/runtest/api/json?tree=jobs[name,builds[number]]", &root)
	if len(q.Items) != 0 {
		t.Errorf("the queue holds %d items after rejected runs", len(q.Items))
	}
	for _, j := range root.Jobs {
		if len(j.Builds) != 0 {
			t.Errorf("%s was built after rejected runs", j.Name)
		}
	}
}

func TestRunNotDeployed(t *testing.T) {
	dir, _ := runSetup(t)
	os.MkdirAll(filepath.Join(dir, "jobs", "fresh"), 0o755)
	os.WriteFile(filepath.Join(dir, "jobs", "fresh", "job.yaml"), []byte("kind: worker\ndescription: New.\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "jobs", "fresh", "run.sh"), []byte("#!/usr/bin/env bash\ntrue\n"), 0o755)
	r := runJobctl(t, dir, "run", "fresh")
	noToken(t, "run fresh", r)
	if r.code != 1 || !strings.Contains(r.stderr, "fresh is not deployed") || !strings.Contains(r.stderr, "jobctl deploy") {
		t.Errorf("run of an undeployed job: exit %d\n%s", r.code, r.stderr)
	}
}

// TestStatusAndLogs: a queue item blocked behind a running build, the
// console followed while it runs, and both builds read back.
func TestStatusAndLogs(t *testing.T) {
	dir, _ := runSetup(t)
	r := runJobctl(t, dir, "run", "slow")
	if r.code != 0 {
		t.Fatalf("run slow: exit %d\n%s", r.code, r.stderr)
	}
	q1 := strings.TrimSpace(r.stdout)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		r, out := statusJSON(t, dir, q1)
		if r.code != 0 {
			t.Fatalf("status %s: exit %d\n%s", q1, r.code, r.stderr)
		}
		if out["state"] == "building" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slow #1 did not start: %v", out)
		}
	}
	r = runJobctl(t, dir, "run", "slow")
	q2 := strings.TrimSpace(r.stdout)
	r, out := statusJSON(t, dir, q2)
	noToken(t, "status", r)
	if r.code != 0 || (out["state"] != "blocked" && out["state"] != "waiting") || out["why"] == "" || out["build_url"] != nil {
		t.Errorf("status of the second, queued run: exit %d, %v", r.code, out)
	}
	if r := runJobctl(t, dir, "status", q2); r.code != 0 || !strings.Contains(r.stdout, "blocked") && !strings.Contains(r.stdout, "waiting") {
		t.Errorf("status %s: exit %d\n%s%s", q2, r.code, r.stdout, r.stderr)
	}

	// Follow #1 while it runs: every tick once, up to the end.
	r = runJobctl(t, dir, "logs", "slow", "1", "--follow")
	noToken(t, "logs --follow", r)
	if r.code != 0 || !strings.Contains(r.stdout, "Finished: SUCCESS") {
		t.Fatalf("logs --follow: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, tick := range []string{"tick 1\n", "tick 6\n"} {
		if n := strings.Count(r.stdout, tick); n != 1 {
			t.Errorf("%q printed %d times:\n%s", tick, n, r.stdout)
		}
	}

	r, out = statusJSON(t, dir, q1)
	if r.code != 0 || out["result"] != "SUCCESS" || out["number"] != 1.0 {
		t.Errorf("status %s after the end: exit %d, %v", q1, r.code, out)
	}
	r = runJobctl(t, dir, "status", "slow#1")
	if r.code != 0 || !strings.Contains(r.stderr, "#1: SUCCESS") {
		t.Errorf("status slow#1: exit %d\n%s", r.code, r.stderr)
	}
	// The last build's console (#2 once it ran; it may still be running).
	r = runJobctl(t, dir, "logs", "slow", "--follow")
	if r.code != 0 || !strings.Contains(r.stdout, "tick 6") || !strings.Contains(r.stdout, "Finished: SUCCESS") {
		t.Errorf("logs slow --follow: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = runJobctl(t, dir, "run", "broken", "--wait")
	if r := runJobctl(t, dir, "status", "broken#1"); r.code != 1 || !strings.Contains(r.stderr, "FAILURE") {
		t.Errorf("status broken#1: exit %d, want 1\n%s", r.code, r.stderr)
	}
	if r := runJobctl(t, dir, "status", "slow#9"); r.code != 1 || !strings.Contains(r.stderr, "has no build #9") {
		t.Errorf("status slow#9: exit %d\n%s", r.code, r.stderr)
	}
}

// TestRunInterrupted: Ctrl-C while waiting stops jobctl, not the build.
func TestRunInterrupted(t *testing.T) {
	dir, _ := runSetup(t)
	cmd := exec.Command(jobctl, "run", "slow", "--wait")
	cmd.Dir = dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	s := bufio.NewScanner(stdout)
	if !s.Scan() {
		t.Fatalf("no queue URL; stderr:\n%s", stderr.String())
	}
	q := s.Text()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, out := statusJSON(t, dir, q); out["state"] == "building" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("slow did not start")
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("run --wait after SIGINT: %v, want exit 1\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "jobctl status "+q) {
		t.Errorf("stderr does not say how to check later:\n%s", stderr.String())
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		r, out := statusJSON(t, dir, q)
		if out["state"] == "finished" {
			if r.code != 0 || out["result"] != "SUCCESS" {
				t.Errorf("the build after the interrupt: exit %d, %v", r.code, out)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the build did not end: %v", out)
		}
	}
}

// TestRunExample deploys the example and runs its pipeline on a model it
// ships.
func TestRunExample(t *testing.T) {
	needGroovy(t)
	dir := exampleCopy(t)
	m := startMasterProc(t, filepath.Join(t.TempDir(), "home"), "--executors", "3")
	if r := runJobctl(t, dir, "deploy", "--url", m.url); r.code != 0 {
		t.Fatalf("deploy: exit %d\n%s", r.code, r.stderr)
	}
	model, _ := filepath.Abs(filepath.Join(dir, "models", "cube.stl"))
	r := runJobctl(t, dir, "run", "process_upload", "-p", "SOURCE_S3_FILE_PATH="+model, "--wait", "--url", m.url)
	if r.code != 0 {
		t.Fatalf("run process_upload --wait: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	_, rest, _ := strings.Cut(r.stdout, "\n")
	var report struct {
		Status string         `json:"status"`
		Data   map[string]any `json:"data"`
	}
	if err := json.Unmarshal([]byte(rest), &report); err != nil {
		t.Fatalf("the report: %v\n%s", err, rest)
	}
	got := map[string]any{"status": report.Status, "price": report.Data["price"], "volume_mm3": report.Data["volume_mm3"]}
	if diff := cmp.Diff(map[string]any{"status": "SUCCESS", "price": 5.5, "volume_mm3": 8000.0}, got); diff != "" {
		t.Errorf("the report (-want +got):\n%s", diff)
	}
	if strings.Contains(r.stderr, "warning") {
		t.Errorf("warnings on a good report:\n%s", r.stderr)
	}
}
