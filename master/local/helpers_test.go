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
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// tmaster is a master under test, served on a real port, with a client
// that keeps cookies, does not follow redirects and adds crumbs.
type tmaster struct {
	m     *Master
	url   string // ends with /
	c     *http.Client
	user  string // Basic auth, when set
	token string

	mu    sync.Mutex
	crumb string
}

func newTestMaster(t testing.TB, cfg Config) *tmaster {
	t.Helper()
	if cfg.Home == "" {
		cfg.Home = t.TempDir()
	}
	tm := startMaster(t, cfg)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := tm.m.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return tm
}

// startMaster starts a master that the caller closes.
func startMaster(t testing.TB, cfg Config) *tmaster {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	u, err := m.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return client(m, u, cfg.User, cfg.Token)
}

// client is a new client of a master, with its own session.
func client(m *Master, u, user, token string) *tmaster {
	jar, _ := cookiejar.New(nil)
	return &tmaster{m: m, url: u, user: user, token: token, c: &http.Client{
		Jar:           jar,
		Timeout:       60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// as is a new client of the same master with other credentials.
func (tm *tmaster) as(user, token string) *tmaster { return client(tm.m, tm.url, user, token) }

// resp is a response read whole.
type resp struct {
	status int
	header http.Header
	body   string
}

func (r resp) String() string {
	return fmt.Sprintf("%d %s", r.status, strings.TrimSpace(r.body))
}

// do sends a request; headers are "Name: value" strings.
func (tm *tmaster) do(method, path string, body string, headers ...string) resp {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, tm.url+strings.TrimPrefix(path, "/"), rd)
	if err != nil {
		panic(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	if tm.user != "" && req.Header.Get("Authorization") == "" {
		req.SetBasicAuth(tm.user, tm.token)
	}
	r, err := tm.c.Do(req)
	if err != nil {
		panic(err)
	}
	defer r.Body.Close()
	data, _ := io.ReadAll(r.Body)
	return resp{r.StatusCode, r.Header, string(data)}
}

func (tm *tmaster) get(path string, headers ...string) resp {
	return tm.do("GET", path, "", headers...)
}

// post sends a POST with a crumb.
func (tm *tmaster) post(path, contentType, body string, headers ...string) resp {
	if contentType != "" {
		headers = append(headers, "Content-Type: "+contentType)
	}
	headers = append(headers, "Jenkins-Crumb: "+tm.getCrumb())
	return tm.do("POST", path, body, headers...)
}

func (tm *tmaster) getCrumb() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	if tm.crumb == "" {
		var c struct{ Crumb string }
		r := tm.get("crumbIssuer/api/json")
		if err := json.Unmarshal([]byte(r.body), &c); err != nil {
			panic(fmt.Sprintf("crumb: %v: %s", err, r.body))
		}
		tm.crumb = c.Crumb
	}
	return tm.crumb
}

// json GETs path and decodes its JSON.
func (tm *tmaster) json(path string) map[string]any {
	r := tm.get(path)
	if r.status != 200 {
		panic(fmt.Sprintf("GET %s: %s", path, r))
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		panic(fmt.Sprintf("GET %s: %v: %s", path, err, r.body))
	}
	return v
}

func (tm *tmaster) mustCreate(t testing.TB, path, name, config string) {
	t.Helper()
	r := tm.post(path+"createItem?name="+url.QueryEscape(name), "application/xml", config)
	if r.status != 200 {
		t.Fatalf("creating %s: %s", name, r)
	}
}

// trigger queues a build and returns its queue item id.
func (tm *tmaster) trigger(t testing.TB, jobPath string, params url.Values) int64 {
	t.Helper()
	var r resp
	if params == nil {
		r = tm.post(jobPath+"build", "", "")
	} else {
		r = tm.post(jobPath+"buildWithParameters", "application/x-www-form-urlencoded", params.Encode())
	}
	if r.status != 201 {
		t.Fatalf("triggering %s: %s", jobPath, r)
	}
	loc := strings.TrimSuffix(r.header.Get("Location"), "/")
	id, err := strconv.ParseInt(loc[strings.LastIndexByte(loc, '/')+1:], 10, 64)
	if err != nil {
		t.Fatalf("Location %q: %v", loc, err)
	}
	return id
}

// waitQueue polls a queue item until it has left the queue; it returns
// the build number (0 if cancelled).
func (tm *tmaster) waitQueue(t testing.TB, id int64) int {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		q := tm.json(fmt.Sprintf("queue/item/%d/api/json", id))
		if q["_class"] == "hudson.model.Queue$LeftItem" {
			if q["cancelled"] == true {
				return 0
			}
			return int(q["executable"].(map[string]any)["number"].(float64))
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("queue item %d never left the queue", id)
	return 0
}

// waitBuild polls a build until it ends and returns its JSON.
func (tm *tmaster) waitBuild(t testing.TB, jobPath string, n int) map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		b := tm.json(fmt.Sprintf("%s%d/api/json", jobPath, n))
		if b["building"] == false {
			return b
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s #%d never ended", jobPath, n)
	return nil
}

// run triggers a build and waits for its end.
func (tm *tmaster) run(t testing.TB, jobPath string, params url.Values) map[string]any {
	t.Helper()
	n := tm.waitQueue(t, tm.trigger(t, jobPath, params))
	return tm.waitBuild(t, jobPath, n)
}

// freestyle returns a freestyle job config.
type freestyle struct {
	shell       []string
	params      string // parameterDefinitions content
	concurrent  bool
	artifacts   string
	allowEmpty  bool
	rotator     string // strategy content
	timer       string
	description string
	disabled    bool
}

func (f freestyle) xml() string {
	var b strings.Builder
	b.WriteString("<?xml version='1.0' encoding='UTF-8'?>\n<project>\n  <actions/>\n")
	fmt.Fprintf(&b, "  <description>%s</description>\n  <keepDependencies>false</keepDependencies>\n", xmlEscape(f.description))
	if f.disabled {
		b.WriteString("  <disabled>true</disabled>\n")
	}
	fmt.Fprintf(&b, "  <concurrentBuild>%v</concurrentBuild>\n  <properties>\n", f.concurrent)
	if f.rotator != "" {
		fmt.Fprintf(&b, "    <jenkins.model.BuildDiscarderProperty><strategy class=\"hudson.tasks.LogRotator\">%s</strategy></jenkins.model.BuildDiscarderProperty>\n", f.rotator)
	}
	if f.params != "" {
		fmt.Fprintf(&b, "    <hudson.model.ParametersDefinitionProperty><parameterDefinitions>%s</parameterDefinitions></hudson.model.ParametersDefinitionProperty>\n", f.params)
	}
	b.WriteString("  </properties>\n  <scm class=\"hudson.scm.NullSCM\"/>\n")
	if f.timer != "" {
		fmt.Fprintf(&b, "  <triggers class=\"vector\"><hudson.triggers.TimerTrigger><spec>%s</spec></hudson.triggers.TimerTrigger></triggers>\n", f.timer)
	} else {
		b.WriteString("  <triggers class=\"vector\"/>\n")
	}
	b.WriteString("  <builders>\n")
	for _, s := range f.shell {
		fmt.Fprintf(&b, "    <hudson.tasks.Shell><command>%s</command></hudson.tasks.Shell>\n", xmlEscape(s))
	}
	b.WriteString("  </builders>\n  <publishers>\n")
	if f.artifacts != "" {
		fmt.Fprintf(&b, "    <hudson.tasks.ArtifactArchiver><artifacts>%s</artifacts><allowEmptyArchive>%v</allowEmptyArchive><onlyIfSuccessful>false</onlyIfSuccessful><fingerprint>false</fingerprint><defaultExcludes>true</defaultExcludes><caseSensitive>true</caseSensitive></hudson.tasks.ArtifactArchiver>\n", xmlEscape(f.artifacts), f.allowEmpty)
	}
	b.WriteString("  </publishers>\n  <buildWrappers/>\n</project>\n")
	return b.String()
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

func stringParam(name, def string) string {
	return fmt.Sprintf("<hudson.model.StringParameterDefinition><name>%s</name><description>the %s</description><defaultValue>%s</defaultValue><trim>false</trim></hudson.model.StringParameterDefinition>", name, name, def)
}

func boolParam(name string, def bool) string {
	return fmt.Sprintf("<hudson.model.BooleanParameterDefinition><name>%s</name><description></description><defaultValue>%v</defaultValue></hudson.model.BooleanParameterDefinition>", name, def)
}

func choiceParam(name string, choices ...string) string {
	var b strings.Builder
	for _, c := range choices {
		fmt.Fprintf(&b, "<string>%s</string>", c)
	}
	return fmt.Sprintf(`<hudson.model.ChoiceParameterDefinition><name>%s</name><description></description><choices class="java.util.Arrays$ArrayList"><a class="string-array">%s</a></choices></hudson.model.ChoiceParameterDefinition>`, name, b.String())
}

const folderXML = `<?xml version="1.0" encoding="UTF-8"?>
<com.cloudbees.hudson.plugins.folder.Folder plugin="cloudbees-folder">
  <actions/>
  <description>a folder</description>
  <properties/>
  <folderViews class="com.cloudbees.hudson.plugins.folder.views.DefaultFolderViewHolder">
    <views>
      <hudson.model.AllView>
        <owner class="com.cloudbees.hudson.plugins.folder.Folder" reference="../../../.."/>
        <name>All</name>
        <filterExecutors>false</filterExecutors>
        <filterQueue>false</filterQueue>
        <properties class="hudson.model.View$PropertyList"/>
      </hudson.model.AllView>
    </views>
    <tabBar class="hudson.views.DefaultViewsTabBar"/>
  </folderViews>
  <healthMetrics/>
</com.cloudbees.hudson.plugins.folder.Folder>
`

func pipelineXML(script string, concurrent bool, params string) string {
	var props string
	if !concurrent {
		props += "<org.jenkinsci.plugins.workflow.job.properties.DisableConcurrentBuildsJobProperty/>"
	}
	if params != "" {
		props += "<hudson.model.ParametersDefinitionProperty><parameterDefinitions>" + params + "</parameterDefinitions></hudson.model.ParametersDefinitionProperty>"
	}
	return `<?xml version="1.0" encoding="UTF-8"?>
<flow-definition plugin="workflow-job">
  <definition class="org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition" plugin="workflow-cps">
    <script>` + xmlEscape(script) + `</script>
    <sandbox>true</sandbox>
  </definition>
  <actions/>
  <description>a pipeline</description>
  <keepDependencies>false</keepDependencies>
  <properties>` + props + `</properties>
</flow-definition>
`
}

// vmHWM is the process's peak resident set size in bytes (Linux), or 0.
func vmHWM() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n * 1024
			}
		}
	}
	return 0
}
