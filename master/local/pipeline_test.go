package local

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeRunner stands for the groovy pipeline runner: its "script" is a
// list of worker jobs to build in parallel through the master's REST API,
// as the runner's build step does; it archives what they archived.
type fakeRunner struct {
	mu     sync.Mutex
	builds []PipelineBuild
}

func (f *fakeRunner) Run(ctx context.Context, b PipelineBuild) string {
	f.mu.Lock()
	f.builds = append(f.builds, b)
	f.mu.Unlock()
	fmt.Fprintf(b.Log, "[Pipeline] Start of Pipeline\n")
	if strings.TrimSpace(b.Script) == "wait" {
		<-ctx.Done()
		fmt.Fprintf(b.Log, "%v\n[Pipeline] End of Pipeline\n", context.Cause(ctx))
		return "ABORTED"
	}
	c := &callbacks{b: b, ctx: ctx}
	var wg sync.WaitGroup
	results := make([]string, 0)
	var mu sync.Mutex
	for _, job := range strings.Fields(b.Script) {
		wg.Add(1)
		go func(job string) {
			defer wg.Done()
			r, err := c.build(job, url.Values{"WHO": {b.Params["WHO"]}})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				fmt.Fprintf(b.Log, "build %s: %v\n", job, err)
				results = append(results, "FAILURE")
				return
			}
			fmt.Fprintf(b.Log, "Build %s completed: %s\n", job, r)
			results = append(results, r)
		}(job)
	}
	wg.Wait()
	os.MkdirAll(b.ArtifactsDir, 0o755)
	os.WriteFile(filepath.Join(b.ArtifactsDir, "summary.txt"), []byte(strings.Join(results, ",")), 0o644)
	fmt.Fprintf(b.Log, "[Pipeline] End of Pipeline\n")
	for _, r := range results {
		if r != "SUCCESS" {
			return "FAILURE"
		}
	}
	return "SUCCESS"
}

// callbacks calls the master back as the runner's steps do: with the
// build's credentials, or a crumb when the master is open.
type callbacks struct {
	b     PipelineBuild
	ctx   context.Context
	once  sync.Once
	c     *http.Client
	crumb string
}

func (c *callbacks) do(method, path string, body io.Reader, ct string) (*http.Response, error) {
	c.once.Do(func() {
		jar, _ := cookiejar.New(nil)
		c.c = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		if c.b.User == "" {
			resp, err := c.c.Get(c.b.MasterURL + "crumbIssuer/api/json")
			if err == nil {
				var v struct{ Crumb string }
				json.NewDecoder(resp.Body).Decode(&v)
				resp.Body.Close()
				c.crumb = v.Crumb
			}
		}
	})
	req, err := http.NewRequestWithContext(c.ctx, method, c.b.MasterURL+path, body)
	if err != nil {
		return nil, err
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if c.b.User != "" {
		req.SetBasicAuth(c.b.User, c.b.Token)
	} else if method == "POST" {
		req.Header.Set("Jenkins-Crumb", c.crumb)
	}
	return c.c.Do(req)
}

func (c *callbacks) getJSON(path string, v any) error {
	resp, err := c.do("GET", path, nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// build triggers a job and waits for its result.
func (c *callbacks) build(job string, params url.Values) (string, error) {
	resp, err := c.do("POST", "job/"+job+"/buildWithParameters", strings.NewReader(params.Encode()), "application/x-www-form-urlencoded")
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		return "", fmt.Errorf("trigger: %s", resp.Status)
	}
	item := strings.TrimPrefix(resp.Header.Get("Location"), c.b.MasterURL)
	var buildURL string
	for buildURL == "" {
		var q struct {
			Cancelled  bool
			Executable *struct{ URL string }
		}
		if err := c.getJSON(item+"api/json", &q); err != nil {
			return "", err
		}
		if q.Cancelled {
			return "", fmt.Errorf("cancelled")
		}
		if q.Executable != nil {
			buildURL = strings.TrimPrefix(q.Executable.URL, c.b.MasterURL)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for {
		var b struct {
			Building bool
			Result   *string
		}
		if err := c.getJSON(buildURL+"api/json", &b); err != nil {
			return "", err
		}
		if !b.Building && b.Result != nil {
			return *b.Result, nil
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPipelineBuilds(t *testing.T) {
	for _, secured := range []bool{false, true} {
		name := "open"
		cfg := Config{Executors: 1}
		if secured {
			name, cfg.User, cfg.Token = "secured", "admin", "tok"
		}
		t.Run(name, func(t *testing.T) {
			runner := &fakeRunner{}
			cfg.Pipeline = runner
			tm := newTestMaster(t, cfg)
			tm.mustCreate(t, "", "F", folderXML)
			for _, w := range []string{"w1", "w2", "w3"} {
				tm.mustCreate(t, "job/F/", w, freestyle{shell: []string{"echo \"$JOB_NAME says hi to $WHO\""}, params: stringParam("WHO", "")}.xml())
			}
			tm.mustCreate(t, "job/F/", "orch", pipelineXML("F/job/w1 F/job/w2 F/job/w3", false, stringParam("WHO", "x")+boolParam("DRY", true)))
			// One executor, three workers started at once by a pipeline
			// that waits for them: pipelines take no executor, so all end.
			b := tm.run(t, "job/F/job/orch/", url.Values{"WHO": {"you"}})
			if b["result"] != "SUCCESS" || b["_class"] != classPipelineBuild {
				t.Fatalf("pipeline: %v %v\n%s", b["_class"], b["result"], tm.get("job/F/job/orch/1/consoleText").body)
			}
			c := tm.get("job/F/job/orch/1/consoleText").body
			for _, want := range []string{"Started by user ", "[Pipeline] Start of Pipeline\n", "Build F/job/w2 completed: SUCCESS\n", "Finished: SUCCESS\n"} {
				if !strings.Contains(c, want) {
					t.Errorf("console lacks %q:\n%s", want, c)
				}
			}
			if w := tm.get("job/F/job/w3/1/consoleText").body; !strings.Contains(w, "F/w3 says hi to you\n") {
				t.Errorf("worker console:\n%s", w)
			}
			want := []any{map[string]any{"displayPath": "summary.txt", "fileName": "summary.txt", "relativePath": "summary.txt"}}
			if diff := cmp.Diff(want, b["artifacts"]); diff != "" {
				t.Errorf("artifacts (-want +got):\n%s", diff)
			}
			pb := runner.builds[0]
			if pb.Job != "F/orch" || pb.Number != 1 || pb.Params["WHO"] != "you" || !pb.Sandbox ||
				pb.Env["BUILD_URL"] != tm.url+"job/F/job/orch/1/" || pb.Env["JOB_NAME"] != "F/orch" || pb.Env["WHO"] != "you" ||
				pb.Env["JENKINS_URL"] != tm.url || pb.MasterURL != tm.url || pb.Workspace != filepath.Join(tm.m.home, "workspace", "F%2Forch") {
				t.Errorf("PipelineBuild %+v", pb)
			}
			if diff := cmp.Diff(map[string]string{"WHO": "you", "DRY": "true"}, pb.Params); diff != "" {
				t.Errorf("Params (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[string]string{"DRY": "boolean"}, pb.ParamTypes); diff != "" {
				t.Errorf("ParamTypes (-want +got):\n%s", diff)
			}
			if secured && (pb.User != "admin" || pb.Token != "tok") {
				t.Errorf("credentials %q %q", pb.User, pb.Token)
			}
		})
	}
}

func TestPipelineAbortAndBlocking(t *testing.T) {
	tm := newTestMaster(t, Config{Pipeline: &fakeRunner{}})
	tm.mustCreate(t, "", "p", pipelineXML("wait", false, stringParam("N", "")))
	tm.waitQueue(t, tm.trigger(t, "job/p/", url.Values{"N": {"1"}}))
	second := tm.trigger(t, "job/p/", url.Values{"N": {"2"}})
	if q := tm.json(fmt.Sprintf("queue/item/%d/api/json", second)); q["_class"] != "hudson.model.Queue$BlockedItem" {
		t.Errorf("a second build of a pipeline with DisableConcurrentBuildsJobProperty: %v", q["_class"])
	}
	tm.post("job/p/1/stop", "", "")
	if b := tm.waitBuild(t, "job/p/", 1); b["result"] != "ABORTED" {
		t.Errorf("result %v", b["result"])
	}
	if c := tm.get("job/p/1/consoleText").body; !strings.HasSuffix(c, "Aborted by anonymous\n[Pipeline] End of Pipeline\nFinished: ABORTED\n") {
		t.Errorf("console:\n%s", c)
	}
	tm.waitQueue(t, second)
	tm.post("job/p/2/stop", "", "")
	tm.waitBuild(t, "job/p/", 2)
}

func TestPipelineWithoutRunner(t *testing.T) {
	tm := newTestMaster(t, Config{})
	tm.mustCreate(t, "", "p", pipelineXML("node { echo 'hi' }", true, ""))
	b := tm.run(t, "job/p/", nil)
	if b["result"] != "FAILURE" {
		t.Errorf("result %v", b["result"])
	}
	if c := tm.get("job/p/1/consoleText").body; !strings.Contains(c, "without a pipeline runner") {
		t.Errorf("console:\n%s", c)
	}
}

func TestParsePlugins(t *testing.T) {
	got, err := ParsePlugins([]byte("- {shortName: workflow-job, version: '2.40'}\n- shortName: git\n  version: 5.2.0\n  longName: Git plugin\n  enabled: false\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Plugin{
		{ShortName: "workflow-job", LongName: "workflow-job", Version: "2.40", Active: true, Enabled: true},
		{ShortName: "git", LongName: "Git plugin", Version: "5.2.0", Active: true, Enabled: false},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := ParsePlugins([]byte(`[{"shortName": "a", "version": "1"}]`)); err != nil {
		t.Errorf("JSON: %v", err)
	}
	for _, bad := range []string{"a: b", "- {shortName: a}", "- {shortName: a, version: 1, colour: red}", "- {shortName: a, version: 1}\n- {shortName: a, version: 2}"} {
		if _, err := ParsePlugins([]byte(bad)); err == nil {
			t.Errorf("ParsePlugins(%q) succeeded", bad)
		}
	}
	tm := newTestMaster(t, Config{Plugins: want})
	p := tm.json("pluginManager/api/json?depth=1")["plugins"].([]any)
	if len(p) != 2 || p[1].(map[string]any)["enabled"] != false {
		t.Errorf("plugins %v", p)
	}
}

func TestDefaultPlugins(t *testing.T) {
	have := map[string]bool{}
	for _, p := range DefaultPlugins() {
		have[p.ShortName] = true
	}
	for _, need := range []string{"workflow-job", "workflow-cps", "workflow-basic-steps", "workflow-durable-task-step", "pipeline-build-step",
		"pipeline-stage-step", "pipeline-utility-steps", "copyartifact", "cloudbees-folder", "credentials", "script-security", "structs", "timestamper"} {
		if !have[need] {
			t.Errorf("DefaultPlugins lacks %s", need)
		}
	}
	for _, p := range DefaultPlugins() {
		for _, d := range p.Dependencies {
			if !have[d.ShortName] {
				t.Errorf("%s depends on %s, which is not listed", p.ShortName, d.ShortName)
			}
		}
	}
}
