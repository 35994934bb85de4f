package test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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
)

// masterProc is a `jobctl master` process.
type masterProc struct {
	cmd *exec.Cmd
	url string
}

// startMasterProc runs `jobctl master` on a free port with home, and waits
// for the URL it prints.
func startMasterProc(t *testing.T, home string, args ...string) *masterProc {
	t.Helper()
	return startMasterEnv(t, home, nil, args...)
}

// startMasterEnv is startMasterProc with env added to the master's
// environment (and so to its builds').
func startMasterEnv(t *testing.T, home string, env []string, args ...string) *masterProc {
	t.Helper()
	cmd := exec.Command(jobctl, append([]string{"master", "--home", home, "--addr", "127.0.0.1:0"}, args...)...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &masterProc{cmd: cmd}
	t.Cleanup(func() { p.kill() })
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		if s.Scan() {
			line <- s.Text()
		}
		close(line)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case u, ok := <-line:
		if !ok || !strings.HasPrefix(u, "http://") {
			t.Fatalf("jobctl master printed %q; stderr:\n%s", u, stderr.String())
		}
		p.url = u
	case <-time.After(30 * time.Second):
		t.Fatalf("jobctl master did not print its URL; stderr:\n%s", stderr.String())
	}
	return p
}

// kill ends the master with SIGKILL, as a crash would. Builds run in process
// groups of their own and outlive it, as a real agent's builds outlive a
// crashed Jenkins controller: wait for them before removing their files.
func (p *masterProc) kill() {
	if p.cmd.Process != nil {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		p.cmd.Wait()
	}
}

// client talks to a master as an anonymous user with a crumb.
type client struct {
	t     *testing.T
	base  string
	http  *http.Client
	crumb string
}

func newClient(t *testing.T, base string) *client {
	c := &client{t: t, base: base, http: &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	jar := &cookieJar{}
	c.http.Jar = jar
	var crumb struct {
		Crumb string `json:"crumb"`
	}
	c.getJSON("crumbIssuer/api/json", &crumb)
	c.crumb = crumb.Crumb
	return c
}

type cookieJar struct {
	mu      sync.Mutex
	cookies []*http.Cookie
}

func (j *cookieJar) SetCookies(_ *url.URL, cs []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.cookies = append(j.cookies, cs...)
}

func (j *cookieJar) Cookies(*url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]*http.Cookie(nil), j.cookies...)
}

func (c *client) do(method, path, contentType string, body io.Reader) (*http.Response, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.crumb != "" {
		req.Header.Set("Jenkins-Crumb", c.crumb)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (c *client) post(path, contentType, body string, want int) *http.Response {
	c.t.Helper()
	resp, text := c.do("POST", path, contentType, strings.NewReader(body))
	if resp.StatusCode != want {
		c.t.Fatalf("POST %s: %s, want %d: %s %s", path, resp.Status, want, resp.Header.Get("X-Error"), text)
	}
	return resp
}

func (c *client) getJSON(path string, v any) {
	c.t.Helper()
	resp, text := c.do("GET", path, "", nil)
	if resp.StatusCode != 200 {
		c.t.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err := json.Unmarshal([]byte(text), v); err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
}

func (c *client) get(path string) (int, string) {
	c.t.Helper()
	resp, text := c.do("GET", path, "", nil)
	return resp.StatusCode, text
}

// waitBuild triggers nothing: it polls a queue item until its build has
// ended and returns the build's JSON.
func (c *client) waitBuild(queueURL string, timeout time.Duration) map[string]any {
	c.t.Helper()
	path := strings.TrimPrefix(queueURL, c.base)
	deadline := time.Now().Add(timeout)
	var buildURL string
	for buildURL == "" {
		if time.Now().After(deadline) {
			c.t.Fatalf("%s never left the queue", queueURL)
		}
		var item struct {
			Executable *struct {
				URL string `json:"url"`
			} `json:"executable"`
		}
		c.getJSON(path+"api/json", &item)
		if item.Executable != nil {
			buildURL = item.Executable.URL
		} else {
			time.Sleep(50 * time.Millisecond)
		}
	}
	for {
		var b map[string]any
		c.getJSON(strings.TrimPrefix(buildURL, c.base)+"api/json", &b)
		if b["building"] == false {
			return b
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s never ended", buildURL)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

const sleepyJob = `<?xml version='1.1' encoding='UTF-8'?>
<project>
  <description>%s</description>
  <concurrentBuild>true</concurrentBuild>
  <builders>
    <hudson.tasks.Shell><command>#!/bin/bash
echo "build $BUILD_NUMBER starts"
sleep %s
echo done</command></hudson.tasks.Shell>
  </builders>
</project>`

// TestMasterSurvivesSIGKILL kills the master in the middle of builds,
// restarts it on the same home and checks that every job, view and
// finished build is still there, that the builds that were running are
// ABORTED with a console line saying why, and that numbering goes on.
func TestMasterSurvivesSIGKILL(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	p := startMasterProc(t, home, "--executors", "2")
	c := newClient(t, p.url)
	for i := 0; i < 5; i++ {
		c.post(fmt.Sprintf("createItem?name=quick%d", i), "application/xml", fmt.Sprintf(sleepyJob, "quick", "0"), 200)
	}
	c.post("createItem?name=slow", "application/xml", fmt.Sprintf(sleepyJob, "slow", "60"), 200)
	for i := 0; i < 5; i++ {
		loc := c.post(fmt.Sprintf("job/quick%d/build", i), "", "", 201).Header.Get("Location")
		if b := c.waitBuild(loc, time.Minute); b["result"] != "SUCCESS" {
			t.Fatalf("quick%d: %v", i, b["result"])
		}
	}
	c.post("job/slow/build", "", "", 201)
	c.post("job/slow/build", "", "", 201) // concurrent: two running
	deadline := time.Now().Add(30 * time.Second)
	for {
		var job struct {
			Builds []struct{ Number int } `json:"builds"`
		}
		c.getJSON("job/slow/api/json", &job)
		_, log1 := c.get("job/slow/1/consoleText")
		_, log2 := c.get("job/slow/2/consoleText")
		if len(job.Builds) == 2 && strings.Contains(log1, "starts") && strings.Contains(log2, "starts") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the slow builds did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.kill()

	p = startMasterProc(t, home, "--executors", "2")
	c = newClient(t, p.url)
	var root struct {
		Jobs []struct{ Name string } `json:"jobs"`
	}
	c.getJSON("api/json?tree=jobs[name]", &root)
	var names []string
	for _, j := range root.Jobs {
		names = append(names, j.Name)
	}
	sort.Strings(names)
	if want := "quick0 quick1 quick2 quick3 quick4 slow"; strings.Join(names, " ") != want {
		t.Fatalf("jobs after the restart: %v, want %s", names, want)
	}
	for i := 0; i < 5; i++ {
		var b map[string]any
		c.getJSON(fmt.Sprintf("job/quick%d/1/api/json", i), &b)
		if b["result"] != "SUCCESS" {
			t.Errorf("quick%d #1 after the restart: %v", i, b["result"])
		}
	}
	for n := 1; n <= 2; n++ {
		var b map[string]any
		c.getJSON(fmt.Sprintf("job/slow/%d/api/json", n), &b)
		if b["result"] != "ABORTED" || b["building"] != false {
			t.Errorf("slow #%d after the restart: result %v, building %v; want ABORTED", n, b["result"], b["building"])
		}
		_, log := c.get(fmt.Sprintf("job/slow/%d/consoleText", n))
		if !strings.Contains(log, "starts") || !strings.Contains(strings.ToLower(log), "master") {
			t.Errorf("slow #%d console does not say why it was aborted:\n%s", n, log)
		}
	}
	// Numbering goes on.
	c.post("createItem?name=after", "application/xml", fmt.Sprintf(sleepyJob, "after", "0"), 200)
	loc := c.post("job/slow/build?delay=60sec", "", "", 201).Header.Get("Location")
	c.post("queue/cancelItem?id="+queueID(loc), "", "", 204)
	var slow struct {
		NextBuildNumber int `json:"nextBuildNumber"`
	}
	if c.getJSON("job/slow/api/json", &slow); slow.NextBuildNumber != 3 {
		t.Errorf("slow's next build number is %d, want 3", slow.NextBuildNumber)
	}
	loc = c.post("job/quick0/build", "", "", 201).Header.Get("Location")
	if b := c.waitBuild(loc, time.Minute); b["number"] != float64(2) {
		t.Errorf("quick0's next build is #%v, want #2", b["number"])
	}
}

func queueID(loc string) string {
	loc = strings.TrimSuffix(loc, "/")
	return loc[strings.LastIndex(loc, "/")+1:]
}

// TestMasterConcurrentClients: 50 clients create, configure, trigger and
// delete jobs at once; afterwards every listed job has a readable config,
// no build number repeats and nothing is half-written.
func TestMasterConcurrentClients(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	p := startMasterProc(t, home, "--executors", "4")
	var wg sync.WaitGroup
	errs := make(chan string, 1000)
	for w := 0; w < 50; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newClient(t, p.url)
			shared := fmt.Sprintf("shared%d", w%5)
			own := fmt.Sprintf("own%d", w)
			// Everyone races to create the shared jobs: one wins, the
			// others get 400.
			resp, _ := c.do("POST", "createItem?name="+shared, "application/xml", strings.NewReader(fmt.Sprintf(sleepyJob, "shared", "0")))
			if resp.StatusCode != 200 && resp.StatusCode != 400 {
				errs <- fmt.Sprintf("create %s: %s", shared, resp.Status)
			}
			if resp, _ := c.do("POST", "createItem?name="+own, "application/xml", strings.NewReader(fmt.Sprintf(sleepyJob, "own", "0"))); resp.StatusCode != 200 {
				errs <- fmt.Sprintf("create %s: %s", own, resp.Status)
				return
			}
			for i := 0; i < 3; i++ {
				if resp, _ := c.do("POST", "job/"+own+"/config.xml", "application/xml", strings.NewReader(fmt.Sprintf(sleepyJob, fmt.Sprint("v", i), "0"))); resp.StatusCode != 200 {
					errs <- fmt.Sprintf("configure %s: %s", own, resp.Status)
				}
				for _, job := range []string{own, shared} {
					if resp, _ := c.do("POST", "job/"+job+"/build?delay=0sec", "", nil); resp.StatusCode != 201 && resp.StatusCode != 303 {
						errs <- fmt.Sprintf("build %s: %s", job, resp.Status)
					}
				}
			}
			if w%2 == 0 {
				if resp, _ := c.do("DELETE", "job/"+own+"/", "", nil); resp.StatusCode != 204 {
					errs <- fmt.Sprintf("delete %s: %s", own, resp.Status)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	c := newClient(t, p.url)
	// Let the queue drain.
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		var q struct {
			Items []any `json:"items"`
		}
		c.getJSON("queue/api/json", &q)
		var root struct {
			Jobs []struct {
				Color string `json:"color"`
			} `json:"jobs"`
		}
		c.getJSON("api/json?tree=jobs[color]", &root)
		busy := len(q.Items) > 0
		for _, j := range root.Jobs {
			busy = busy || strings.HasSuffix(j.Color, "_anime")
		}
		if !busy {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the queue never drained")
		}
	}
	var root struct {
		Jobs []struct {
			Name   string `json:"name"`
			Builds []struct {
				Number int    `json:"number"`
				Result string `json:"result"`
			} `json:"builds"`
		} `json:"jobs"`
	}
	c.getJSON("api/json?tree=jobs[name,builds[number,result]]", &root)
	if len(root.Jobs) != 5+25 {
		t.Errorf("%d jobs listed, want 30 (5 shared, 25 own kept)", len(root.Jobs))
	}
	for _, j := range root.Jobs {
		if code, cfg := c.get("job/" + j.Name + "/config.xml"); code != 200 || !strings.Contains(cfg, "<project>") {
			t.Errorf("%s: config.xml %d", j.Name, code)
		}
		seen := map[int]bool{}
		for _, b := range j.Builds {
			if seen[b.Number] {
				t.Errorf("%s: build number %d repeats", j.Name, b.Number)
			}
			seen[b.Number] = true
			if b.Result != "SUCCESS" {
				t.Errorf("%s #%d: %s", j.Name, b.Number, b.Result)
			}
		}
	}
	// On disk: every job folder has a config, no temporary files are left.
	filepath.Walk(filepath.Join(home, "jobs"), func(path string, fi os.FileInfo, err error) error {
		if err == nil && strings.Contains(filepath.Base(path), ".tmp") {
			t.Errorf("a temporary file was left: %s", path)
		}
		return nil
	})
	entries, _ := os.ReadDir(filepath.Join(home, "jobs"))
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(home, "jobs", e.Name(), "config.xml")); err != nil && !strings.HasPrefix(e.Name(), ".") {
			t.Errorf("jobs/%s has no config.xml", e.Name())
		}
	}
}

// TestExamplePipelineOnMaster deploys the compiled example to a local
// master by hand (folder, then jobs in dependency order), runs
// process_upload on a real model and checks the report the flow archives
// and POSTs back.
func TestExamplePipelineOnMaster(t *testing.T) {
	needGroovy(t)
	dir := exampleCopy(t)
	out := filepath.Join(t.TempDir(), "build")
	if r := runJobctl(t, dir, "build", "--out", out); r.code != 0 {
		t.Fatalf("build: %s", r.stderr)
	}
	var manifest struct {
		Project string `json:"project"`
		Jobs    []struct {
			Name     string `json:"name"`
			Deployed string `json:"deployed"`
		} `json:"jobs"`
	}
	data, _ := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err := json.Unmarshal(data, &manifest); err != nil {
		t.Fatal(err)
	}
	p := startMasterProc(t, filepath.Join(t.TempDir(), "home"), "--executors", "3")
	c := newClient(t, p.url)
	folder, _ := os.ReadFile(filepath.Join(out, "folder.xml"))
	c.post("createItem?name="+manifest.Project, "application/xml", string(folder), 200)
	deployed := map[string]string{}
	for _, j := range manifest.Jobs { // dependency order
		x, _ := os.ReadFile(filepath.Join(out, "jobs", j.Deployed+".xml"))
		c.post("job/"+manifest.Project+"/createItem?name="+j.Deployed, "application/xml", string(x), 200)
		deployed[j.Name] = j.Deployed
	}
	// The application that receives the report.
	reports := make(chan string, 1)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		select {
		case reports <- string(b):
		default:
		}
	}))
	defer app.Close()
	model, _ := filepath.Abs(filepath.Join(dir, "models", "cube.stl"))
	form := url.Values{"SOURCE_S3_FILE_PATH": {model}, "REPORT_RETURN_URL": {app.URL + "/report"}, "MATERIAL": {"pla"}}
	loc := c.post("job/"+manifest.Project+"/job/"+deployed["process_upload"]+"/buildWithParameters", "application/x-www-form-urlencoded", form.Encode(), 201).Header.Get("Location")
	b := c.waitBuild(loc, 3*time.Minute)
	buildPath := strings.TrimPrefix(b["url"].(string), p.url)
	_, console := c.get(buildPath + "consoleText")
	if b["result"] != "SUCCESS" {
		t.Fatalf("process_upload ended %v:\n%s", b["result"], console)
	}
	code, text := c.get(buildPath + "artifact/report.json")
	if code != 200 {
		t.Fatalf("report.json: %d", code)
	}
	var report struct {
		Status string         `json:"status"`
		Data   map[string]any `json:"data"`
	}
	if err := json.Unmarshal([]byte(text), &report); err != nil {
		t.Fatalf("report.json: %v\n%s", err, text)
	}
	if report.Status != "SUCCESS" || report.Data["price"] != 5.5 || report.Data["volume_mm3"] != 8000.0 || report.Data["printable"] != true {
		t.Errorf("report = %s", text)
	}
	select {
	case posted := <-reports:
		if strings.TrimSpace(posted) != strings.TrimSpace(text) {
			t.Errorf("the POSTed report differs from the archived one:\n%s\n%s", posted, text)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("no report was POSTed to REPORT_RETURN_URL")
	}
}

// TestBuildsDoNotSeeCredentials: the credentials in the environment of the
// process running the master never reach a build's environment.
func TestBuildsDoNotSeeCredentials(t *testing.T) {
	t.Setenv("JENKINS_API_TOKEN", "tok-6f1e2d3c4b5a")
	t.Setenv("JOBCTL_MASTER_TOKEN", "tok-a5b4c3d2e1f6")
	t.Setenv("JOBCTL_HARMLESS", "visible")
	_, base := startMaster(t, "", "")
	c := newClient(t, base)
	c.post("createItem?name=env", "application/xml", fmt.Sprintf(sleepyJob, "env", "0; env | sort"), 200)
	loc := c.post("job/env/build", "", "", 201).Header.Get("Location")
	c.waitBuild(loc, time.Minute)
	_, console := c.get("job/env/1/consoleText")
	if !strings.Contains(console, "JOBCTL_HARMLESS=visible") {
		t.Fatalf("the build's environment was not printed:\n%s", console)
	}
	for _, secret := range []string{"tok-6f1e2d3c4b5a", "tok-a5b4c3d2e1f6"} {
		if strings.Contains(console, secret) {
			t.Errorf("a build saw a credential of the master's process:\n%s", console)
		}
	}
}

// TestDemoScript runs the quickstart's main job (make demo's last part) on a
// copy of the example: start a local master, deploy, run process_upload,
// show its report.
func TestDemoScript(t *testing.T) {
	needGroovy(t)
	dir := exampleCopy(t)
	model, _ := filepath.Abs(filepath.Join(dir, "models", "cube.stl"))
	cmd := exec.Command("bash", "demo.sh", jobctl, dir, model)
	cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo.sh: %v\n%s", err, out)
	}
	for _, want := range []string{"view updated modelshop/latest", ": SUCCESS", "Finished: SUCCESS", `"status": "SUCCESS"`, `"price": 5.61`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the demo's output lacks %q:\n%s", want, out)
		}
	}
}
