package test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The component files of examples/modelshop build the application
// monorepo examples/shop-apps; these tests make a real git repository of a
// copy of it, point a copy of the job repository at it and drive the
// generated jobs on a local master.

// shopComponents are the example's components; web depends on the others.
var shopComponents = []string{"platform_api", "teams_api", "web"}

// generatedJobs are the names of the jobs generated for the example (from
// its component files and its prune section), sorted.
func generatedJobs() []string {
	var out []string
	for _, c := range shopComponents {
		for _, s := range []string{"build", "test", "stage", "release", "build-test", "build-test-stage", "build-test-stage-release", "integration", "watch"} {
			out = append(out, c+"-"+s)
		}
	}
	for _, env := range []string{"qa", "production"} {
		out = append(out, env+"-stage", env+"-release")
	}
	out = append(out, "jobctl-prune") // from jobctl.yaml's prune section
	sort.Strings(out)
	return out
}

func needGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed (apt-get install -y git); CI installs it")
	}
}

// copyTree copies the files under src to dst, with their modes, leaving
// out the top-level entries named in skip.
func copyTree(t *testing.T, src, dst string, skip ...string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		for _, s := range skip {
			if rel == s {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, fi.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// git runs git in dir as a user with a name and an email, and returns its
// trimmed output.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=jobctl test", "-c", "user.email=test@jobctl.invalid", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// commitFile writes text to file in the git repository repo, commits it
// and returns the commit.
func commitFile(t *testing.T, repo, file, text, msg string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(repo, filepath.FromSlash(file)), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, repo, "add", "--", file)
	git(t, repo, "commit", "-q", "-m", msg)
	return git(t, repo, "rev-parse", "HEAD")
}

// shopSetup makes a git repository of a copy of examples/shop-apps and a
// copy of examples/modelshop whose component files build it and deploy
// under a temporary folder. It returns the job repository and the
// application repository (its path, as the component files name it).
func shopSetup(t *testing.T) (dir, repo string) {
	t.Helper()
	repo = t.TempDir()
	copyTree(t, filepath.Join("..", "examples", "shop-apps"), repo)
	git(t, repo, "init", "-q", "-b", "main")
	git(t, repo, "add", "-A")
	git(t, repo, "commit", "-q", "-m", "shop-apps")

	dir = t.TempDir()
	copyTree(t, filepath.Join("..", "examples", "modelshop"), dir, "build", "models")
	deploy := t.TempDir()
	repoLine := regexp.MustCompile(`(?m)^repository: .*$`)
	for _, c := range shopComponents {
		p := filepath.Join(dir, "components", c+".yaml")
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !repoLine.Match(data) || !strings.Contains(string(data), "DEPLOY_DIR: /var/tmp/modelshop/") {
			t.Fatalf("%s: no repository line or DEPLOY_DIR to point at the copies:\n%s", p, data)
		}
		text := repoLine.ReplaceAllLiteralString(string(data), "repository: "+repo)
		text = strings.ReplaceAll(text, "DEPLOY_DIR: /var/tmp/modelshop/", "DEPLOY_DIR: "+deploy+"/")
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, repo
}

// shopDeploy starts a local master and deploys the job repository dir to
// it; it returns the master's URL.
func shopDeploy(t *testing.T, dir string) string {
	t.Helper()
	m := startMasterProc(t, filepath.Join(t.TempDir(), "home"), "--executors", "4")
	// Builds run in process groups of their own, which outlive the
	// master's: let them end before the master and its home go.
	t.Cleanup(func() { waitIdle(t, m.url) })
	r := runJobctl(t, dir, "deploy", "-C", dir, "--url", m.url)
	if r.code != 0 {
		t.Fatalf("deploy: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	deployed := viewJobs(t, m.url)
	for _, name := range generatedJobs() {
		if deployedName(deployed, name) == "" {
			t.Errorf("%s is not deployed; the view lists %v", name, deployed)
		}
	}
	return m.url
}

// waitIdle waits until the master's queue is empty and no build of the
// project runs, twice in a row.
func waitIdle(t *testing.T, base string) {
	t.Helper()
	c := newClient(t, base)
	idle := 0
	for deadline := time.Now().Add(60 * time.Second); idle < 2; time.Sleep(200 * time.Millisecond) {
		var q struct {
			Items []any `json:"items"`
		}
		var f struct {
			Jobs []struct {
				Name      string `json:"name"`
				LastBuild *struct {
					Building bool `json:"building"`
				} `json:"lastBuild"`
			} `json:"jobs"`
		}
		c.getJSON("queue/api/json", &q)
		c.getJSON("job/modelshop/api/json?tree=jobs[name,lastBuild[building]]", &f)
		var busy []string
		for _, j := range f.Jobs {
			if j.LastBuild != nil && j.LastBuild.Building {
				busy = append(busy, j.Name)
			}
		}
		if len(q.Items) > 0 || len(busy) > 0 {
			idle = 0
			if time.Now().After(deadline) {
				t.Errorf("the master is still busy: %d queued, running %v", len(q.Items), busy)
				return
			}
			continue
		}
		idle++
	}
}

// deployedName is the deployed name of the job name among deployed
// (name-vN-hash), or "".
func deployedName(deployed []string, name string) string {
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(name) + `-v[0-9]+-[0-9a-f]+$`)
	for _, d := range deployed {
		if re.MatchString(d) {
			return d
		}
	}
	return ""
}

// runReport is what jobctl run --wait --json prints.
type runReport struct {
	BuildURL string `json:"build_url"`
	Number   int    `json:"number"`
	Result   string `json:"result"`
	Report   struct {
		Status string            `json:"status"`
		Reason string            `json:"reason"`
		Data   map[string]string `json:"data"`
	} `json:"report"`
}

// runWait runs jobctl run NAME -p GIT_REF=ref --wait --json and decodes
// what it prints.
func runWait(t *testing.T, dir, base, name, ref string) (result, runReport) {
	t.Helper()
	r := runJobctl(t, dir, "run", name, "-p", "GIT_REF="+ref, "--wait", "--json", "-C", dir, "--url", base)
	var out runReport
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("run %s --json: exit %d: %v\n%s\n%s", name, r.code, err, r.stdout, r.stderr)
	}
	return r, out
}

// workerConsole returns the console of the build of worker that the
// orchestration's build number ran: the orchestration's console names it
// ("Starting building: modelshop » worker-vN-hash #M").
func workerConsole(t *testing.T, dir, base, orchestration string, number int, worker string) string {
	t.Helper()
	r := runJobctl(t, dir, "logs", orchestration, strconv.Itoa(number), "-C", dir, "--url", base)
	if r.code != 0 {
		t.Fatalf("logs %s %d: exit %d\n%s", orchestration, number, r.code, r.stderr)
	}
	m := regexp.MustCompile(`Starting building: \S+ » ` + regexp.QuoteMeta(worker) + `-v[0-9]+-[0-9a-f]+ #([0-9]+)`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("%s #%d did not start %s:\n%s", orchestration, number, worker, r.stdout)
	}
	r = runJobctl(t, dir, "logs", worker, m[1], "-C", dir, "--url", base)
	if r.code != 0 {
		t.Fatalf("logs %s %s: exit %d\n%s", worker, m[1], r.code, r.stderr)
	}
	return r.stdout
}

// nodeMajor is the major version of the node on PATH, or 0.
func nodeMajor() int {
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		return 0
	}
	major, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(string(out)), "v"), ".")
	n, _ := strconv.Atoi(major)
	return n
}

// TestComponentBuildTest deploys the jobs the example's component files
// generate and runs each component's build-test on the application
// repository: the real build and test commands run on the commit asked
// for, and a commit that breaks a test fails the run with the step's
// reason.
func TestComponentBuildTest(t *testing.T) {
	t.Parallel()
	needGit(t)
	needGroovy(t)
	dir, repo := shopSetup(t)
	head := git(t, repo, "rev-parse", "main")
	// A commit that breaks platform_api's tests, on a branch of its own so
	// that main stays good for the runs beside it.
	git(t, repo, "checkout", "-q", "-b", "broken")
	test, err := os.ReadFile(filepath.Join(repo, "platform_api", "test_app.py"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(test), "app.price(8000), 5.5)") {
		t.Fatalf("platform_api/test_app.py no longer expects a cube to cost 5.5:\n%s", test)
	}
	broken := commitFile(t, repo, "platform_api/test_app.py", strings.Replace(string(test), "app.price(8000), 5.5)", "app.price(8000), 5.75)", 1), "expect a wrong price")
	git(t, repo, "checkout", "-q", "main")
	base := shopDeploy(t, dir)

	tests := []struct {
		name      string
		component string
		ref       string
		needNode  bool
		// wantTest is in the console of the build's test worker.
		wantTest []string
		// wantReason is in a failed run's reason; "" for a run that passes.
		wantReason string
	}{
		{name: "platform_api", component: "platform_api", ref: "main", wantTest: []string{"found python3 ", "+ python3 -m unittest -v", "Ran 3 tests", " OK\n", "platform_api: test passed at " + head}},
		{name: "teams_api", component: "teams_api", ref: "main", wantTest: []string{"found bash ", "+ ./test.sh", "PASS: 1 test", "teams_api: test passed at " + head}},
		{name: "web", component: "web", ref: "main", needNode: true, wantTest: []string{"found node ", "+ node --test", "pass 1", "web: test passed at " + head}},
		{name: "platform_api broken", component: "platform_api", ref: broken, wantTest: []string{"+ python3 -m unittest -v", "AssertionError: 5.5 != 5.75", "FAILED (failures=1)"}, wantReason: "step test (platform_api-test) failed: test command 1 of 1 failed with exit status 1: python3 -m unittest -v"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.needNode {
				if n := nodeMajor(); n < 18 {
					t.Skipf("web needs node >= 18; found %s on PATH", map[bool]string{true: "none", false: fmt.Sprintf("node %d", n)}[n == 0])
				}
			}
			job := tt.component + "-build-test"
			r, out := runWait(t, dir, base, job, tt.ref)
			want := head
			if tt.wantReason != "" {
				want = broken
				if r.code != 1 || out.Result != "FAILURE" || out.Report.Status != "FAILURE" || out.Report.Reason != tt.wantReason {
					t.Errorf("run %s -p GIT_REF=%s: exit %d, result %s, report %s: %q, want exit 1, FAILURE and the reason %q\n%s", job, tt.ref, r.code, out.Result, out.Report.Status, out.Report.Reason, tt.wantReason, r.stderr)
				}
			} else if r.code != 0 || out.Result != "SUCCESS" || out.Report.Status != "SUCCESS" {
				t.Fatalf("run %s -p GIT_REF=%s: exit %d, result %s, report %s: %s\n%s", job, tt.ref, r.code, out.Result, out.Report.Status, out.Report.Reason, r.stderr)
			}
			if got := out.Report.Data["git_hash"]; got != want {
				t.Errorf("the report's git_hash is %q, want %s", got, want)
			}
			console := workerConsole(t, dir, base, job, out.Number, tt.component+"-test")
			for _, s := range tt.wantTest {
				if !strings.Contains(console, s) {
					t.Errorf("the console of %s lacks %q:\n%s", tt.component+"-test", s, console)
				}
			}
			if tt.wantReason == "" {
				build := workerConsole(t, dir, base, job, out.Number, tt.component+"-build")
				if !strings.Contains(build, "checked out "+head) || !strings.Contains(build, tt.component+": build passed at "+head) {
					t.Errorf("the console of %s does not build %s:\n%s", tt.component+"-build", head, build)
				}
			}
		})
	}
}

// buildInfo is what the tests read of a build's JSON.
type buildInfo struct {
	Number   int    `json:"number"`
	Result   string `json:"result"`
	Building bool   `json:"building"`
	Actions  []struct {
		Parameters []struct {
			Name  string `json:"name"`
			Value any    `json:"value"`
		} `json:"parameters"`
		Causes []struct {
			ShortDescription string `json:"shortDescription"`
			UpstreamProject  string `json:"upstreamProject"`
			UpstreamBuild    int    `json:"upstreamBuild"`
		} `json:"causes"`
		LastBuiltRevision *struct {
			SHA1 string `json:"SHA1"`
		} `json:"lastBuiltRevision"`
	} `json:"actions"`
}

func (b buildInfo) param(name string) any {
	for _, a := range b.Actions {
		for _, p := range a.Parameters {
			if p.Name == name {
				return p.Value
			}
		}
	}
	return nil
}

func (b buildInfo) causes() []string {
	var out []string
	for _, a := range b.Actions {
		for _, c := range a.Causes {
			out = append(out, c.ShortDescription)
		}
	}
	return out
}

func (b buildInfo) revision() string {
	for _, a := range b.Actions {
		if a.LastBuiltRevision != nil {
			return a.LastBuiltRevision.SHA1
		}
	}
	return ""
}

// builds returns the numbers of a job's builds, oldest first.
func builds(c *client, job string) []int {
	c.t.Helper()
	var j struct {
		Builds []struct {
			Number int `json:"number"`
		} `json:"builds"`
	}
	c.getJSON("job/modelshop/job/"+job+"/api/json?tree=builds[number]", &j)
	var out []int
	for _, b := range j.Builds {
		out = append(out, b.Number)
	}
	sort.Ints(out)
	return out
}

// waitBuild waits until build number of job exists and, with ended,
// until it has ended.
func waitBuild(c *client, job string, number int, ended bool) buildInfo {
	c.t.Helper()
	path := fmt.Sprintf("job/modelshop/job/%s/%d/", job, number)
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if code, text := c.get(path + "api/json"); code == 200 {
			var b buildInfo
			if err := json.Unmarshal([]byte(text), &b); err != nil {
				c.t.Fatalf("GET %sapi/json: %v", path, err)
			}
			if !ended || !b.Building {
				return b
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s #%d did not start or end in time; builds: %v", job, number, builds(c, job))
		}
	}
}

// notifyCommit tells the master the repository changed, as a push hook
// does, and returns its answer.
func notifyCommit(c *client, repo string) string {
	c.t.Helper()
	code, text := c.get("git/notifyCommit?url=" + url.QueryEscape(repo))
	if code != 200 {
		c.t.Fatalf("notifyCommit: %d %s", code, text)
	}
	return text
}

// TestComponentWatch: a push notification for the application repository
// makes the master poll every watch job; a watch job builds when commits
// change files under its component's folder (and the first time), and
// then runs the component's build-test on the commit.
func TestComponentWatch(t *testing.T) {
	t.Parallel()
	needGit(t)
	needGroovy(t)
	dir, repo := shopSetup(t)
	first := git(t, repo, "rev-parse", "main")
	base := shopDeploy(t, dir)
	c := newClient(t, base)
	deployed := viewJobs(t, base)
	watch, buildTest := deployedName(deployed, "platform_api-watch"), deployedName(deployed, "platform_api-build-test")

	// checkTriggered checks that the watch's build number checked sha out
	// and started build-test's build number on it.
	checkTriggered := func(number int, sha string) {
		t.Helper()
		w := waitBuild(c, watch, number, true)
		if w.Result != "SUCCESS" || w.revision() != sha {
			t.Errorf("%s #%d: %s at %q, want SUCCESS at %s", watch, number, w.Result, w.revision(), sha)
		}
		if r := runJobctl(t, dir, "logs", "platform_api-watch", strconv.Itoa(number), "-C", dir, "--url", base); !strings.Contains(r.stdout, "platform_api/ changed at "+sha) {
			t.Errorf("logs platform_api-watch %d: exit %d, no %q:\n%s%s", number, r.code, "platform_api/ changed at "+sha, r.stdout, r.stderr)
		}
		b := waitBuild(c, buildTest, number, false)
		wantCause := fmt.Sprintf("Started by upstream project \"modelshop/%s\" build number %d", watch, number)
		got := map[string]any{"GIT_REF": b.param("GIT_REF"), "causes": b.causes()}
		want := map[string]any{"GIT_REF": sha, "causes": []string{wantCause}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s #%d (-want +got):\n%s", buildTest, number, diff)
		}
	}

	// Never built: the first notification builds it.
	text := notifyCommit(c, repo)
	if !strings.Contains(text, "Scheduled polling of modelshop » "+watch+"\n") {
		t.Fatalf("notifyCommit did not poll %s:\n%s", watch, text)
	}
	checkTriggered(1, first)

	// A commit outside platform_api/ is ignored: the poll says why.
	other := commitFile(t, repo, "web/NOTES.md", "The web's notes.\n", "web only")
	notifyCommit(c, repo)
	var pollLog string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, pollLog = c.get("job/modelshop/job/" + watch + "/scmPollLog/")
		if strings.Contains(pollLog, "is: "+other+"\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s was not polled for %s:\n%s", watch, other, pollLog)
		}
	}
	if !strings.Contains(pollLog, "Ignored commit "+other+": No paths matched included region whitelist\n") || !strings.HasSuffix(pollLog, "No changes\n") {
		t.Errorf("the poll of %s does not ignore %s:\n%s", watch, other, pollLog)
	}
	if got := builds(c, watch); !cmp.Equal(got, []int{1}) {
		t.Errorf("%s builds after a commit outside platform_api/: %v, want [1]", watch, got)
	}

	// A commit under platform_api/ builds it, and build-test on that commit.
	app, err := os.ReadFile(filepath.Join(repo, "platform_api", "app.py"))
	if err != nil {
		t.Fatal(err)
	}
	change := commitFile(t, repo, "platform_api/app.py", string(app)+"\n# A comment to build.\n", "platform_api change")
	notifyCommit(c, repo)
	// The poll that finds the change says why it builds. (The log is
	// rewritten by every poll, the master's own timed ones included, so
	// it is read until that poll's is seen.)
	want := []string{"Commit " + change + " touches included paths\n", "Ignored commit " + other + ": No paths matched included region whitelist\n", "Changes found\n"}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, pollLog = c.get("job/modelshop/job/" + watch + "/scmPollLog/")
		found := 0
		for _, s := range want {
			if strings.Contains(pollLog, s) {
				found++
			}
		}
		if found == len(want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no poll of %s found the change %s (want %q):\n%s", watch, change, want, pollLog)
		}
	}
	checkTriggered(2, change)
	// Both build-tests built their commit.
	for i, sha := range []string{first, change} {
		waitBuild(c, buildTest, i+1, true)
		r := runJobctl(t, dir, "status", fmt.Sprintf("platform_api-build-test#%d", i+1), "--json", "-C", dir, "--url", base)
		var out struct {
			Result string `json:"result"`
			Report struct {
				Data map[string]string `json:"data"`
			} `json:"report"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != 0 || out.Result != "SUCCESS" || out.Report.Data["git_hash"] != sha {
			t.Errorf("status platform_api-build-test#%d --json: exit %d, %v; want SUCCESS, git_hash %s\n%s\n%s", i+1, r.code, err, sha, r.stdout, r.stderr)
		}
	}

}

// TestComponentsRender: jobctl components render writes every generated
// job's sources and prints their names, replaces only what it wrote, and
// jobctl build compiles the component files without it.
func TestComponentsRender(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	copyTree(t, filepath.Join("..", "examples", "modelshop"), dir, "build", "models")
	want := generatedJobs()

	// jobctl build compiles the generated jobs without a render.
	s := buildJSON(t, dir, "-C", dir)
	kinds := map[string]string{}
	for _, j := range s.Jobs {
		kinds[j.Name] = j.Kind
	}
	for _, name := range want {
		if kinds[name] == "" {
			t.Errorf("jobctl build did not compile %s", name)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "build", "components")); !os.IsNotExist(err) {
		t.Errorf("jobctl build wrote build/components: %v", err)
	}

	out := filepath.Join(t.TempDir(), "rendered")
	r := runJobctl(t, t.TempDir(), "components", "render", "-C", dir, "--out", out)
	if r.code != 0 {
		t.Fatalf("components render: exit %d\n%s", r.code, r.stderr)
	}
	if diff := cmp.Diff(want, strings.Fields(r.stdout)); diff != "" {
		t.Errorf("printed names (-want +got):\n%s", diff)
	}
	if s := fmt.Sprintf("wrote %d jobs generated from 3 component files and jobctl.yaml's prune section to %s", len(want), out); !strings.Contains(r.stderr, s) {
		t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
	}
	var dirs []string
	entries, err := os.ReadDir(filepath.Join(out, "jobs"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		dirs = append(dirs, e.Name())
	}
	if diff := cmp.Diff(want, dirs); diff != "" {
		t.Errorf("folders under %s/jobs (-want +got):\n%s", out, diff)
	}
	for _, name := range want {
		files := readTree(t, filepath.Join(out, "jobs", name))
		body := map[string]string{"worker": "run.sh", "orchestration": "flow.yaml"}[kinds[name]]
		var got []string
		for f := range files {
			got = append(got, f)
		}
		sort.Strings(got)
		wantFiles := []string{body, "job.yaml"}
		sort.Strings(wantFiles)
		if diff := cmp.Diff(wantFiles, got); diff != "" {
			t.Errorf("jobs/%s (-want +got):\n%s", name, diff)
			continue
		}
		if !strings.HasPrefix(files["job.yaml"], "# "+name+": generated by jobctl from ") {
			t.Errorf("jobs/%s/job.yaml does not say where it comes from:\n%s", name, files["job.yaml"])
		}
		if body == "run.sh" {
			if fi, err := os.Stat(filepath.Join(out, "jobs", name, "run.sh")); err != nil || fi.Mode().Perm()&0o100 == 0 {
				t.Errorf("jobs/%s/run.sh is not executable: %v", name, err)
			}
		}
	}

	// Again into the same folder: it wrote it, so it replaces it.
	if r := runJobctl(t, dir, "components", "render", "-C", dir, "--out", out); r.code != 0 {
		t.Errorf("a second render into %s: exit %d\n%s", out, r.code, r.stderr)
	}

	// A folder it did not write is left alone.
	foreign := t.TempDir()
	os.WriteFile(filepath.Join(foreign, "notes.txt"), []byte("mine\n"), 0o644)
	r = runJobctl(t, dir, "components", "render", "-C", dir, "--out", foreign)
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "--out "+foreign+": the folder holds files jobctl components render did not write") {
		t.Errorf("render into a foreign folder: exit %d, want 1\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if diff := cmp.Diff(map[string]string{"notes.txt": "mine\n"}, readTree(t, foreign)); diff != "" {
		t.Errorf("the foreign folder changed (-want +got):\n%s", diff)
	}

}
