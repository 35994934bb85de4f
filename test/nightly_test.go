package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// startMasterWithPath is startMasterProc with dir first on the master
// process's PATH, which its builds inherit: the agent a nightly job runs
// on has jobctl installed.
func startMasterWithPath(t *testing.T, home, dir string) *masterProc {
	t.Helper()
	return startMasterEnv(t, home, []string{"PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH")})
}

// stamp matches the time stamp a worker's console lines start with.
var stamp = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ `)

// clearOfMinute returns once the next minute boundary, when timers fire,
// is at least margin away, waiting past one if need be.
func clearOfMinute(margin time.Duration) {
	now := time.Now()
	if next := now.Truncate(time.Minute).Add(time.Minute); next.Sub(now) < margin {
		time.Sleep(next.Sub(now) + 2*time.Second)
	}
}

// withPrune replaces the prune section of dir's jobctl.yaml, if it has
// one, by section.
func withPrune(t *testing.T, dir, section string) {
	t.Helper()
	p := filepath.Join(dir, "jobctl.yaml")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	text := regexp.MustCompile(`(?m)^prune:.*\n(?:[ \t].*\n)*`).ReplaceAllString(string(data), "")
	if err := os.WriteFile(p, []byte(strings.TrimRight(text, "\n")+"\n"+section), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestNightlyPrune runs the job jobctl.yaml's prune section generates on
// the local master, as its timer starts it. The example is deployed, then
// deployed again with the section (every minute, a window of a second) and
// a changed fetch_model, so the old fetch_model and its callers' old
// versions are stale. A run of jobctl-prune with DRY_RUN=true names them
// and deletes nothing; the build the timer starts at the next minute runs
// the jobctl on the agent's PATH, which deletes them and keeps the latest
// versions, jobctl-prune among them.
func TestNightlyPrune(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	copyTree(t, filepath.Join("..", "examples", "modelshop"), dir, "build", "models")
	withPrune(t, dir, "")
	m := startMasterWithPath(t, filepath.Join(t.TempDir(), "home"), filepath.Dir(jobctl))
	c := newClient(t, m.url)

	if r := runJobctl(t, dir, "deploy", "--url", m.url); r.code != 0 {
		t.Fatalf("deploy: exit %d\n%s", r.code, r.stderr)
	}
	first := lockedNames(t, dir)
	edit(t, dir, "jobs/fetch_model/run.sh", "#!/usr/bin/env bash\n", "#!/usr/bin/env bash\n# fetched differently\n")
	withPrune(t, dir, "prune:\n  schedule: \"* * * * *\"\n  older_than: 1s\n")
	// jobctl-prune comes with this deploy: let its timer first fire after it.
	clearOfMinute(20 * time.Second)
	if r := runJobctl(t, dir, "deploy", "--url", m.url); r.code != 0 {
		t.Fatalf("deploy with the prune section: exit %d\n%s", r.code, r.stderr)
	}
	cur := lockedNames(t, dir)
	old := minus(first, cur)
	for _, name := range []string{"fetch_model", "process_upload", "reprocess_batch"} {
		if deployedName(old, name) == "" {
			t.Errorf("the second deploy left no old version of %s: old versions %v", name, old)
		}
	}
	job := deployedName(cur, "jobctl-prune")
	if job == "" {
		t.Fatalf("jobctl-prune is not deployed: %v", cur)
	}
	all := sortedCopy(append(append([]string{}, first...), minus(cur, first)...))
	if diff := cmp.Diff(all, folderJobs(t, c, "modelshop")); diff != "" {
		t.Fatalf("the project folder after the deploys (-want +got):\n%s", diff)
	}
	jobPath := "job/modelshop/job/" + job + "/"
	console := func(number int) string {
		t.Helper()
		code, text := c.get(jobPath + strconv.Itoa(number) + "/consoleText")
		if code != 200 {
			t.Fatalf("%s #%d: consoleText answered %d", job, number, code)
		}
		return text
	}
	checkPruneLines := func(out, verb string) {
		t.Helper()
		var got []string
		for _, l := range strings.Split(out, "\n") {
			l = stamp.ReplaceAllString(l, "") // the worker's time stamps
			if rest, ok := strings.CutPrefix(l, verb+" "); ok {
				if f := strings.Fields(rest); len(f) > 0 {
					got = append(got, f[0])
				}
			}
		}
		if diff := cmp.Diff(old, sortedCopy(got)); diff != "" {
			t.Errorf("%q lines (-want +got):\n%s\nconsole:\n%s", verb, diff, out)
		}
	}

	// A dry run, by hand: the versions older than a second are named, and
	// nothing is deleted.
	time.Sleep(1100 * time.Millisecond)
	r := runJobctl(t, dir, "run", "jobctl-prune", "-p", "DRY_RUN=true", "--wait", "--json", "--url", m.url)
	var dry runReport
	if err := json.Unmarshal([]byte(r.stdout), &dry); err != nil || r.code != 0 || dry.Result != "SUCCESS" {
		t.Fatalf("run jobctl-prune -p DRY_RUN=true: exit %d, %v\n%s\n%s", r.code, err, r.stdout, r.stderr)
	}
	out := console(dry.Number)
	if !strings.Contains(out, "+ jobctl prune --project modelshop --older-than 1s --dry-run\n") {
		t.Errorf("the dry run's console does not show the command:\n%s", out)
	}
	checkPruneLines(out, "would prune")
	if diff := cmp.Diff(all, folderJobs(t, c, "modelshop")); diff != "" {
		t.Errorf("the dry run changed the project folder (-want +got):\n%s", diff)
	}

	// The timer starts the next build at the next minute.
	var timed int
	for deadline := time.Now().Add(90 * time.Second); timed == 0; time.Sleep(time.Second) {
		if time.Now().After(deadline) {
			t.Fatalf("the timer started no build of %s in 90s; builds: %v", job, builds(c, job))
		}
		for _, n := range builds(c, job) {
			if n != dry.Number {
				timed = n
				break
			}
		}
	}
	b := waitBuild(c, job, timed, true)
	if diff := cmp.Diff([]string{"Started by timer"}, b.causes()); diff != "" {
		t.Errorf("%s #%d: causes (-want +got):\n%s", job, timed, diff)
	}
	out = console(timed)
	if b.Result != "SUCCESS" {
		t.Fatalf("%s #%d, started by the timer, ended %s:\n%s", job, timed, b.Result, out)
	}
	if !strings.Contains(out, "+ jobctl prune --project modelshop --older-than 1s\n") {
		t.Errorf("the console does not show the command:\n%s", out)
	}
	checkPruneLines(out, "pruned")
	if diff := cmp.Diff(cur, folderJobs(t, c, "modelshop")); diff != "" {
		t.Errorf("the project folder after the nightly prune (-want +got):\n%s", diff)
	}
}
