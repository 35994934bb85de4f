package test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bndr/gojenkins"

	"github.com/jobctl/jobctl/master/local"
)

// startMaster starts a local master on a free port with its home in a
// temporary folder, secured with user and token when given.
func startMaster(t *testing.T, user, token string) (*local.Master, string) {
	t.Helper()
	m, err := local.New(local.Config{Home: filepath.Join(t.TempDir(), "home"), Executors: 2, User: user, Token: token})
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
	return m, url
}

// debianPython is the python3 the Debian packages python3-jenkins and
// jenkins-job-builder install into.
const debianPython = "/usr/bin/python3"

func needPythonJenkins(t *testing.T) {
	t.Helper()
	if err := exec.Command(debianPython, "-c", "import jenkins").Run(); err != nil {
		t.Skip("python-jenkins is not installed (apt-get install -y python3-jenkins); CI installs it")
	}
}

// TestPythonJenkins drives the local master with python-jenkins, open and
// secured with an API token.
func TestPythonJenkins(t *testing.T) {
	needPythonJenkins(t)
	for _, secured := range []bool{false, true} {
		t.Run(fmt.Sprintf("secured=%v", secured), func(t *testing.T) {
			user, token := "", ""
			if secured {
				user, token = "ci", "11aa22bb33cc44dd55ee66ff77aa88bb99"
			}
			_, url := startMaster(t, user, token)
			args := []string{"compat/python_jenkins_check.py", url}
			if secured {
				args = append(args, user, token)
			}
			out, err := exec.Command(debianPython, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("python-jenkins against the local master: %v\n%s", err, out)
			}
			if n := strings.Count(string(out), "ok "); n < 20 {
				t.Errorf("only %d checks ran:\n%s", n, out)
			}
		})
	}
}

// TestJenkinsJobBuilder runs jenkins-jobs update of the reference
// jobs.yaml twice: the first run creates both jobs, the second changes
// nothing; then the jobs on the master are what JJB generates.
func TestJenkinsJobBuilder(t *testing.T) {
	if _, err := exec.LookPath("jenkins-jobs"); err != nil {
		t.Skip("jenkins-jobs is not installed (apt-get install -y jenkins-job-builder); CI installs it")
	}
	_, url := startMaster(t, "jjb", "0123456789abcdef0123456789abcdef")
	dir := t.TempDir()
	conf := filepath.Join(dir, "jjb.ini")
	os.WriteFile(conf, []byte("[job_builder]\nignore_cache=False\n\n[jenkins]\nurl="+url+"\nuser=jjb\npassword=0123456789abcdef0123456789abcdef\nquery_plugins_info=True\n"), 0o600)
	jobsYAML := "../../shared/reference/jjb-3.11/jobs.yaml"
	if _, err := os.Stat(jobsYAML); err != nil {
		t.Skipf("the reference jobs.yaml is not here: %v", err)
	}
	run := func() string {
		cmd := exec.Command("jenkins-jobs", "--conf", conf, "update", jobsYAML)
		cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("jenkins-jobs update: %v\n%s", err, out)
		}
		return string(out)
	}
	first := run()
	if !strings.Contains(first, "Number of jobs updated: 2") {
		t.Errorf("first run:\n%s", first)
	}
	second := run()
	if !strings.Contains(second, "Number of jobs updated: 0") {
		t.Errorf("second run changed something:\n%s", second)
	}
	// The master holds what JJB generates.
	for _, name := range []string{"worker-build-v1-abc123", "orch-deploy-v1-def456"} {
		want, err := exec.Command("jenkins-jobs", "--conf", conf, "test", jobsYAML, name).Output()
		if err != nil {
			t.Fatalf("jenkins-jobs test: %v", err)
		}
		got := httpGet(t, url+"job/"+name+"/config.xml", "jjb", "0123456789abcdef0123456789abcdef")
		// Jenkins re-serializes a config with its own XML declaration.
		if withoutDecl(got) != withoutDecl(string(want)) {
			t.Errorf("config.xml of %s differs from what JJB generates:\n%s\nwant\n%s", name, got, want)
		}
	}
}

// withoutDecl drops an XML declaration and surrounding space.
func withoutDecl(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "<?xml") {
		if i := strings.Index(s, "?>"); i >= 0 {
			s = s[i+2:]
		}
	}
	return strings.TrimSpace(s)
}

func httpGet(t *testing.T, url, user, token string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if user != "" {
		req.SetBasicAuth(user, token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := fmt.Fprint(&b, readAll(t, resp)); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return b.String()
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}

const gojenkinsWorker = `<?xml version='1.0' encoding='UTF-8'?>
<project>
  <description>from gojenkins</description>
  <properties>
    <hudson.model.ParametersDefinitionProperty>
      <parameterDefinitions>
        <hudson.model.StringParameterDefinition><name>WHO</name><defaultValue>world</defaultValue></hudson.model.StringParameterDefinition>
      </parameterDefinitions>
    </hudson.model.ParametersDefinitionProperty>
  </properties>
  <concurrentBuild>false</concurrentBuild>
  <builders>
    <hudson.tasks.Shell><command>#!/bin/bash
echo "hello $WHO"
echo '{"status":"SUCCESS"}' &gt; report.json
</command></hudson.tasks.Shell>
  </builders>
  <publishers>
    <hudson.tasks.ArtifactArchiver><artifacts>report.json</artifacts></hudson.tasks.ArtifactArchiver>
  </publishers>
</project>`

const gojenkinsFolder = `<?xml version='1.0' encoding='UTF-8'?>
<com.cloudbees.hudson.plugins.folder.Folder plugin="cloudbees-folder"><description>f</description></com.cloudbees.hudson.plugins.folder.Folder>`

// TestGojenkins makes every gojenkins v1.2.0 call jobctl uses against the
// local master, with the client settings reference/jenkins-api.md asks
// for (a timeout, redirects not followed).
func TestGojenkins(t *testing.T) {
	_, url := startMaster(t, "admin", "feedfacefeedfacefeedfacefeedface")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	client := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	jk := gojenkins.CreateJenkins(client, strings.TrimSuffix(url, "/"), "admin", "feedfacefeedfacefeedfacefeedface")
	if _, err := jk.Init(ctx); err != nil {
		t.Fatalf("Init: %v", err)
	}
	if jk.Version == "" {
		t.Errorf("Init read no version from X-Jenkins")
	}
	if _, err := jk.CreateJob(ctx, gojenkinsFolder, "shop"); err != nil {
		t.Fatalf("CreateJob(folder): %v", err)
	}
	if _, err := jk.CreateJobInFolder(ctx, gojenkinsWorker, "hello-v1-0123456789ab", "shop"); err != nil {
		t.Fatalf("CreateJobInFolder: %v", err)
	}
	// The one-request listing jobctl uses.
	var root struct {
		Jobs []struct {
			Name string `json:"name"`
			Jobs []struct {
				Name      string `json:"name"`
				LastBuild *struct {
					Number int64 `json:"number"`
				} `json:"lastBuild"`
			} `json:"jobs"`
		} `json:"jobs"`
	}
	if _, err := jk.Requester.GetJSON(ctx, "/", &root, map[string]string{"tree": "jobs[name,url,color,description,lastBuild[number,timestamp,result,building,duration],jobs[name,url,color,description,lastBuild[number,timestamp,result,building,duration]]]"}); err != nil {
		t.Fatalf("listing: %v", err)
	}
	if len(root.Jobs) != 1 || root.Jobs[0].Name != "shop" || len(root.Jobs[0].Jobs) != 1 || root.Jobs[0].Jobs[0].LastBuild != nil {
		t.Errorf("listing = %+v", root)
	}
	job, err := jk.GetJob(ctx, "hello-v1-0123456789ab", "shop")
	if err != nil {
		t.Fatalf("GetJob: %v", err)
	}
	config, err := job.GetConfig(ctx)
	if err != nil || !strings.Contains(config, "from gojenkins") {
		t.Fatalf("GetConfig: %v\n%s", err, config)
	}
	if err := job.UpdateConfig(ctx, strings.Replace(gojenkinsWorker, "from gojenkins", "updated", 1)); err != nil {
		t.Fatalf("UpdateConfig: %v", err)
	}
	queueID, err := job.InvokeSimple(ctx, map[string]string{"WHO": "gopher"})
	if err != nil || queueID <= 0 {
		t.Fatalf("InvokeSimple = %d, %v", queueID, err)
	}
	var number int64
	for deadline := time.Now().Add(time.Minute); number == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the queue item never got a build")
		}
		task, err := jk.GetQueueItem(ctx, queueID)
		if err != nil {
			t.Fatalf("GetQueueItem: %v", err)
		}
		number = task.Raw.Executable.Number
	}
	var build *gojenkins.Build
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the build never ended")
		}
		if build, err = job.GetBuild(ctx, number); err != nil {
			t.Fatalf("GetBuild: %v", err)
		}
		if !build.IsRunning(ctx) {
			break
		}
	}
	if _, err := build.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if got := build.GetResult(); got != "SUCCESS" {
		t.Errorf("result %s", got)
	}
	if out := build.GetConsoleOutput(ctx); !strings.Contains(out, "hello gopher") {
		t.Errorf("console:\n%s", out)
	}
	arts := build.GetArtifacts()
	if len(arts) != 1 {
		t.Fatalf("artifacts: %+v", arts)
	}
	data, err := arts[0].GetData(ctx)
	if err != nil || !strings.Contains(string(data), `"SUCCESS"`) {
		t.Errorf("artifact: %v %s", err, data)
	}
	plugins, err := jk.GetPlugins(ctx, 1)
	if err != nil || len(plugins.Raw.Plugins) == 0 {
		t.Errorf("GetPlugins: %v", err)
	}
	// gojenkins' DeleteJob POSTs doDelete, which Jenkins answers with a
	// redirect; jobctl deletes with DELETE /job/.../ (204) instead.
	resp, err := jk.Requester.(*gojenkins.Requester).Do(ctx, &gojenkins.APIRequest{Method: "DELETE", Endpoint: "/job/shop/job/hello-v1-0123456789ab/", Headers: http.Header{}}, nil)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Errorf("DELETE: %v %v", resp, err)
	}
	if _, err := jk.GetJob(ctx, "hello-v1-0123456789ab", "shop"); err == nil {
		t.Errorf("the job is still there after DELETE")
	}
}
