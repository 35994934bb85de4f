//go:build unix

package pipeline

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeJenkins is a small Jenkins for the steps that talk to the master:
// the crumb issuer, jobs in folders, build/buildWithParameters, the queue,
// builds and their artifacts, stopping. It checks what Jenkins checks:
// with a user and token, every request needs them (Basic) and is exempt
// from crumbs; without, a POST needs the crumb of its session cookie.
// Requests it does not know are recorded and fail the test.
type fakeJenkins struct {
	t    *testing.T
	srv  *httptest.Server
	user string
	// token is user's API token; empty: the master is not secured.
	token string

	mu         sync.Mutex
	jobs       map[string]*fakeJob // by full name
	queue      map[int]*fakeItem
	lastQueue  int
	sessions   map[string]string // session cookie -> crumb
	crumbAsked int
	triggers   []trigger
	stops      []string // "<job> #<n>" or "queue <id>"
	posted     map[string][]byte
}

// fakeJob is a job of the fake and what its builds do.
type fakeJob struct {
	// parameterized says whether the job declares params.
	parameterized bool
	// run says how build n, given params, ends; nil: SUCCESS at once.
	run func(n int, params map[string]string) fakeOutcome
	// cancel makes the queue cancel every item of the job.
	cancel bool
	builds []*fakeBuild
}

// fakeOutcome is how a build of the fake ends.
type fakeOutcome struct {
	Result    string
	Artifacts map[string]string // relative path -> content
	// Takes is how long the build runs.
	Takes time.Duration
}

type fakeBuild struct {
	number  int
	params  map[string]string
	out     fakeOutcome
	ends    time.Time
	stopped bool
}

func (b *fakeBuild) building(now time.Time) bool { return !b.stopped && now.Before(b.ends) }

func (b *fakeBuild) result(now time.Time) any {
	switch {
	case b.stopped:
		return "ABORTED"
	case b.building(now):
		return nil
	}
	return b.out.Result
}

type fakeItem struct {
	id     int
	job    string
	params map[string]string
	polls  int
	build  *fakeBuild // nil while waiting
}

// trigger is a POST that queued a build.
type trigger struct {
	Job    string
	Verb   string // build or buildWithParameters
	Params map[string]string
}

// newFake starts a fake with jobs (full name -> job); user and token
// secure it.
func newFake(t *testing.T, user, token string, jobs map[string]*fakeJob) *fakeJenkins {
	f := &fakeJenkins{t: t, user: user, token: token, jobs: jobs, queue: map[int]*fakeItem{},
		sessions: map[string]string{}, posted: map[string][]byte{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the master's URL, with its trailing slash.
func (f *fakeJenkins) URL() string { return f.srv.URL + "/" }

// ok is a build that succeeds with a report.json of data.
func ok(data any) func(int, map[string]string) fakeOutcome {
	return func(int, map[string]string) fakeOutcome {
		return fakeOutcome{Result: "SUCCESS", Artifacts: map[string]string{"report.json": report("SUCCESS", "", data)}}
	}
}

// report is a worker's report.json.
func report(status, reason string, data any) string {
	b, err := json.Marshal(map[string]any{"process": "worker", "status": status, "reason": reason, "data": data,
		"log": "", "duration_ms": 1, "attempts": 1})
	if err != nil {
		panic(err)
	}
	return string(b)
}

func (f *fakeJenkins) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/posted/") {
		// Not Jenkins: a caller's endpoint that builds post reports to.
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.posted[strings.TrimPrefix(r.URL.Path, "/posted/")] = body
		f.mu.Unlock()
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("X-Jenkins", "2.578")
	if f.token != "" {
		u, p, ok := r.BasicAuth()
		if !ok || u != f.user || p != f.token {
			w.Header().Set("WWW-Authenticate", `Basic realm="Jenkins"`)
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	path := strings.Trim(r.URL.Path, "/")
	if path == "crumbIssuer/api/json" && r.Method == http.MethodGet {
		f.crumbAsked++
		sid, crumb := random(), random()
		f.sessions[sid] = crumb
		http.SetCookie(w, &http.Cookie{Name: "JSESSIONID.fake", Value: sid, Path: "/", HttpOnly: true})
		writeJSON(w, map[string]any{"_class": "hudson.security.csrf.DefaultCrumbIssuer", "crumb": crumb,
			"crumbRequestField": "Jenkins-Crumb"})
		return
	}
	if r.Method == http.MethodPost && f.token == "" {
		c, err := r.Cookie("JSESSIONID.fake")
		if err != nil || f.sessions[c.Value] == "" || r.Header.Get("Jenkins-Crumb") != f.sessions[c.Value] {
			http.Error(w, "No valid crumb was included in the request", http.StatusForbidden)
			return
		}
	}
	parts := strings.Split(path, "/")
	switch {
	case len(parts) == 5 && parts[0] == "queue" && parts[1] == "item" && parts[3] == "api" && r.Method == http.MethodGet:
		f.queueItem(w, parts[2])
		return
	case path == "queue/cancelItem" && r.Method == http.MethodPost:
		f.stops = append(f.stops, "queue "+r.URL.Query().Get("id"))
		w.WriteHeader(http.StatusNoContent)
		return
	case len(parts) >= 2 && parts[0] == "job":
		if f.job(w, r, parts) {
			return
		}
	}
	f.t.Errorf("fake Jenkins: unexpected %s %s", r.Method, r.URL)
	http.NotFound(w, r)
}

// job serves /job/a/job/b/...; false means the request is unknown.
func (f *fakeJenkins) job(w http.ResponseWriter, r *http.Request, parts []string) bool {
	var names []string
	for len(parts) >= 2 && parts[0] == "job" {
		names = append(names, parts[1])
		parts = parts[2:]
	}
	full := strings.Join(names, "/")
	j := f.jobs[full]
	if j == nil {
		http.NotFound(w, r)
		return true
	}
	now := time.Now()
	switch {
	case len(parts) == 2 && parts[0] == "api" && r.Method == http.MethodGet:
		props := []any{}
		if j.parameterized {
			props = append(props, map[string]any{"_class": "hudson.model.ParametersDefinitionProperty",
				"parameterDefinitions": []any{map[string]any{"name": "P"}}})
		}
		writeJSON(w, map[string]any{"_class": "org.jenkinsci.plugins.workflow.job.WorkflowJob",
			"name": names[len(names)-1], "fullName": full, "url": f.URL() + jobPath(full), "property": props})
		return true
	case len(parts) == 1 && (parts[0] == "build" || parts[0] == "buildWithParameters") && r.Method == http.MethodPost:
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return true
		}
		if parts[0] == "buildWithParameters" && !j.parameterized {
			http.Error(w, "This job is not parameterized", http.StatusBadRequest)
			return true
		}
		params := map[string]string{}
		for k, v := range r.PostForm {
			params[k] = v[0]
		}
		f.triggers = append(f.triggers, trigger{Job: full, Verb: parts[0], Params: params})
		f.lastQueue++
		f.queue[f.lastQueue] = &fakeItem{id: f.lastQueue, job: full, params: params}
		w.Header().Set("Location", fmt.Sprintf("%squeue/item/%d/", f.URL(), f.lastQueue))
		w.WriteHeader(http.StatusCreated)
		return true
	case len(parts) >= 2:
		b := f.build(j, parts[0], now)
		if b == nil {
			http.NotFound(w, r)
			return true
		}
		switch {
		case len(parts) == 3 && parts[1] == "api" && r.Method == http.MethodGet:
			f.buildJSON(w, full, b, now)
			return true
		case parts[1] == "artifact" && r.Method == http.MethodGet:
			content, ok := b.out.Artifacts[strings.Join(parts[2:], "/")]
			if !ok || b.building(now) {
				http.NotFound(w, r)
				return true
			}
			_, _ = io.WriteString(w, content)
			return true
		case len(parts) == 2 && parts[1] == "stop" && r.Method == http.MethodPost:
			b.stopped = true
			f.stops = append(f.stops, fmt.Sprintf("%s #%d", full, b.number))
			w.WriteHeader(http.StatusOK)
			return true
		}
	}
	return false
}

// build finds a build by number or permalink.
func (f *fakeJenkins) build(j *fakeJob, id string, now time.Time) *fakeBuild {
	if n, err := strconv.Atoi(id); err == nil {
		if n >= 1 && n <= len(j.builds) {
			return j.builds[n-1]
		}
		return nil
	}
	for _, b := range slices.Backward(j.builds) {
		switch res := b.result(now); id {
		case "lastCompletedBuild":
			if res != nil {
				return b
			}
		case "lastSuccessfulBuild":
			if res == "SUCCESS" || res == "UNSTABLE" {
				return b
			}
		}
	}
	return nil
}

func (f *fakeJenkins) buildJSON(w http.ResponseWriter, full string, b *fakeBuild, now time.Time) {
	var artifacts []any
	for _, p := range slices.Sorted(maps.Keys(b.out.Artifacts)) {
		artifacts = append(artifacts, map[string]any{"fileName": p[strings.LastIndex(p, "/")+1:], "relativePath": p,
			"displayPath": p})
	}
	var params []any
	for _, k := range slices.Sorted(maps.Keys(b.params)) {
		params = append(params, map[string]any{"name": k, "value": b.params[k]})
	}
	writeJSON(w, map[string]any{
		"_class": "hudson.model.FreeStyleBuild", "number": b.number, "id": strconv.Itoa(b.number),
		"url":      fmt.Sprintf("%s%s%d/", f.URL(), jobPath(full), b.number),
		"building": b.building(now), "result": b.result(now), "duration": 5, "timestamp": 1700000000000,
		"displayName":     fmt.Sprintf("#%d", b.number),
		"fullDisplayName": fmt.Sprintf("%s #%d", strings.ReplaceAll(full, "/", " » "), b.number),
		"description":     nil, "artifacts": artifacts,
		"actions": []any{map[string]any{"_class": "hudson.model.ParametersAction", "parameters": params}},
	})
}

// queueItem serves a queue item: waiting on its first poll, then started.
func (f *fakeJenkins) queueItem(w http.ResponseWriter, id string) {
	n, _ := strconv.Atoi(id)
	it := f.queue[n]
	if it == nil {
		http.Error(w, "no such item", http.StatusNotFound)
		return
	}
	j := f.jobs[it.job]
	it.polls++
	out := map[string]any{"_class": "hudson.model.Queue$WaitingItem", "id": it.id, "url": fmt.Sprintf("queue/item/%d/", it.id),
		"task": map[string]any{"name": it.job, "url": f.URL() + jobPath(it.job)}, "why": "Waiting", "blocked": false,
		"buildable": false, "inQueueSince": 1700000000000, "params": ""}
	switch {
	case j.cancel && it.polls > 1:
		out["_class"] = "hudson.model.Queue$LeftItem"
		out["cancelled"] = true
		out["executable"] = nil
	case it.build == nil && it.polls > 1:
		number := len(j.builds) + 1
		o := fakeOutcome{Result: "SUCCESS"}
		if j.run != nil {
			o = j.run(number, it.params)
		}
		it.build = &fakeBuild{number: number, params: it.params, out: o, ends: time.Now().Add(o.Takes)}
		j.builds = append(j.builds, it.build)
	}
	if it.build != nil {
		out["_class"] = "hudson.model.Queue$LeftItem"
		out["cancelled"] = false
		out["executable"] = map[string]any{"_class": "hudson.model.FreeStyleBuild", "number": it.build.number,
			"url": fmt.Sprintf("%s%s%d/", f.URL(), jobPath(it.job), it.build.number)}
	}
	writeJSON(w, out)
}

// crumbs returns how many times the crumb issuer was asked.
func (f *fakeJenkins) crumbs() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.crumbAsked
}

// record returns what the fake saw: the triggers and the stops.
func (f *fakeJenkins) record() ([]trigger, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.triggers), slices.Clone(f.stops)
}

func jobPath(full string) string {
	var b strings.Builder
	for _, n := range strings.Split(full, "/") {
		b.WriteString("job/" + n + "/")
	}
	return b.String()
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func random() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
