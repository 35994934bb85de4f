package test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	neturl "net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// appendTo appends text to a file of dir.
func appendTo(t *testing.T, dir, file, text string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, filepath.FromSlash(file)), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

// folderJobs lists the job names of a folder on the master.
func folderJobs(t *testing.T, c *client, folder string) []string {
	t.Helper()
	var f struct {
		Jobs []struct{ Name string } `json:"jobs"`
	}
	c.getJSON("job/"+folder+"/api/json?tree=jobs[name]", &f)
	var out []string
	for _, j := range f.Jobs {
		out = append(out, j.Name)
	}
	sort.Strings(out)
	return out
}

// minus returns the names of a that are not in b.
func minus(a, b []string) []string {
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}

// TestPruneCommand deploys the example twice (a worker changed in
// between, so it and its callers have old versions), and another project
// twice, and adds a job made by hand to the example's folder. A dry run
// deletes nothing and sends no write; with the default window nothing is
// pruned; with a short one the old versions go, the latest stay, and
// neither the job made by hand nor the other project is touched. --project
// prunes without a repository.
func TestPruneCommand(t *testing.T) {
	m := startMasterProc(t, filepath.Join(t.TempDir(), "home"))
	proxy, url := newCountingProxy(t, m.url)
	dir, other := t.TempDir(), t.TempDir()
	copyExample(t, dir, false)
	copyExample(t, other, false)
	edit(t, other, "jobctl.yaml", "project: modelshop", "project: othershop")

	deployTwice := func(dir string) (old, cur []string) {
		t.Helper()
		if r := runJobctl(t, dir, "deploy", "--url", url); r.code != 0 {
			t.Fatalf("deploy: exit %d\n%s", r.code, r.stderr)
		}
		first := lockedNames(t, dir)
		appendTo(t, dir, "jobs/inspect_model/run.sh", "\n# changed\n")
		if r := runJobctl(t, dir, "deploy", "--url", url); r.code != 0 {
			t.Fatalf("deploy: exit %d\n%s", r.code, r.stderr)
		}
		cur = lockedNames(t, dir)
		return minus(first, cur), cur
	}
	old, cur := deployTwice(dir)
	if len(old) < 2 {
		t.Fatalf("the second deploy replaced %v: want the worker and its callers", old)
	}
	deployTwice(other)
	c := newClient(t, m.url)
	const hand = "fetch_model-v1-0123456789ab"
	c.post("job/modelshop/createItem?name="+hand, "application/xml", "<project><description>made by hand</description></project>", 200)
	otherBefore := folderJobs(t, c, "othershop")

	// The default window (jobctl.yaml's, 7d): everything is kept.
	before := proxy.counts()
	r := runJobctl(t, dir, "prune", "--dry-run", "--url", url)
	if r.code != 0 {
		t.Fatalf("prune --dry-run: exit %d\n%s", r.code, r.stderr)
	}
	n := len(old) + len(cur)
	if want := "0 to prune, " + strconv.Itoa(n) + " kept (dry run)\n"; !strings.HasSuffix(r.stdout, want) {
		t.Errorf("prune --dry-run: want the counts %q:\n%s", want, r.stdout)
	}
	for _, o := range old {
		if l := lineOf(r.stdout, o); !strings.HasPrefix(l, "kept ") || !strings.Contains(l, " never ran, deployed ") {
			t.Errorf("%s is not kept as recently deployed: %q", o, l)
		}
	}
	after := proxy.counts()
	if after["POST"]+after["DELETE"] != before["POST"]+before["DELETE"] {
		t.Errorf("prune --dry-run sent write requests: %v, before %v", after, before)
	}
	if got := after["GET"] - before["GET"]; got != 2 {
		t.Errorf("prune --dry-run made %d GETs, want 2 (connecting, the listing)", got)
	}

	// A window of a second: the old versions would go.
	time.Sleep(1100 * time.Millisecond)
	before = proxy.counts()
	r = runJobctl(t, dir, "prune", "--dry-run", "--older-than", "1s", "--json", "--url", url)
	if r.code != 0 {
		t.Fatalf("prune --dry-run --json: exit %d\n%s", r.code, r.stderr)
	}
	var out struct {
		DryRun    bool   `json:"dry_run"`
		OlderThan string `json:"older_than"`
		Jobs      []struct {
			Verb, Deployed, Reason string
		}
		Counts struct {
			ToPrune int `json:"to_prune"`
			Kept    int
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("--json: %v\n%s", err, r.stdout)
	}
	var would []string
	for _, j := range out.Jobs {
		if j.Verb == "would prune" {
			would = append(would, j.Deployed)
		} else if j.Verb != "kept" || j.Reason != "latest" {
			t.Errorf("%s: %s %s, want kept latest", j.Deployed, j.Verb, j.Reason)
		}
	}
	sort.Strings(would)
	if diff := cmp.Diff(old, would); diff != "" {
		t.Errorf("would prune (-want +got):\n%s", diff)
	}
	if !out.DryRun || out.OlderThan != "1s" || out.Counts.ToPrune != len(old) || out.Counts.Kept != len(cur) {
		t.Errorf("--json header: dry_run %v, older_than %q, counts %+v", out.DryRun, out.OlderThan, out.Counts)
	}
	after = proxy.counts()
	if after["POST"]+after["DELETE"] != before["POST"]+before["DELETE"] {
		t.Errorf("prune --dry-run --json sent write requests: %v, before %v", after, before)
	}
	if got := minus(old, folderJobs(t, c, "modelshop")); len(got) > 0 {
		t.Errorf("the dry run deleted %v", got)
	}

	// Prune through a proxy that refuses to delete the old
	// process_upload: the prune fails, names what remains (it, and the
	// workers it calls stay too), and a second prune finishes.
	var refused string
	for _, o := range old {
		if strings.HasPrefix(o, "process_upload-") {
			refused = o
		}
	}
	up, _ := neturl.Parse(m.url)
	fwd := httputil.NewSingleHostReverseProxy(up)
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete && strings.Contains(r.URL.Path, refused) {
			http.Error(w, "not allowed", http.StatusForbidden)
			return
		}
		fwd.ServeHTTP(w, r)
	}))
	defer refuse.Close()
	r = runJobctl(t, dir, "prune", "--older-than", "1s", "--url", refuse.URL+"/")
	t.Logf("jobctl prune, one delete refused:\n%s%s", r.stdout, r.stderr)
	if r.code != 1 || !strings.Contains(r.stderr, refused) || !strings.Contains(r.stderr, "run prune again") {
		t.Errorf("a prune with a refused delete: exit %d, want 1 naming %s and saying to run prune again:\n%s", r.code, refused, r.stderr)
	}
	if l := lineOf(r.stdout, refused); !strings.HasPrefix(l, "failed ") {
		t.Errorf("the refused job's line: %q", l)
	}
	var pruned []string
	for _, l := range lines(r.stdout, "pruned ") {
		pruned = append(pruned, strings.Fields(l)[1])
	}
	if len(lines(r.stdout, "remaining ")) == 0 && len(old) > len(pruned)+1 {
		t.Errorf("nothing is reported remaining:\n%s", r.stdout)
	}

	r = runJobctl(t, dir, "prune", "--older-than", "1s", "--url", url)
	if r.code != 0 {
		t.Fatalf("prune: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	t.Logf("jobctl prune --older-than 1s:\n%s", r.stdout)
	for _, l := range lines(r.stdout, "pruned ") {
		f := strings.Fields(l)
		pruned = append(pruned, f[1])
		if !strings.Contains(l, "never ran, deployed ") {
			t.Errorf("no reason: %q", l)
		}
	}
	sort.Strings(pruned)
	if diff := cmp.Diff(old, pruned); diff != "" {
		t.Errorf("pruned by the two runs (-want +got):\n%s", diff)
	}
	if want := " pruned, " + strconv.Itoa(len(cur)) + " kept\n"; !strings.HasSuffix(r.stdout, want) {
		t.Errorf("want the counts %q:\n%s", want, r.stdout)
	}
	if diff := cmp.Diff(sortedCopy(append(append([]string{}, cur...), hand)), folderJobs(t, c, "modelshop")); diff != "" {
		t.Errorf("the project folder after prune (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(otherBefore, folderJobs(t, c, "othershop")); diff != "" {
		t.Errorf("another project's folder changed (-want +got):\n%s", diff)
	}

	// The nightly job's way: no repository, the project by flag, the
	// master from the environment. Nothing left to prune.
	t.Setenv("JENKINS_URL", url)
	r = runJobctl(t, t.TempDir(), "prune", "--project", "modelshop", "--older-than", "1s")
	if r.code != 0 {
		t.Fatalf("prune --project: exit %d\n%s", r.code, r.stderr)
	}
	if want := "0 pruned, " + strconv.Itoa(len(cur)) + " kept\n"; !strings.HasSuffix(r.stdout, want) {
		t.Errorf("prune --project: want the counts %q:\n%s", want, r.stdout)
	}

	// Bad flags are usage errors.
	for _, args := range [][]string{{"--older-than", "soon"}, {"--older-than", "0s"}, {"--project", "a/b"}, {"--concurrency", "0"}} {
		if r := runJobctl(t, dir, append([]string{"prune", "--dry-run"}, args...)...); r.code != 2 || !strings.Contains(r.stderr, args[0]) {
			t.Errorf("prune %v: exit %d, want 2 naming the flag\n%s", args, r.code, r.stderr)
		}
	}
}

// lineOf returns the line of out whose second field is name.
func lineOf(out, name string) string {
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[1] == name {
			return l
		}
	}
	return ""
}

func sortedCopy(s []string) []string {
	out := append([]string{}, s...)
	sort.Strings(out)
	return out
}
