package master_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jobctl/jobctl/jobs"
	"github.com/jobctl/jobctl/master"
	"github.com/jobctl/jobctl/master/local"
)

// requestLog records, on the master's side, every request and every
// delete that succeeded, in order.
type requestLog struct {
	mu      sync.Mutex
	reqs    []string // "METHOD path?query"
	deleted []string // job names, in the order their deletes were answered
	next    http.Handler
}

func (l *requestLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: 200}
	l.next.ServeHTTP(rec, r)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
	if (r.Method == http.MethodDelete || strings.HasSuffix(r.URL.Path, "/doDelete")) && rec.status < 400 {
		segs := strings.Split(strings.Trim(strings.TrimSuffix(r.URL.Path, "/doDelete"), "/"), "/")
		l.deleted = append(l.deleted, segs[len(segs)-1])
	}
}

func (l *requestLog) since(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string{}, l.reqs[n:]...)
}

func (l *requestLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.reqs)
}

// pruneSetup starts a local master behind a request log and deploys the
// example rounds times, every worker changed between rounds, the first
// deploy at t0 and each next one an hour later; it adds a job made by
// hand (named like a version) to the project folder and another
// project's folder with a version in it. It returns the master's URL,
// the log and the deployed names of each round.
func pruneSetup(t *testing.T, rounds int, t0 time.Time) (string, *requestLog, [][]string) {
	t.Helper()
	m, err := local.New(local.Config{Home: filepath.Join(t.TempDir(), "home")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		m.Close(ctx)
	})
	rl := &requestLog{next: m.Handler()}
	srv := httptest.NewServer(rl)
	t.Cleanup(srv.Close)
	url := srv.URL + "/"
	c := client(t, url, nil)
	dir := example(t)
	var names [][]string
	for round := range rounds {
		if round > 0 {
			matches, _ := filepath.Glob(filepath.Join(dir, "jobs", "*", "run.sh"))
			for _, p := range matches {
				changeWorker(t, dir, filepath.Base(filepath.Dir(p)))
			}
		}
		res := compile(t, dir)
		deploy(t, c, master.FromResult(res), t0.Add(time.Duration(round)*time.Hour))
		names = append(names, latest(res))
	}
	ctx := context.Background()
	hand := jobs.DeployedName("fetch_model", 1, "0123456789ab")
	if err := c.CreateJob(ctx, "modelshop/"+hand, "modelshop", "fetch_model", []byte("<project><description>made by hand</description></project>")); err != nil {
		t.Fatal(err)
	}
	other := jobs.DeployedName("fetch_model", 1, "ba9876543210")
	mk := jobs.Marker{Project: "other", Name: "fetch_model", Kind: jobs.Worker, Version: 1, Hash: "ba9876543210", Calls: []string{}}
	folderXML := `<com.cloudbees.hudson.plugins.folder.Folder plugin="cloudbees-folder"><description></description></com.cloudbees.hudson.plugins.folder.Folder>`
	if err := c.CreateJob(ctx, "other", "", "", []byte(folderXML)); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateJob(ctx, "other/"+other, "other", "fetch_model", []byte("<project><description>"+xmlEscape(jobs.Describe("", mk))+"</description></project>")); err != nil {
		t.Fatal(err)
	}
	return url, rl, names
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// folderNames lists a folder's job names.
func folderNames(t *testing.T, c *master.Client, folder string) []string {
	t.Helper()
	f, err := c.ListFolder(context.Background(), folder)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, j := range f.Jobs {
		out = append(out, j.Name)
	}
	sort.Strings(out)
	return out
}

// checkCallees checks that every job jobctl owns in the folder calls only
// jobs that exist.
func checkCallees(t *testing.T, c *master.Client, when string) {
	t.Helper()
	f, err := c.ListFolder(context.Background(), "modelshop")
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range f.Jobs {
		mk, _ := jobs.ParseMarker(j.Description)
		for _, callee := range mk.Calls {
			if f.Job(callee) == nil {
				t.Errorf("%s: %s calls %s, which was deleted", when, j.Name, callee)
			}
		}
	}
}

// TestPruneExample deploys the example three times (every worker changed
// each time), then prunes ten days later: the plan takes one listing
// request and writes nothing; the apply deletes exactly the first two
// rounds' versions, callers before callees, and nothing else; a second
// prune has nothing to do.
func TestPruneExample(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	url, rl, names := pruneSetup(t, 3, t0)
	ctx := context.Background()
	c := client(t, url, nil)
	before := folderNames(t, c, "other")

	n := rl.len()
	p, err := c.PlanPrune(ctx, "modelshop", t0.Add(10*24*time.Hour), 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	reqs := rl.since(n)
	if len(reqs) != 1 || !strings.HasPrefix(reqs[0], "GET /job/modelshop/api/json?") {
		t.Errorf("the plan made %d requests, want one listing: %q", len(reqs), reqs)
	}

	wantPrune := oldVersions(names)
	var gotPrune, gotKeep []string
	for _, j := range p.Jobs {
		if j.Prune {
			gotPrune = append(gotPrune, j.Deployed)
			if !strings.HasPrefix(j.Reason, "never ran, deployed ") {
				t.Errorf("%s: pruned because %q", j.Deployed, j.Reason)
			}
		} else {
			gotKeep = append(gotKeep, j.Deployed)
			if j.Reason != "latest" {
				t.Errorf("%s: kept because %q, want latest", j.Deployed, j.Reason)
			}
		}
	}
	sort.Strings(gotPrune)
	sort.Strings(gotKeep)
	if diff := cmp.Diff(wantPrune, gotPrune); diff != "" {
		t.Errorf("pruned (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(names[2], gotKeep); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}

	n = rl.len()
	res, err := c.ApplyPrune(ctx, p, master.PruneOptions{Concurrency: 4})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if got := res.Remaining(); len(got) != 0 {
		t.Errorf("remaining after a clean apply: %v", got)
	}
	writes := 0
	for _, r := range rl.since(n) {
		if !strings.HasPrefix(r, "GET ") {
			writes++
		}
	}
	if writes != len(wantPrune) {
		t.Errorf("%d write requests for %d deletes", writes, len(wantPrune))
	}
	// Callers went before callees.
	rl.mu.Lock()
	pos := map[string]int{}
	for i, d := range rl.deleted {
		pos[d] = i
	}
	rl.mu.Unlock()
	for _, j := range p.Jobs {
		for _, callee := range j.Calls {
			if pc, ok := pos[callee]; ok && j.Prune && pc < pos[j.Deployed] {
				t.Errorf("%s was deleted before %s, which calls it", callee, j.Deployed)
			}
		}
	}

	want := append(append([]string{}, names[2]...), jobs.DeployedName("fetch_model", 1, "0123456789ab"))
	sort.Strings(want)
	if diff := cmp.Diff(want, folderNames(t, c, "modelshop")); diff != "" {
		t.Errorf("the folder after prune (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, folderNames(t, c, "other")); diff != "" {
		t.Errorf("another project's folder changed (-want +got):\n%s", diff)
	}
	checkCallees(t, c, "after prune")

	p2, err := c.PlanPrune(ctx, "modelshop", t0.Add(10*24*time.Hour), 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(p2.Order) != 0 {
		t.Errorf("a second prune plans to delete %v", p2.Order)
	}
}

// breakDeletes fails the deletes of the jobs it names with 500, and drops
// the connection of two in seven of the other requests (before or after they
// reach the master).
type breakDeletes struct {
	mu     sync.Mutex
	broken map[string]bool
	n      int
	next   http.Handler
}

func (b *breakDeletes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	b.n++
	n := b.n
	broken := false
	for name := range b.broken {
		if r.Method == http.MethodDelete && strings.Contains(r.URL.Path, "/"+name) {
			broken = true
		}
	}
	b.mu.Unlock()
	switch {
	case broken:
		http.Error(w, "injected failure", http.StatusInternalServerError)
	case n%7 == 1 && r.Method != http.MethodGet:
		hijackClose(w)
	case n%7 == 4 && r.Method != http.MethodGet:
		b.next.ServeHTTP(httptest.NewRecorder(), r)
		hijackClose(w)
	default:
		b.next.ServeHTTP(w, r)
	}
}

// TestPruneFailsPartway prunes through a proxy that fails every delete of
// two orchestration versions, and drops connections on others: the prune
// exits with an error naming what remains (the two, and the workers only
// they call), deletes nothing a remaining job calls, and a second prune,
// once the master behaves, finishes the work.
func TestPruneFailsPartway(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	url, _, names := pruneSetup(t, 3, t0)
	now := t0.Add(10 * 24 * time.Hour)
	ctx := context.Background()
	direct := client(t, url, nil)

	var broken []string
	for _, n := range oldVersions(names) {
		if strings.HasPrefix(n, "process_upload-") {
			broken = append(broken, n)
		}
	}
	if len(broken) != 2 {
		t.Fatalf("want two old versions of process_upload, got %v", broken)
	}
	bd := &breakDeletes{broken: map[string]bool{broken[0]: true, broken[1]: true}, next: forward(t, url)}
	front := httptest.NewServer(bd)
	t.Cleanup(front.Close)
	c, err := master.New(ctx, master.Config{URL: front.URL + "/", Timeout: 5 * time.Second, Retries: 4, Backoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}

	p, err := c.PlanPrune(ctx, "modelshop", now, 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.ApplyPrune(ctx, p, master.PruneOptions{Concurrency: 4})
	if err == nil {
		t.Fatal("a prune whose deletes fail succeeded")
	}
	t.Logf("the error: %v", err)
	remaining := res.Remaining()
	for _, b := range broken {
		if !contains(remaining, b) || !strings.Contains(err.Error(), b) {
			t.Errorf("%s failed, and is not named as remaining: %v", b, err)
		}
	}
	if !strings.Contains(err.Error(), "run prune again") {
		t.Errorf("the error does not say to run prune again: %v", err)
	}
	left := folderNames(t, direct, "modelshop")
	for _, r := range remaining {
		if !contains(left, r) {
			t.Errorf("%s is reported remaining, and is gone", r)
		}
	}
	for _, j := range p.Jobs {
		if j.Prune && !contains(remaining, j.Deployed) && contains(left, j.Deployed) {
			t.Errorf("%s is reported pruned, and is still there", j.Deployed)
		}
	}
	if len(remaining) <= len(broken) {
		t.Errorf("remaining %v: want the broken jobs and the workers they call", remaining)
	}
	checkCallees(t, direct, "after the failed prune")

	// The master recovers: the second prune finishes.
	bd.mu.Lock()
	bd.broken = nil
	bd.mu.Unlock()
	p2, err := c.PlanPrune(ctx, "modelshop", now, 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(remaining, sorted(p2.Order)); diff != "" {
		t.Errorf("the second plan prunes other than what remained (-want +got):\n%s", diff)
	}
	if _, err := c.ApplyPrune(ctx, p2, master.PruneOptions{Concurrency: 4}); err != nil {
		t.Fatalf("second prune: %v", err)
	}
	want := append(append([]string{}, names[2]...), jobs.DeployedName("fetch_model", 1, "0123456789ab"))
	sort.Strings(want)
	if diff := cmp.Diff(want, folderNames(t, direct, "modelshop")); diff != "" {
		t.Errorf("the folder after the second prune (-want +got):\n%s", diff)
	}
	checkCallees(t, direct, "after the second prune")
}

// oldVersions are the names of every round but the last that the last
// does not deploy again.
func oldVersions(names [][]string) []string {
	last := map[string]bool{}
	for _, n := range names[len(names)-1] {
		last[n] = true
	}
	seen := map[string]bool{}
	var out []string
	for _, round := range names[:len(names)-1] {
		for _, n := range round {
			if !last[n] && !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	sort.Strings(out)
	return out
}

func sorted(s []string) []string {
	out := append([]string{}, s...)
	sort.Strings(out)
	return out
}

// forward is a handler that passes requests to the server at url.
func forward(t *testing.T, url string) http.Handler {
	t.Helper()
	f := newFaulty(url, 0)
	return f.proxy
}
