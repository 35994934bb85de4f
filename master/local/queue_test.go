package local

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAuthAndCrumbs(t *testing.T) {
	open := newTestMaster(t, Config{})
	secured := newTestMaster(t, Config{User: "admin", Token: "s3cret"})
	cfg := freestyle{}.xml()

	// Open: anonymous reads; POSTs need the crumb of their session.
	if r := open.get("api/json"); r.status != 200 {
		t.Errorf("open GET: %s", r)
	}
	if r := open.do("POST", "createItem?name=x", cfg, "Content-Type: application/xml"); r.status != 403 || !strings.Contains(r.body, "No valid crumb was included in the request") {
		t.Errorf("open POST without a crumb: %s", r)
	}
	if r := open.do("POST", "createItem?name=x", cfg, "Content-Type: application/xml", "Jenkins-Crumb: forged"); r.status != 403 {
		t.Errorf("open POST with a forged crumb: %s", r)
	}
	crumb := open.getCrumb()
	if r := open.do("POST", "createItem?name=x", cfg, "Content-Type: application/xml", "Jenkins-Crumb: "+crumb); r.status != 200 {
		t.Errorf("open POST with the crumb: %s", r)
	}
	if r := open.do("POST", "createItem?name=y&Jenkins-Crumb="+crumb, cfg, "Content-Type: application/xml"); r.status != 200 {
		t.Errorf("open POST with the crumb as a parameter: %s", r)
	}
	if r := open.do("POST", "job/x/build", "Jenkins-Crumb="+url.QueryEscape(crumb), "Content-Type: application/x-www-form-urlencoded"); r.status != 201 {
		t.Errorf("open POST with the crumb in the form: %s", r)
	}
	// The crumb is bound to the session: another session cannot use it.
	if r := open.do("POST", "createItem?name=z", cfg, "Content-Type: application/xml", "Jenkins-Crumb: "+crumb, "Cookie: "+open.m.cookie+"=someoneelse"); r.status != 403 {
		t.Errorf("a crumb used from another session: %s", r)
	}

	// Secured: anonymous is refused, bad credentials are 401, the token
	// works and needs no crumb.
	a := secured.as("", "")
	for _, p := range []string{"", "api/json", "job/x/api/json", "crumbIssuer/api/json"} {
		r := a.get(p)
		if r.status != 403 || r.header.Get("X-Jenkins") == "" {
			t.Errorf("secured anonymous GET /%s: %s", p, r)
		}
	}
	if r := a.get("whoAmI/api/json"); r.status != 200 || !strings.Contains(r.body, `"anonymous":true`) {
		t.Errorf("secured anonymous whoAmI: %s", r)
	}
	for _, auth := range []string{"admin:wrong", "root:s3cret", "admin:"} {
		u, p, _ := strings.Cut(auth, ":")
		r := secured.as(u, p).get("api/json")
		if r.status != 401 || r.header.Get("WWW-Authenticate") != `Basic realm="Jenkins"` {
			t.Errorf("secured GET as %s: %s %v", auth, r, r.header.Get("WWW-Authenticate"))
		}
	}
	if r := secured.do("POST", "createItem?name=x", cfg, "Content-Type: application/xml"); r.status != 200 {
		t.Errorf("secured POST with the token, no crumb: %s", r)
	}
	if r := secured.get("me/api/json"); r.status != 200 || !strings.Contains(r.body, `"id":"admin"`) {
		t.Errorf("me: %s", r)
	}
	if r := secured.get("whoAmI/api/json"); !strings.Contains(r.body, `"name":"admin"`) || !strings.Contains(r.body, `"anonymous":false`) {
		t.Errorf("whoAmI: %s", r)
	}
	b := secured.run(t, "job/x/", nil)
	causes := b["actions"].([]any)[0].(map[string]any)["causes"]
	want := []any{map[string]any{"_class": causeUser, "shortDescription": "Started by user admin", "userId": "admin", "userName": "admin"}}
	if diff := cmp.Diff(want, causes); diff != "" {
		t.Errorf("causes (-want +got):\n%s", diff)
	}
	if j := secured.json("api/json"); j["useSecurity"] != true {
		t.Errorf("useSecurity %v", j["useSecurity"])
	}
}

func TestBuildRequests(t *testing.T) {
	tm := newTestMaster(t, Config{QuietPeriod: time.Hour})
	tm.mustCreate(t, "", "plain", freestyle{shell: []string{"true"}}.xml())
	tm.mustCreate(t, "", "params", freestyle{shell: []string{"true"}, params: stringParam("S", "d") + choiceParam("C", "x", "y")}.xml())
	for _, tc := range []struct {
		name, path, ct, body string
		status               int
	}{
		{"build", "job/plain/build", "", "", 201},
		{"build again: already queued", "job/plain/build", "", "", 303},
		{"build with a longer delay", "job/plain/build?delay=7200sec", "", "", 303},
		{"params on an unparameterized job", "job/plain/buildWithParameters?X=1", "", "", 400},
		{"json params on an unparameterized job", "job/plain/build", "application/x-www-form-urlencoded", "json=" + url.QueryEscape(`{"parameter":[{"name":"X","value":"1"}]}`), 400},
		{"buildWithParameters in the query", "job/params/buildWithParameters?S=1", "", "", 201},
		{"the same params: already queued", "job/params/buildWithParameters?S=1&IGNORED=2", "", "", 303},
		{"params in a form", "job/params/buildWithParameters", "application/x-www-form-urlencoded", "S=2&C=y", 201},
		{"a bad choice", "job/params/buildWithParameters?C=z", "", "", 400},
		{"defaults through /build", "job/params/build", "", "", 201},
		{"json through /build", "job/params/build", "application/x-www-form-urlencoded", "json=" + url.QueryEscape(`{"parameter":{"name":"S","value":"j"}}`), 201},
		{"a bad delay", "job/params/buildWithParameters?S=9&delay=soon", "", "", 400},
		{"a missing job", "job/nope/build", "", "", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tm.post(tc.path, tc.ct, tc.body)
			if r.status != tc.status {
				t.Fatalf("%s, want %d", r, tc.status)
			}
			if tc.status == 201 || tc.status == 303 {
				if loc := r.header.Get("Location"); !strings.HasPrefix(loc, tm.url+"queue/item/") || !strings.HasSuffix(loc, "/") || r.body != "" {
					t.Errorf("Location %q, body %q", loc, r.body)
				}
			}
		})
	}
	q := tm.json("queue/api/json?tree=items[id,params,why,task[name]]")
	var got []string
	for _, it := range q["items"].([]any) {
		m := it.(map[string]any)
		got = append(got, fmt.Sprintf("%v %s %q", m["id"], m["task"].(map[string]any)["name"], m["params"]))
	}
	want := []string{`1 plain ""`, `2 params "\nS=1\nC=x"`, `3 params "\nS=2\nC=y"`, `4 params "\nS=d\nC=x"`, `5 params "\nS=j\nC=x"`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("queue (-want +got):\n%s", diff)
	}
}

func TestQueueLifecycle(t *testing.T) {
	tm := newTestMaster(t, Config{Executors: 1})
	tm.mustCreate(t, "", "slow", freestyle{shell: []string{"while [ ! -e go ]; do sleep 0.01; done"}, params: stringParam("N", "")}.xml())
	tm.mustCreate(t, "", "other", freestyle{shell: []string{"true"}, concurrent: true}.xml())
	ws := filepath.Join(tm.m.home, "workspace", "slow")

	first := tm.trigger(t, "job/slow/", url.Values{"N": {"1"}})
	tm.waitQueue(t, first)
	second := tm.trigger(t, "job/slow/", url.Values{"N": {"2"}})
	blocked := tm.json(fmt.Sprintf("queue/item/%d/api/json", second))
	if blocked["_class"] != "hudson.model.Queue$BlockedItem" || blocked["blocked"] != true || blocked["why"] != "Build #1 is already in progress (ETA: N/A)" {
		t.Errorf("blocked item: %v", blocked)
	}
	if j := tm.json("job/slow/api/json"); j["inQueue"] != true || j["queueItem"].(map[string]any)["id"] != float64(second) {
		t.Errorf("job while queued: inQueue %v queueItem %v", j["inQueue"], j["queueItem"])
	}
	// The one executor is busy: another job's build waits for it.
	third := tm.trigger(t, "job/other/", nil)
	buildable := tm.json(fmt.Sprintf("queue/item/%d/api/json", third))
	if buildable["_class"] != "hudson.model.Queue$BuildableItem" || buildable["buildable"] != true || buildable["why"] != "Waiting for next available executor" {
		t.Errorf("buildable item: %v", buildable)
	}
	// A delayed build waits out its quiet period.
	waiting := tm.post("job/other/build?delay=3600sec", "", "")
	if waiting.status != 303 {
		t.Errorf("a second build of a queued job: %s", waiting)
	}
	tm.mustCreate(t, "", "later", freestyle{shell: []string{"true"}}.xml())
	r := tm.post("job/later/build?delay=3600sec", "", "")
	later := idFrom(t, r.header.Get("Location"))
	w := tm.json(fmt.Sprintf("queue/item/%d/api/json", later))
	if w["_class"] != "hudson.model.Queue$WaitingItem" || !strings.HasPrefix(w["why"].(string), "In the quiet period. Expires in ") {
		t.Errorf("waiting item: %v", w)
	}
	// Cancel it: 204, then 422 (it has left), and it reads as cancelled.
	if r := tm.post(fmt.Sprintf("queue/cancelItem?id=%d", later), "", ""); r.status != 204 {
		t.Errorf("cancel: %s", r)
	}
	if r := tm.post(fmt.Sprintf("queue/cancelItem?id=%d", later), "", ""); r.status != 422 {
		t.Errorf("cancel again: %s", r)
	}
	c := tm.json(fmt.Sprintf("queue/item/%d/api/json", later))
	if c["_class"] != "hudson.model.Queue$LeftItem" || c["cancelled"] != true || c["executable"] != nil {
		t.Errorf("cancelled item: %v", c)
	}
	os.WriteFile(filepath.Join(ws, "go"), nil, 0o644)
	if n := tm.waitQueue(t, second); n != 2 {
		t.Errorf("the blocked item became build #%d", n)
	}
	tm.waitQueue(t, third)
	tm.waitBuild(t, "job/slow/", 2)
	left := tm.json(fmt.Sprintf("queue/item/%d/api/json", second))
	if left["cancelled"] != false || left["executable"].(map[string]any)["url"] != tm.url+"job/slow/2/" {
		t.Errorf("left item: %v", left)
	}
	// Left items are forgotten after five minutes.
	tm.m.mu.Lock()
	tm.m.items[second].leftAt = time.Now().Add(-6 * time.Minute)
	tm.m.mu.Unlock()
	if r := tm.get(fmt.Sprintf("queue/item/%d/api/json", second)); r.status != 404 {
		t.Errorf("an old left item: %s", r)
	}
}

func idFrom(t *testing.T, loc string) int64 {
	t.Helper()
	var id int64
	if _, err := fmt.Sscanf(strings.TrimSuffix(loc[strings.Index(loc, "queue/item/"):], "/"), "queue/item/%d", &id); err != nil {
		t.Fatalf("Location %q: %v", loc, err)
	}
	return id
}

func TestConcurrentBuildsAndExecutors(t *testing.T) {
	tm := newTestMaster(t, Config{Executors: 2})
	script := "#!/bin/bash\necho start $(date +%s%N) >> ../log-$JOB_NAME\nsleep 0.3\necho end $(date +%s%N) >> ../log-$JOB_NAME"
	tm.mustCreate(t, "", "serial", freestyle{shell: []string{script}, params: stringParam("N", "")}.xml())
	tm.mustCreate(t, "", "parallel", freestyle{shell: []string{script}, params: stringParam("N", ""), concurrent: true}.xml())
	var ids []int64
	for i := 0; i < 2; i++ {
		ids = append(ids, tm.trigger(t, "job/serial/", url.Values{"N": {fmt.Sprint(i)}}))
	}
	for _, id := range ids {
		tm.waitBuild(t, "job/serial/", tm.waitQueue(t, id))
	}
	ids = nil
	for i := 0; i < 2; i++ {
		ids = append(ids, tm.trigger(t, "job/parallel/", url.Values{"N": {fmt.Sprint(i)}}))
	}
	for _, id := range ids {
		tm.waitBuild(t, "job/parallel/", tm.waitQueue(t, id))
	}
	overlaps := func(job string) bool {
		data, _ := os.ReadFile(filepath.Join(tm.m.home, "workspace", "log-"+job))
		lines := strings.Fields(string(data))
		// start a, end a, start b, end b when serial.
		return len(lines) == 8 && lines[2] == "start"
	}
	if overlaps("serial") {
		t.Errorf("the builds of a job without concurrentBuild overlapped")
	}
	if !overlaps("parallel") {
		t.Errorf("the builds of a concurrent job did not overlap")
	}
}

func TestLogRotator(t *testing.T) {
	tm := newTestMaster(t, Config{})
	tm.mustCreate(t, "", "r", freestyle{shell: []string{`[ "$FAIL" = no ]`}, params: stringParam("FAIL", "no"),
		rotator: "<daysToKeep>-1</daysToKeep><numToKeep>2</numToKeep><artifactDaysToKeep>-1</artifactDaysToKeep><artifactNumToKeep>-1</artifactNumToKeep>"}.xml())
	tm.run(t, "job/r/", url.Values{"FAIL": {"no"}}) // 1: the last successful build, kept
	for i := 0; i < 4; i++ {
		tm.run(t, "job/r/", url.Values{"FAIL": {fmt.Sprintf("yes%d", i)}}) // 2-5
	}
	var got []float64
	for _, b := range tm.json("job/r/api/json?tree=builds[number]")["builds"].([]any) {
		got = append(got, b.(map[string]any)["number"].(float64))
	}
	if diff := cmp.Diff([]float64{5, 4, 1}, got); diff != "" {
		t.Errorf("builds kept (-want +got):\n%s", diff)
	}
	for _, n := range []int{2, 3} {
		if _, err := os.Stat(filepath.Join(tm.m.home, "jobs", "r", "builds", fmt.Sprint(n))); !os.IsNotExist(err) {
			t.Errorf("build %d's directory is still there", n)
		}
	}
	if j := tm.json("job/r/api/json"); j["nextBuildNumber"] != 6.0 {
		t.Errorf("nextBuildNumber %v", j["nextBuildNumber"])
	}
}

func TestTimerTrigger(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 3, 2, 10, 0, 30, 0, time.Local)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	set := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	tm := newTestMaster(t, Config{Now: clock})
	tm.mustCreate(t, "", "every5", freestyle{shell: []string{"true"}, timer: "H/5 * * * *", params: stringParam("P", "dflt")}.xml())
	tm.mustCreate(t, "", "never", freestyle{shell: []string{"true"}, timer: "0 0 30 2 *"}.xml())
	tm.m.mu.Lock()
	next := tm.m.timers[tm.m.root.child("every5")].next
	tm.m.mu.Unlock()
	if next.Before(now) || next.Sub(now) > 5*time.Minute {
		t.Fatalf("next fire time %v", next)
	}
	// Nothing fires before the time; at it, one build with the defaults and
	// a TimerTriggerCause.
	tm.m.fireTimers(next.Add(-time.Second))
	if j := tm.json("job/every5/api/json"); j["inQueue"] != false || j["lastBuild"] != nil {
		t.Fatalf("fired early: %v", j)
	}
	set(next.Add(5 * time.Second))
	deadline := time.Now().Add(10 * time.Second)
	for tm.json("job/every5/api/json")["lastBuild"] == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	b := tm.waitBuild(t, "job/every5/", 1)
	actions := b["actions"].([]any)
	want := []any{
		map[string]any{"_class": "hudson.model.ParametersAction", "parameters": []any{map[string]any{"_class": "hudson.model.StringParameterValue", "name": "P", "value": "dflt"}}},
		map[string]any{"_class": "hudson.model.CauseAction", "causes": []any{map[string]any{"_class": causeTimer, "shortDescription": "Started by timer"}}},
	}
	if diff := cmp.Diff(want, actions); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	if c := tm.get("job/every5/1/consoleText").body; !strings.HasPrefix(c, "Started by timer\n") {
		t.Errorf("console: %s", c)
	}
	// A missed fire time (the master was asleep) is skipped, not made up.
	tm.m.mu.Lock()
	next = tm.m.timers[tm.m.root.child("every5")].next
	tm.m.mu.Unlock()
	set(next.Add(3 * time.Minute))
	tm.m.fireTimers(next.Add(3 * time.Minute))
	time.Sleep(1500 * time.Millisecond)
	if j := tm.json("job/every5/api/json"); j["nextBuildNumber"] != 2.0 || j["inQueue"] != false {
		t.Errorf("a missed fire time was made up: nextBuildNumber %v inQueue %v", j["nextBuildNumber"], j["inQueue"])
	}
	if j := tm.json("job/never/api/json"); j["lastBuild"] != nil {
		t.Errorf("a spec that never fires fired")
	}
}

func TestRestartRecovery(t *testing.T) {
	home := t.TempDir()
	tm := newTestMaster(t, Config{Home: home, Executors: 1})
	tm.mustCreate(t, "", "F", folderXML)
	tm.mustCreate(t, "job/F/", "c", freestyle{shell: []string{"echo done"}}.xml())
	tm.mustCreate(t, "", "hang", freestyle{shell: []string{"#!/bin/bash\necho hanging\nsleep 60"}, params: stringParam("N", "")}.xml())
	view, _ := os.ReadFile("testdata/view.xml")
	tm.post("createView?name=latest", "application/xml", string(view))
	tm.post("view/latest/addJobToView?name=hang", "", "")
	tm.run(t, "job/F/job/c/", nil)
	tm.waitQueue(t, tm.trigger(t, "job/hang/", url.Values{"N": {"1"}}))
	waitConsole(t, tm, "job/hang/1/", "hanging\n")
	queued := tm.trigger(t, "job/hang/", url.Values{"N": {"2"}})

	// A crash: what is on disk now is all the next master gets.
	crashed := filepath.Join(t.TempDir(), "home")
	tm.m.mu.Lock()
	err := copyTree(home, crashed)
	tm.m.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}

	again := newTestMaster(t, Config{Home: crashed, Executors: 1})
	b := again.json("job/hang/1/api/json")
	if b["result"] != "ABORTED" || b["building"] != false {
		t.Errorf("the build running at the crash: result %v building %v", b["result"], b["building"])
	}
	c := again.get("job/hang/1/consoleText").body
	if !strings.Contains(c, "hanging\n") || !strings.Contains(c, "The master stopped while this build was running") || !strings.HasSuffix(c, "Finished: ABORTED\n") {
		t.Errorf("console:\n%s", c)
	}
	// Items that left the queue recently read as left, from the builds.
	if q := again.json("queue/item/1/api/json"); q["_class"] != "hudson.model.Queue$LeftItem" || q["executable"].(map[string]any)["url"] != again.url+"job/F/job/c/1/" {
		t.Errorf("a left item after the restart: %v", q)
	}
	// The queued build survived and runs as #2 now that #1 is over.
	if n := again.waitQueue(t, queued); n != 2 {
		t.Errorf("the queued item became #%d", n)
	}
	if j := again.json("job/F/job/c/api/json?tree=lastBuild[number,result],nextBuildNumber"); j["nextBuildNumber"] != 2.0 || j["lastBuild"].(map[string]any)["result"] != "SUCCESS" {
		t.Errorf("folder job after restart: %v", j)
	}
	if v := again.json("view/latest/api/json?tree=jobs[name]"); len(v["jobs"].([]any)) != 1 {
		t.Errorf("view after restart: %v", v)
	}
	again.post("job/hang/2/stop", "", "")
	again.waitBuild(t, "job/hang/", 2)
	// Queue ids and build numbers go on from where they were.
	id := again.trigger(t, "job/F/job/c/", nil)
	if id <= queued {
		t.Errorf("a new queue id %d after %d", id, queued)
	}
	if n := again.waitQueue(t, id); n != 2 {
		t.Errorf("the next build of F/c is #%d", n)
	}
}

// copyTree copies a directory as a crash would leave it.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o600)
	})
}

func TestRecoveryFromHandWrittenState(t *testing.T) {
	home := t.TempDir()
	job := filepath.Join(home, "jobs", "j")
	os.MkdirAll(filepath.Join(job, "builds", "4"), 0o700)
	os.MkdirAll(filepath.Join(job, "builds", "5"), 0o700) // created, never recorded
	os.MkdirAll(filepath.Join(home, "jobs", "noconfig"), 0o700)
	os.WriteFile(filepath.Join(job, "config.xml"), []byte(freestyle{shell: []string{"true"}}.xml()), 0o600)
	os.WriteFile(filepath.Join(job, "nextBuildNumber"), []byte("3\n"), 0o600)
	os.WriteFile(filepath.Join(job, "builds", "4", "build.json"), []byte(`{"number":4,"queueId":7,"timestamp":1700000000000,"building":true,"causes":[]}`), 0o600)
	os.WriteFile(filepath.Join(job, "builds", "4", "log"), []byte("Started by user anonymous\nhalf"), 0o600)
	os.WriteFile(filepath.Join(home, "queue.json"), []byte(`{"nextId":9,"items":[{"id":8,"job":"j","causes":[{"_class":"hudson.model.Cause$UserIdCause","shortDescription":"Started by user anonymous","userName":"anonymous"}],"inQueueSince":1700000000000,"due":1700000000000},{"id":6,"job":"gone","causes":[],"inQueueSince":1,"due":1}]}`), 0o600)
	tm := newTestMaster(t, Config{Home: home})
	if r := tm.get("job/noconfig/api/json"); r.status != 404 {
		t.Errorf("a directory without a config is listed: %s", r)
	}
	b := tm.json("job/j/4/api/json")
	if b["result"] != "ABORTED" {
		t.Errorf("build 4: %v", b["result"])
	}
	if c := tm.get("job/j/4/consoleText").body; !strings.HasPrefix(c, "Started by user anonymous\nhalf\nThe master stopped while this build was running") {
		t.Errorf("console:\n%s", c)
	}
	if n := tm.waitQueue(t, 8); n != 6 {
		t.Errorf("the recovered queue item became #%d, want #6 (after the unrecorded #5)", n)
	}
	if id := tm.trigger(t, "job/j/", nil); id != 9 {
		t.Errorf("the next queue id is %d", id)
	}
}

func TestCloseAbortsBuilds(t *testing.T) {
	home := t.TempDir()
	tm := startMaster(t, Config{Home: home})
	tm.mustCreate(t, "", "hang", freestyle{shell: []string{"#!/bin/bash\necho hanging\nsleep 60"}}.xml())
	tm.waitQueue(t, tm.trigger(t, "job/hang/", nil))
	waitConsole(t, tm, "job/hang/1/", "hanging\n")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := tm.m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(home, "jobs", "hang", "builds", "1", "log"))
	if !strings.Contains(string(data), "Aborted: the master is shutting down\n") || !strings.HasSuffix(string(data), "Finished: ABORTED\n") {
		t.Errorf("console:\n%s", data)
	}
	again := newTestMaster(t, Config{Home: home})
	if b := again.json("job/hang/1/api/json"); b["result"] != "ABORTED" {
		t.Errorf("result after restart %v", b["result"])
	}
}

// TestConcurrentClients has 50 clients create, configure, trigger, read
// and delete jobs at once, then checks the master is consistent.
func TestConcurrentClients(t *testing.T) {
	tm := newTestMaster(t, Config{Executors: 4})
	tm.mustCreate(t, "", "shared", freestyle{shell: []string{"true"}, concurrent: true, params: stringParam("N", "")}.xml())
	var wg sync.WaitGroup
	errs := make(chan string, 1000)
	for g := 0; g < 50; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			name := fmt.Sprintf("j%02d", g)
			cfg := freestyle{shell: []string{"echo $N"}, params: stringParam("N", "")}.xml()
			check := func(what string, r resp, want int) {
				if r.status != want {
					errs <- fmt.Sprintf("%s %s: %s", name, what, r)
				}
			}
			check("create", tm.post("createItem?name="+name, "application/xml", cfg), 200)
			check("configure", tm.post("job/"+name+"/config.xml", "application/xml", cfg), 200)
			for i := 0; i < 3; i++ {
				check("build", tm.post("job/"+name+"/buildWithParameters?N="+fmt.Sprint(i), "", ""), 201)
				check("shared build", tm.post(fmt.Sprintf("job/shared/buildWithParameters?N=%d-%d", g, i), "", ""), 201)
				check("list", tm.get("api/json?tree="+listTree), 200)
				check("job", tm.get("job/"+name+"/api/json?depth=1"), 200)
			}
			if g%2 == 0 {
				check("delete", tm.post("job/"+name+"/doDelete", "", ""), 302)
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	// Every remaining job's builds end; numbers are distinct and dense.
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if len(tm.json("queue/api/json")["items"].([]any)) == 0 && busyCount(tm.m) == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	var names []string
	for _, j := range tm.json("api/json?tree=jobs[name]")["jobs"].([]any) {
		names = append(names, j.(map[string]any)["name"].(string))
	}
	if len(names) != 26 {
		t.Errorf("%d jobs remain: %v", len(names), names)
	}
	shared := tm.json("job/shared/api/json?tree=builds[number,result],nextBuildNumber")
	if len(shared["builds"].([]any)) != 100 || shared["nextBuildNumber"] != 151.0 {
		t.Errorf("shared: %d builds listed, nextBuildNumber %v", len(shared["builds"].([]any)), shared["nextBuildNumber"])
	}
	seen := map[float64]bool{}
	for _, b := range tm.json("job/shared/api/json?tree=allBuilds[number,result]")["allBuilds"].([]any) {
		m := b.(map[string]any)
		if seen[m["number"].(float64)] || m["result"] != "SUCCESS" {
			t.Errorf("shared build %v: result %v, seen before %v", m["number"], m["result"], seen[m["number"].(float64)])
		}
		seen[m["number"].(float64)] = true
	}
	if len(seen) != 150 {
		t.Errorf("%d shared builds", len(seen))
	}
	ents, _ := os.ReadDir(filepath.Join(tm.m.home, "jobs"))
	if len(ents) != 26 {
		t.Errorf("%d job directories", len(ents))
	}
	tm.m.mu.RLock()
	defer tm.m.mu.RUnlock()
	for _, it := range tm.m.root.sorted {
		if n := len(it.builds); it.name != "shared" && n != 3 {
			t.Errorf("%s has %d builds", it.name, n)
		}
	}
}

func busyCount(m *Master) int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.running)
}

func TestLogRotatorDaysToKeep(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	tm := newTestMaster(t, Config{Now: clock})
	tm.mustCreate(t, "", "d", freestyle{shell: []string{`[ "$OK" = yes ]`}, params: stringParam("OK", "yes"),
		rotator: "<daysToKeep>3</daysToKeep><numToKeep>-1</numToKeep>"}.xml())
	tm.run(t, "job/d/", url.Values{"OK": {"no"}})  // 1
	tm.run(t, "job/d/", url.Values{"OK": {"yes"}}) // 2: the last successful build
	tm.run(t, "job/d/", url.Values{"OK": {"no"}})  // 3
	mu.Lock()
	now = now.Add(4 * 24 * time.Hour)
	mu.Unlock()
	tm.run(t, "job/d/", url.Values{"OK": {"no"}}) // 4
	var got []float64
	for _, b := range tm.json("job/d/api/json?tree=builds[number]")["builds"].([]any) {
		got = append(got, b.(map[string]any)["number"].(float64))
	}
	if diff := cmp.Diff([]float64{4, 2}, got); diff != "" {
		t.Errorf("builds kept (-want +got):\n%s", diff)
	}
}

func TestDeleteAbortsBuildsAndCancelsItems(t *testing.T) {
	tm := newTestMaster(t, Config{Executors: 1})
	tm.mustCreate(t, "", "hang", freestyle{shell: []string{"#!/bin/bash\necho hanging\nsleep 60"}, params: stringParam("N", "")}.xml())
	tm.waitQueue(t, tm.trigger(t, "job/hang/", url.Values{"N": {"1"}}))
	waitConsole(t, tm, "job/hang/1/", "hanging\n")
	queued := tm.trigger(t, "job/hang/", url.Values{"N": {"2"}})
	start := time.Now()
	if r := tm.do("DELETE", "job/hang/", ""); r.status != 204 {
		t.Fatalf("DELETE: %s", r)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("deleting took %v", d)
	}
	if q := tm.json(fmt.Sprintf("queue/item/%d/api/json", queued)); q["cancelled"] != true {
		t.Errorf("the queued item: %v", q)
	}
	if busyCount(tm.m) != 0 {
		t.Errorf("a build still runs")
	}
	// The name is free again, and numbering starts over for the new job.
	tm.mustCreate(t, "", "hang", freestyle{shell: []string{"true"}}.xml())
	if b := tm.run(t, "job/hang/", nil); b["number"] != 1.0 || b["result"] != "SUCCESS" {
		t.Errorf("the new job's first build: %v %v", b["number"], b["result"])
	}
}
