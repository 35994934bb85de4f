package test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// countingProxy forwards to a master and counts the requests by method;
// with stallCreatesAfter > 0, every createItem after that many hangs until
// the test ends.
type countingProxy struct {
	mu                sync.Mutex
	methods           map[string]int
	creates           int
	stallCreatesAfter int
	stalled           chan struct{} // closed when the first create stalls
	release           chan struct{}
	proxy             *httputil.ReverseProxy
}

func newCountingProxy(t *testing.T, upstream string) (*countingProxy, string) {
	t.Helper()
	u, _ := url.Parse(upstream)
	p := &countingProxy{methods: map[string]int{}, stalled: make(chan struct{}), release: make(chan struct{}), proxy: httputil.NewSingleHostReverseProxy(u)}
	srv := httptest.NewServer(p)
	t.Cleanup(func() { close(p.release); srv.Close() })
	return p, srv.URL + "/"
}

func (p *countingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.methods[r.Method]++
	stall := false
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/createItem") {
		p.creates++
		if p.stallCreatesAfter > 0 && p.creates > p.stallCreatesAfter {
			stall = true
			if p.creates == p.stallCreatesAfter+1 {
				close(p.stalled)
			}
		}
	}
	p.mu.Unlock()
	if stall {
		<-p.release
		return
	}
	p.proxy.ServeHTTP(w, r)
}

func (p *countingProxy) counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for k, v := range p.methods {
		out[k] = v
	}
	return out
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// lines returns the stdout lines that start with prefix, sorted.
func lines(out, prefix string) []string {
	var got []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			got = append(got, l)
		}
	}
	sort.Strings(got)
	return got
}

// viewJobs reads the names the project's view lists.
func viewJobs(t *testing.T, base string) []string {
	t.Helper()
	var v struct {
		Jobs []struct{ Name string } `json:"jobs"`
	}
	resp, err := http.Get(base + "job/modelshop/view/latest/api/json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil
	}
	json.NewDecoder(resp.Body).Decode(&v)
	var out []string
	for _, j := range v.Jobs {
		out = append(out, j.Name)
	}
	sort.Strings(out)
	return out
}

// deployedNames reads the deployed names of a build from its lock.
func lockedNames(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "jobctl.lock"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(l)
		out = append(out, f[0]+"-"+f[1]+"-"+f[2])
	}
	sort.Strings(out)
	return out
}

func TestDeployCommand(t *testing.T) {
	m := startMasterProc(t, filepath.Join(t.TempDir(), "home"))
	dir := t.TempDir()
	copyExample(t, dir, false)
	proxy, url := newCountingProxy(t, m.url)

	// A dry run plans everything and writes nothing.
	r := runJobctl(t, dir, "deploy", "--dry-run", "--url", url)
	if r.code != 0 {
		t.Fatalf("deploy --dry-run: exit %d\n%s", r.code, r.stderr)
	}
	want := lockedNames(t, dir)
	var wantCreate []string
	for _, n := range want {
		wantCreate = append(wantCreate, "create "+n)
	}
	var gotCreate []string
	for _, l := range lines(r.stdout, "create ") {
		if !strings.HasPrefix(l, "create folder ") && !strings.HasPrefix(l, "create view ") {
			gotCreate = append(gotCreate, l)
		}
	}
	if !strings.Contains(r.stdout, "create folder modelshop\n") || !strings.Contains(r.stdout, "create view modelshop/latest\n") {
		t.Errorf("dry run does not plan the folder and view:\n%s", r.stdout)
	}
	if diff := cmp.Diff(wantCreate, gotCreate); diff != "" {
		t.Errorf("dry run (-want +got):\n%s", diff)
	}
	if c := proxy.counts(); c["POST"]+c["DELETE"] != 0 {
		t.Errorf("--dry-run made write requests: %v", c)
	}

	// The deploy creates every job and the view.
	r = runJobctl(t, dir, "deploy", "--url", url)
	if r.code != 0 {
		t.Fatalf("deploy: exit %d\n%s", r.code, r.stderr)
	}
	var created []string
	for _, l := range lines(r.stdout, "created ") {
		if l != "created folder modelshop" {
			created = append(created, strings.TrimPrefix(l, "created "))
		}
	}
	if diff := cmp.Diff(want, created); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
	if !strings.Contains(r.stdout, "view updated modelshop/latest") {
		t.Errorf("no view line:\n%s", r.stdout)
	}
	if diff := cmp.Diff(want, viewJobs(t, m.url)); diff != "" {
		t.Errorf("the view (-want +got):\n%s", diff)
	}

	// Again: nothing to do, in at most 3 requests, as JSON.
	before := proxy.counts()
	r = runJobctl(t, dir, "deploy", "--json", "--url", url)
	if r.code != 0 {
		t.Fatalf("deploy --json: exit %d\n%s", r.code, r.stderr)
	}
	if n := total(proxy.counts()) - total(before); n > 3 {
		t.Errorf("an unchanged redeploy made %d requests, want at most 3", n)
	}
	var out struct {
		Result struct {
			Jobs []struct{ Deployed, Verb string }
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("--json: %v\n%s", err, r.stdout)
	}
	if len(out.Result.Jobs) != len(want) {
		t.Errorf("--json lists %d jobs, want %d", len(out.Result.Jobs), len(want))
	}
	for _, j := range out.Result.Jobs {
		if j.Verb != "unchanged" {
			t.Errorf("%s: %s, want unchanged", j.Deployed, j.Verb)
		}
	}
}

func TestDeployUnmetPlugins(t *testing.T) {
	plugins := filepath.Join(t.TempDir(), "plugins.yaml")
	os.WriteFile(plugins, []byte("- {shortName: workflow-job, version: 1540.v295eccc9778f}\n- {shortName: pipeline-utility-steps, version: \"1.5\"}\n"), 0o644)
	m := startMasterProc(t, filepath.Join(t.TempDir(), "home"), "--plugins", plugins)
	dir := t.TempDir()
	copyExample(t, dir, false)
	r := runJobctl(t, dir, "deploy", "--url", m.url)
	if r.code != 1 {
		t.Fatalf("deploy with unmet plugins: exit %d, want 1\n%s", r.code, r.stderr)
	}
	for _, s := range []string{"plugin copyartifact >= 1.46: not installed", "plugin pipeline-utility-steps >= 2.9.0: installed 1.5", "nothing deployed"} {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
		}
	}
	if resp, err := http.Get(m.url + "job/modelshop/api/json"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("the folder was created despite unmet plugins")
		}
	}
}

// TestDeployKilled kills jobctl deploy with SIGKILL while it creates jobs
// (a proxy holds every create after the third), then deploys again: it
// converges, and the view never pointed at half a deploy.
func TestDeployKilled(t *testing.T) {
	m := startMasterProc(t, filepath.Join(t.TempDir(), "home"))
	dir := t.TempDir()
	copyExample(t, dir, false)
	proxy, url := newCountingProxy(t, m.url)
	proxy.stallCreatesAfter = 4 // the folder and three jobs

	cmd := exec.Command(jobctl, "deploy", "--url", url, "--concurrency", "1")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-proxy.stalled:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("deploy never reached its fourth create")
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if got := viewJobs(t, m.url); got != nil {
		t.Errorf("the view exists after a killed first deploy: %v", got)
	}

	r := runJobctl(t, dir, "deploy", "--url", m.url)
	if r.code != 0 {
		t.Fatalf("deploy after the kill: exit %d\n%s", r.code, r.stderr)
	}
	want := lockedNames(t, dir)
	if diff := cmp.Diff(want, viewJobs(t, m.url)); diff != "" {
		t.Errorf("the view (-want +got):\n%s", diff)
	}
	if n := len(lines(r.stdout, "unchanged ")); n != 3 {
		t.Errorf("%d jobs unchanged after the kill, want the 3 created before it:\n%s", n, r.stdout)
	}
}

// TestDeployDrift: a job that holds a deployed name but not its content
// (edited by hand on the master) is reported as drift, left as it is, and
// the deploy fails without touching the view.
func TestDeployDrift(t *testing.T) {
	m := startMasterProc(t, filepath.Join(t.TempDir(), "home"))
	dir := t.TempDir()
	copyExample(t, dir, false)
	if r := runJobctl(t, dir, "deploy", "--url", m.url); r.code != 0 {
		t.Fatalf("deploy: exit %d\n%s", r.code, r.stderr)
	}
	viewBefore := viewJobs(t, m.url)
	// A change to a worker makes a new version of it and its callers.
	edit(t, dir, "jobs/price_model/run.sh", "#!/usr/bin/env bash\n", "#!/usr/bin/env bash\n# priced differently\n")
	r := runJobctl(t, dir, "deploy", "--dry-run", "--url", m.url)
	var next string
	for _, l := range lines(r.stdout, "create ") {
		if strings.HasPrefix(l, "create price_model-") {
			next = strings.TrimPrefix(l, "create ")
		}
	}
	if next == "" {
		t.Fatalf("no new price_model version planned:\n%s", r.stdout)
	}
	// Someone creates that name by hand, with other content.
	c := newClient(t, m.url)
	tampered := fmt.Sprintf(sleepyJob, "hand-made", "0")
	c.post("job/modelshop/createItem?name="+next, "application/xml", tampered, 200)

	r = runJobctl(t, dir, "deploy", "--url", m.url)
	if r.code != 1 {
		t.Fatalf("deploy over drift: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout+r.stderr, "drift "+next) {
		t.Errorf("the drift is not reported:\n%s%s", r.stdout, r.stderr)
	}
	if _, cfg := c.get("job/modelshop/job/" + next + "/config.xml"); !strings.Contains(cfg, "hand-made") {
		t.Errorf("the drifted job was overwritten:\n%s", cfg)
	}
	if diff := cmp.Diff(viewBefore, viewJobs(t, m.url)); diff != "" {
		t.Errorf("the view changed despite the drift (-before +after):\n%s", diff)
	}
}
