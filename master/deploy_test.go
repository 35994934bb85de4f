package master_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jobctl/jobctl/compiler"
	"github.com/jobctl/jobctl/jobs"
	"github.com/jobctl/jobctl/master"
	"github.com/jobctl/jobctl/master/local"
	"github.com/jobctl/jobctl/test/benchrepo"
)

// startLocal starts a local master on a free port.
func startLocal(t *testing.T, cfg local.Config) string {
	t.Helper()
	cfg.Home = filepath.Join(t.TempDir(), "home")
	m, err := local.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	url, err := m.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		m.Close(ctx)
	})
	return url
}

// example copies examples/modelshop into a temporary folder.
func example(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "modelshop")
	src := "../examples/modelshop"
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if rel == "build" || strings.HasPrefix(rel, "build"+string(filepath.Separator)) {
			return filepath.SkipDir
		}
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, fi.Mode())
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// compile compiles the repository at dir and writes its lock, as jobctl
// build does.
func compile(t *testing.T, dir string) *compiler.Result {
	t.Helper()
	repo, err := compiler.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	lock, err := jobs.ReadLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := compiler.Compile(repo, lock, compiler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Lock.Write(dir); err != nil {
		t.Fatal(err)
	}
	return res
}

// counter counts the requests that go through it, by method.
type counter struct {
	mu    sync.Mutex
	reqs  []string // "METHOD path"
	inner http.RoundTripper
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.reqs = append(c.reqs, r.Method+" "+r.URL.Path)
	c.mu.Unlock()
	return c.inner.RoundTrip(r)
}

func (c *counter) count(method string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, r := range c.reqs {
		if method == "" || strings.HasPrefix(r, method+" ") {
			n++
		}
	}
	return n
}

func newCounter() *counter { return &counter{inner: http.DefaultTransport.(*http.Transport).Clone()} }

func client(t *testing.T, url string, tr http.RoundTripper) *master.Client {
	t.Helper()
	c, err := master.New(context.Background(), master.Config{URL: url, Timeout: 10 * time.Second, Transport: tr})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// deploy plans and applies b, failing the test on any error.
func deploy(t *testing.T, c *master.Client, b *master.Build, now time.Time) (*master.DeployPlan, *master.Result) {
	t.Helper()
	ctx := context.Background()
	p, err := c.PlanDeploy(ctx, b, now)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Apply(ctx, p, master.ApplyOptions{})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return p, r
}

func deployedNames(js []master.PlannedJob) []string {
	out := []string{}
	for _, j := range js {
		out = append(out, j.Deployed)
	}
	sort.Strings(out)
	return out
}

func latest(res *compiler.Result) []string {
	out := []string{}
	for _, d := range res.Defs {
		out = append(out, d.Deployed)
	}
	sort.Strings(out)
	return out
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return string(b)
}

func withoutDecl(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "<?xml") {
		if i := strings.Index(s, "?>"); i >= 0 {
			s = s[i+2:]
		}
	}
	return strings.TrimSpace(s)
}

// changeWorker edits a worker's body, so it (and its callers) get new versions.
func changeWorker(t *testing.T, dir, name string) {
	t.Helper()
	p := filepath.Join(dir, "jobs", name, "run.sh")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, append(data, []byte("\n# changed\n")...), 0o755); err != nil {
		t.Fatal(err)
	}
}

// callers returns name's deployed definition and every definition that
// calls it, directly or not.
func callers(res *compiler.Result, name string) []string {
	hit := map[string]bool{name: true}
	for _, d := range res.Defs { // dependency order: callees first
		for _, c := range d.Calls {
			if hit[c] {
				hit[d.Job.Name] = true
			}
		}
	}
	out := []string{}
	for _, d := range res.Defs {
		if hit[d.Job.Name] {
			out = append(out, d.Deployed)
		}
	}
	sort.Strings(out)
	return out
}

func TestDeployExample(t *testing.T) {
	url := startLocal(t, local.Config{})
	dir := example(t)
	res := compile(t, dir)
	b := master.FromResult(res)
	t1 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

	// First deploy: everything is created, callees before callers.
	c := client(t, url, nil)
	p, r := deploy(t, c, b, t1)
	if !p.CreateFolder || !r.FolderCreated {
		t.Errorf("the folder was not created: plan %v, result %v", p.CreateFolder, r.FolderCreated)
	}
	if diff := cmp.Diff(latest(res), deployedNames(p.Create)); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
	if !r.ViewUpdated {
		t.Errorf("the view was not created")
	}
	for _, d := range res.Defs {
		got := httpGet(t, url+"job/modelshop/job/"+d.Deployed+"/config.xml")
		if withoutDecl(got) != withoutDecl(string(d.XML)) {
			t.Errorf("config.xml of %s differs from the compiled XML", d.Deployed)
		}
	}
	f, err := c.ListFolder(context.Background(), "modelshop")
	if err != nil {
		t.Fatal(err)
	}
	v := f.View(compiler.ViewName)
	if v == nil {
		t.Fatalf("no view %s in %+v", compiler.ViewName, f.Views)
	}
	if diff := cmp.Diff(latest(res), v.Jobs); diff != "" {
		t.Errorf("the view's jobs (-want +got):\n%s", diff)
	}
	want := map[string]string{}
	for _, d := range res.Defs {
		want[d.Deployed] = "2026-11-01T10:00:00Z"
	}
	if diff := cmp.Diff(want, master.ParseDeployRecord(v.Description)); diff != "" {
		t.Errorf("deploy record (-want +got):\n%s", diff)
	}

	// Redeploying the same jobs: three requests (connect, list, plugins),
	// no write, nothing to do.
	cnt := newCounter()
	c2 := client(t, url, cnt)
	p, r = deploy(t, c2, b, t1.Add(time.Hour))
	if p.Changes() || r.ViewUpdated || len(p.Unchanged) != len(res.Defs) {
		t.Errorf("an unchanged redeploy planned changes: %+v", p)
	}
	if n := cnt.count(""); n > 3 {
		t.Errorf("an unchanged redeploy made %d requests, want at most 3: %q", n, cnt.reqs)
	}

	// One worker changed: exactly it and its callers are created, and the
	// view moves to them; the record keeps the old versions' times.
	changeWorker(t, dir, "fetch_model")
	res2 := compile(t, dir)
	wantNew := callers(res2, "fetch_model")
	if len(wantNew) < 2 {
		t.Fatalf("fetch_model has no callers? %v", wantNew)
	}
	cnt = newCounter()
	c3 := client(t, url, cnt)
	t2 := t1.Add(24 * time.Hour)
	p, _ = deploy(t, c3, master.FromResult(res2), t2)
	if diff := cmp.Diff(wantNew, deployedNames(p.Create)); diff != "" {
		t.Errorf("created after one worker changed (-want +got):\n%s", diff)
	}
	// Writes: one createItem per new job and one view config.
	if got, want := cnt.count("POST"), len(wantNew)+1; got != want {
		t.Errorf("%d POSTs after one worker changed, want %d: %q", got, want, cnt.reqs)
	}
	t.Logf("one worker changed: %d jobs created, %d requests in total", len(wantNew), cnt.count(""))
	f, _ = c.ListFolder(context.Background(), "modelshop")
	v = f.View(compiler.ViewName)
	if diff := cmp.Diff(latest(res2), v.Jobs); diff != "" {
		t.Errorf("the view after the change (-want +got):\n%s", diff)
	}
	rec := master.ParseDeployRecord(v.Description)
	for _, d := range res.Defs {
		if rec[d.Deployed] != "2026-11-01T10:00:00Z" {
			t.Errorf("record of %s: %q, want the first deploy's time", d.Deployed, rec[d.Deployed])
		}
	}
	for _, n := range wantNew {
		if rec[n] != "2026-11-02T10:00:00Z" {
			t.Errorf("record of %s: %q, want the second deploy's time", n, rec[n])
		}
	}
}

func TestDeletedByHandIsRecreated(t *testing.T) {
	url := startLocal(t, local.Config{})
	res := compile(t, example(t))
	b := master.FromResult(res)
	c := client(t, url, nil)
	deploy(t, c, b, time.Now())
	gone := res.Defs[0].Deployed
	if err := c.DeleteJob(context.Background(), "modelshop/"+gone); err != nil {
		t.Fatal(err)
	}
	p, r := deploy(t, c, b, time.Now())
	if diff := cmp.Diff([]string{gone}, deployedNames(p.Create)); diff != "" {
		t.Errorf("recreated (-want +got):\n%s", diff)
	}
	// Deleting a job takes it out of its views (as in Jenkins): the view
	// lists it again.
	if !r.ViewUpdated {
		t.Errorf("the view was not repaired")
	}
	f, _ := c.ListFolder(context.Background(), "modelshop")
	if diff := cmp.Diff(latest(res), f.View(compiler.ViewName).Jobs); diff != "" {
		t.Errorf("the view (-want +got):\n%s", diff)
	}
	httpGet(t, url+"job/modelshop/job/"+gone+"/config.xml")
}

func TestUnmetPlugins(t *testing.T) {
	var plugins []local.Plugin
	for _, p := range local.DefaultPlugins() {
		switch p.ShortName {
		case "pipeline-utility-steps":
			p.Version = "1.5" // too old
		case "copyartifact":
			continue // not installed
		}
		plugins = append(plugins, p)
	}
	url := startLocal(t, local.Config{Plugins: plugins})
	res := compile(t, example(t))
	cnt := newCounter()
	c := client(t, url, cnt)
	p, err := c.PlanDeploy(context.Background(), master.FromResult(res), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, u := range p.Unmet {
		got[u.Plugin+" "+u.Constraint] = u.Installed
		if !strings.Contains(u.String(), u.Constraint) {
			t.Errorf("%q does not name the constraint", u)
		}
	}
	if diff := cmp.Diff(map[string]string{
		"copyartifact >= 0": "", "copyartifact >= 1.46": "",
		"pipeline-utility-steps >= 2.0": "1.5", "pipeline-utility-steps >= 2.9.0": "1.5",
	}, got); diff != "" {
		t.Errorf("unmet plugins (-want +got):\n%s", diff)
	}
	if _, err := c.Apply(context.Background(), p, master.ApplyOptions{}); err == nil {
		t.Errorf("apply with unmet plugins succeeded")
	}
	if n := cnt.count("POST"); n != 0 {
		t.Errorf("%d POSTs with unmet plugins, want none", n)
	}
}

func TestDrift(t *testing.T) {
	const user, token = "ci", "tok-5ecret-0123456789abcdef"
	url := startLocal(t, local.Config{User: user, Token: token})
	dir := example(t)
	res := compile(t, dir)
	ctx := context.Background()
	c, err := master.New(ctx, master.Config{URL: url, User: user, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	deploy(t, c, master.FromResult(res), time.Now())

	// Someone replaced a deployed job with one of the same name and
	// other content.
	victim := res.Defs[0]
	if err := c.DeleteJob(ctx, "modelshop/"+victim.Deployed); err != nil {
		t.Fatal(err)
	}
	other := strings.Replace(string(victim.XML), `hash&quot;:&quot;`+victim.Hash, `hash&quot;:&quot;000000000000`, 1)
	req, _ := http.NewRequest("POST", url+"job/modelshop/createItem?name="+victim.Deployed, strings.NewReader(other))
	req.Header.Set("Content-Type", "application/xml")
	req.SetBasicAuth(user, token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("creating the impostor: %v %v", err, resp)
	}
	resp.Body.Close()

	changeWorker(t, dir, "fetch_model")
	res2 := compile(t, dir)
	cnt := newCounter()
	c2, err := master.New(ctx, master.Config{URL: url, User: user, Token: token, Transport: cnt})
	if err != nil {
		t.Fatal(err)
	}
	p, err := c2.PlanDeploy(ctx, master.FromResult(res2), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Drift) != 1 || p.Drift[0].Deployed != victim.Deployed || !strings.Contains(p.Drift[0].Reason, "hash") {
		t.Errorf("drift: %+v, want %s", p.Drift, victim.Deployed)
	}
	r, err := c2.Apply(ctx, p, master.ApplyOptions{})
	if err == nil {
		t.Errorf("a deploy with drift succeeded")
	}
	if r == nil || len(r.Jobs) != 1 || r.Jobs[0].Verb != master.Drifted {
		t.Errorf("result: %+v", r)
	}
	if n := cnt.count("POST"); n != 0 {
		t.Errorf("%d POSTs with drift, want none", n)
	}
	// The impostor is untouched.
	f, _ := c2.ListFolder(ctx, "modelshop")
	if mk, _ := jobs.ParseMarker(f.Job(victim.Deployed).Description); mk.Hash != "000000000000" {
		t.Errorf("the drifted job was overwritten: %+v", mk)
	}
	if diff := cmp.Diff(latest(res)[1:], f.View(compiler.ViewName).Jobs); diff != "" {
		t.Errorf("the view changed despite drift (-want +got):\n%s", diff)
	}
}

// TestTokenNeverShown forces errors of every kind with a token set and
// checks none of them shows it.
func TestTokenNeverShown(t *testing.T) {
	const user, token = "ci", "tok-5ecret-9876543210fedcba"
	url := startLocal(t, local.Config{User: user, Token: token})
	ctx := context.Background()
	var errs []error
	// Nothing listens there.
	_, err := master.New(ctx, master.Config{URL: "http://127.0.0.1:1/", User: user, Token: token, Retries: -1})
	errs = append(errs, err)
	// The token in the URL too.
	_, err = master.New(ctx, master.Config{URL: "http://" + user + ":" + token + "@127.0.0.1:1/", User: user, Token: token, Retries: -1})
	errs = append(errs, err)
	// A wrong user: 401.
	_, err = master.New(ctx, master.Config{URL: url, User: "nobody", Token: token})
	errs = append(errs, err)
	c, err := master.New(ctx, master.Config{URL: url, User: user, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	// A bad name (400) and a missing folder (404).
	errs = append(errs, c.CreateJob(ctx, "nofolder/x-v1-000000000000", "p", "x", []byte("<project/>")))
	errs = append(errs, c.CreateJob(ctx, "bad#name", "p", "x", []byte("<project/>")))
	for i, err := range errs {
		if err == nil {
			t.Errorf("error %d: none", i)
			continue
		}
		if strings.Contains(err.Error(), token) {
			t.Errorf("error %d shows the token: %v", i, err)
		}
	}
	if !strings.HasPrefix(errs[3].Error(), "creating nofolder/x-v1-000000000000: HTTP 404") {
		t.Errorf("error does not name the verb and job: %v", errs[3])
	}
}

// TestRedeployThousandJobs deploys 1,000 generated jobs, redeploys them
// unchanged (at most 3 requests), then with one worker changed (exactly it
// and its callers are created).
func TestRedeployThousandJobs(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 jobs")
	}
	url := startLocal(t, local.Config{})
	dir := filepath.Join(t.TempDir(), "bench")
	if err := benchrepo.Write(dir, 1000); err != nil {
		t.Fatal(err)
	}
	res := compile(t, dir)
	deploy(t, client(t, url, nil), master.FromResult(res), time.Now())

	cnt := newCounter()
	p, _ := deploy(t, client(t, url, cnt), master.FromResult(res), time.Now())
	if p.Changes() || len(p.Unchanged) != 1000 {
		t.Errorf("an unchanged redeploy plans changes: %d to create, %d unchanged", len(p.Create), len(p.Unchanged))
	}
	if n := cnt.count(""); n > 3 {
		t.Errorf("redeploying 1,000 unchanged jobs made %d requests, want at most 3: %q", n, cnt.reqs)
	}
	t.Logf("unchanged redeploy of 1,000 jobs: %d requests %q", cnt.count(""), cnt.reqs)

	changeWorker(t, dir, "worker_00007")
	res2 := compile(t, dir)
	want := callers(res2, "worker_00007")
	cnt = newCounter()
	p, _ = deploy(t, client(t, url, cnt), master.FromResult(res2), time.Now())
	if diff := cmp.Diff(want, deployedNames(p.Create)); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
	if got := cnt.count("POST"); got != len(want)+1 { // the creates and the view
		t.Errorf("%d POSTs for %d creates, want %d", got, len(want), len(want)+1)
	}
	t.Logf("one worker of 1,000 jobs changed: %d jobs created (the worker and %d callers), %d requests in total, %d POSTs", len(want), len(want)-1, cnt.count(""), cnt.count("POST"))
}
