package local

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func requireGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not on PATH: the GitSCM tests need it")
	}
}

// testRepo is a git repository with a main branch.
type testRepo struct {
	t   *testing.T
	dir string
}

func newTestRepo(t *testing.T) *testRepo {
	r := &testRepo{t: t, dir: t.TempDir()}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *testRepo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+r.dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes files (path → content) and commits them; it returns the
// commit's SHA-1.
func (r *testRepo) commit(msg string, files map[string]string) string {
	r.t.Helper()
	for p, c := range files {
		full := filepath.Join(r.dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	r.git("add", "-A")
	r.git("commit", "-q", "-m", msg)
	return r.git("rev-parse", "HEAD")
}

// gitJob is a freestyle job with a GitSCM, an SCMTrigger and a
// BuildTrigger.
type gitJob struct {
	url, branch, included, excluded string
	pollSpec                        string
	shell                           string
	downstream                      string // BuildTrigger projects; "" none
	properties                      string
}

func (j gitJob) xml() string {
	if j.branch == "" {
		j.branch = "*/main"
	}
	var trig string
	if j.downstream != "" {
		trig = `<hudson.plugins.parameterizedtrigger.BuildTrigger plugin="parameterized-trigger">
      <configs>
        <hudson.plugins.parameterizedtrigger.BuildTriggerConfig>
          <configs>
            <hudson.plugins.parameterizedtrigger.PredefinedBuildParameters>
              <properties>` + xmlEscape(j.properties) + `</properties>
              <textParamValueOnNewLine>false</textParamValueOnNewLine>
            </hudson.plugins.parameterizedtrigger.PredefinedBuildParameters>
          </configs>
          <projects>` + xmlEscape(j.downstream) + `</projects>
          <condition>SUCCESS</condition>
          <triggerWithNoParameters>false</triggerWithNoParameters>
          <triggerFromChildProjects>false</triggerFromChildProjects>
        </hudson.plugins.parameterizedtrigger.BuildTriggerConfig>
      </configs>
    </hudson.plugins.parameterizedtrigger.BuildTrigger>`
	}
	return `<?xml version='1.1' encoding='UTF-8'?>
<project>
  <actions/>
  <description>builds web</description>
  <keepDependencies>false</keepDependencies>
  <properties/>
  <scm class="hudson.plugins.git.GitSCM" plugin="git">
    <configVersion>2</configVersion>
    <userRemoteConfigs>
      <hudson.plugins.git.UserRemoteConfig>
        <url>` + xmlEscape(j.url) + `</url>
      </hudson.plugins.git.UserRemoteConfig>
    </userRemoteConfigs>
    <branches>
      <hudson.plugins.git.BranchSpec><name>` + xmlEscape(j.branch) + `</name></hudson.plugins.git.BranchSpec>
    </branches>
    <doGenerateSubmoduleConfigurations>false</doGenerateSubmoduleConfigurations>
    <submoduleCfg class="empty-list"/>
    <extensions>
      <hudson.plugins.git.extensions.impl.PathRestriction>
        <includedRegions>` + xmlEscape(j.included) + `</includedRegions>
        <excludedRegions>` + xmlEscape(j.excluded) + `</excludedRegions>
      </hudson.plugins.git.extensions.impl.PathRestriction>
    </extensions>
  </scm>
  <canRoam>true</canRoam>
  <disabled>false</disabled>
  <triggers class="vector">
    <hudson.triggers.SCMTrigger>
      <spec>` + xmlEscape(j.pollSpec) + `</spec>
      <ignorePostCommitHooks>false</ignorePostCommitHooks>
    </hudson.triggers.SCMTrigger>
  </triggers>
  <concurrentBuild>false</concurrentBuild>
  <builders>
    <hudson.tasks.Shell><command>` + xmlEscape(j.shell) + `</command></hudson.tasks.Shell>
  </builders>
  <publishers>
    ` + trig + `
  </publishers>
  <buildWrappers/>
</project>
`
}

// notify calls /git/notifyCommit and waits for the polls it started.
func (tm *tmaster) notify(t *testing.T, remote string) string {
	t.Helper()
	r := tm.get("git/notifyCommit?url=" + url.QueryEscape(remote))
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("notifyCommit: %s", r)
	}
	tm.m.waitPolls()
	return r.body
}

// lastBuild waits until the job's queue is empty and its last build has
// ended; it returns that build's number (0: none).
func (tm *tmaster) settle(t *testing.T, jobPath string) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		j := tm.json(jobPath + "api/json?tree=inQueue,lastBuild[number,building]")
		if j["inQueue"] == false {
			lb, _ := j["lastBuild"].(map[string]any)
			if lb == nil {
				return 0
			}
			if lb["building"] == false {
				return int(lb["number"].(float64))
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s never settled", jobPath)
	return 0
}

func TestGitSCMPollingAndDownstreamTrigger(t *testing.T) {
	requireGit(t)
	repo := newTestRepo(t)
	sha1 := repo.commit("first web change", map[string]string{"web/index.html": "1", "other/a": "1"})
	tm := newTestMaster(t, Config{})
	tm.mustCreate(t, "", "web-build-test", freestyle{
		shell:  []string{`echo "ref=$GIT_REF other=$OTHER"`},
		params: stringParam("GIT_REF", "none") + stringParam("OTHER", "dflt"),
	}.xml())
	tm.mustCreate(t, "", "web", gitJob{
		url: repo.dir, included: "web/.*", pollSpec: "H/5 * * * *",
		shell:      `echo "commit=$GIT_COMMIT branch=$GIT_BRANCH prev=${GIT_PREVIOUS_COMMIT:-none}"; test -f web/index.html`,
		downstream: "web-build-test", properties: "GIT_REF=${GIT_COMMIT}\nUNDECLARED=x",
	}.xml())

	// Never built: the first notification builds.
	if body := tm.notify(t, "file://"+repo.dir+"/"); body != "Scheduled polling of web\n" {
		t.Errorf("notifyCommit body %q", body)
	}
	if n := tm.settle(t, "job/web/"); n != 1 {
		t.Fatalf("after the first notification, last build %d", n)
	}
	b := tm.json("job/web/1/api/json")
	console := tm.get("job/web/1/consoleText").body
	if b["result"] != "SUCCESS" {
		t.Fatalf("build 1: %v\n%s", b["result"], console)
	}
	for _, want := range []string{
		"Started by an SCM change\n",
		"The recommended git tool is: NONE\n",
		" > git fetch --tags --force --progress -- " + repo.dir + " +refs/heads/*:refs/remotes/origin/* # timeout=10\n",
		"Checking out Revision " + sha1 + " (origin/main)\n",
		"Commit message: \"first web change\"\n",
		"commit=" + sha1 + " branch=origin/main prev=none\n",
		"Triggering a new build of web-build-test\n",
	} {
		if !strings.Contains(console, want) {
			t.Errorf("console lacks %q:\n%s", want, console)
		}
	}
	actions := b["actions"].([]any)
	causes := actions[0].(map[string]any)["causes"]
	if diff := cmp.Diff([]any{map[string]any{"_class": causeSCM, "shortDescription": "Started by an SCM change"}}, causes); diff != "" {
		t.Errorf("causes (-want +got):\n%s", diff)
	}
	bd := actions[len(actions)-1].(map[string]any)
	wantRev := map[string]any{"SHA1": sha1, "branch": []any{map[string]any{"SHA1": sha1, "name": "origin/main"}}}
	if diff := cmp.Diff(wantRev, bd["lastBuiltRevision"]); bd["_class"] != "hudson.plugins.git.util.BuildData" || diff != "" {
		t.Errorf("BuildData %v: (-want +got):\n%s", bd["_class"], diff)
	}

	// The downstream job got the revision.
	if n := tm.settle(t, "job/web-build-test/"); n != 1 {
		t.Fatalf("downstream last build %d", n)
	}
	d := tm.json("job/web-build-test/1/api/json")
	wantActions := []any{
		map[string]any{"_class": "hudson.model.ParametersAction", "parameters": []any{
			map[string]any{"_class": "hudson.model.StringParameterValue", "name": "GIT_REF", "value": sha1},
			map[string]any{"_class": "hudson.model.StringParameterValue", "name": "OTHER", "value": "dflt"},
		}},
		map[string]any{"_class": "hudson.model.CauseAction", "causes": []any{map[string]any{
			"_class": causeUpstream, "shortDescription": `Started by upstream project "web" build number 1`,
			"upstreamBuild": 1.0, "upstreamProject": "web", "upstreamUrl": "job/web/",
		}}},
	}
	if diff := cmp.Diff(wantActions, d["actions"]); diff != "" {
		t.Errorf("downstream actions (-want +got):\n%s", diff)
	}

	// A change outside web/ builds nothing.
	other := repo.commit("other change", map[string]string{"other/b": "2"})
	tm.notify(t, repo.dir+".git")
	if n := tm.settle(t, "job/web/"); n != 1 {
		t.Errorf("a change outside web/ built: last build %d", n)
	}
	plog := tm.get("job/web/scmPollLog/").body
	for _, want := range []string{"Ignored commit " + other + ": No paths matched included region whitelist\n", "No changes\n"} {
		if !strings.Contains(plog, want) {
			t.Errorf("polling log lacks %q:\n%s", want, plog)
		}
	}
	if _, err := os.Stat(filepath.Join(tm.m.home, "workspace", "web", "other", "b")); err == nil {
		t.Errorf("polling touched the workspace")
	}

	// A change in web/ builds it.
	sha3 := repo.commit("web change", map[string]string{"web/x": "3"})
	tm.notify(t, repo.dir)
	if n := tm.settle(t, "job/web/"); n != 2 {
		t.Fatalf("after a web/ change, last build %d", n)
	}
	console = tm.get("job/web/2/consoleText").body
	for _, want := range []string{"Fetching changes from the remote Git repository\n", "Checking out Revision " + sha3 + " (origin/main)\n", "commit=" + sha3 + " branch=origin/main prev=" + sha1 + "\n"} {
		if !strings.Contains(console, want) {
			t.Errorf("build 2 console lacks %q:\n%s", want, console)
		}
	}
	if n := tm.settle(t, "job/web-build-test/"); n != 2 {
		t.Fatalf("downstream last build %d", n)
	}
	if c := tm.get("job/web-build-test/2/consoleText").body; !strings.Contains(c, "ref="+sha3+" other=dflt\n") {
		t.Errorf("downstream console:\n%s", c)
	}

	// Nothing new: polling finds no changes.
	tm.notify(t, repo.dir)
	if n := tm.settle(t, "job/web/"); n != 2 {
		t.Errorf("polling without changes built: last build %d", n)
	}

	// The cron path: the SCM trigger's spec fires a poll.
	sha4 := repo.commit("another web change", map[string]string{"web/y": "4"})
	tm.m.mu.RLock()
	st := tm.m.timers[tm.m.lookup("web")]
	at := st.poll
	tm.m.mu.RUnlock()
	if at.IsZero() {
		t.Fatalf("no poll time: %v", at)
	}
	tm.m.fireTimers(at)
	tm.m.waitPolls()
	if n := tm.settle(t, "job/web/"); n != 3 {
		t.Fatalf("after a timed poll, last build %d", n)
	}
	if c := tm.get("job/web/3/consoleText").body; !strings.Contains(c, "Checking out Revision "+sha4) {
		t.Errorf("build 3 console:\n%s", c)
	}

	// Notifications for other repositories and branches poll nothing.
	if body := tm.get("git/notifyCommit?url=https://git.example.com/shop/other.git").body; body != "No git jobs using repository: https://git.example.com/shop/other.git and branches: \n" {
		t.Errorf("unknown repository: %q", body)
	}
	if body := tm.get("git/notifyCommit?url=" + url.QueryEscape(repo.dir) + "&branches=dev").body; !strings.HasPrefix(body, "No git jobs using repository") {
		t.Errorf("other branch: %q", body)
	}
}

func TestNotifyCommitSecured(t *testing.T) {
	tm := newTestMaster(t, Config{User: "admin", Token: "s3cret"})
	anon := tm.as("", "")
	if r := anon.get("git/notifyCommit?url=https://x/y.git"); r.status != 401 {
		t.Errorf("without a token: %s", r)
	}
	if r := anon.get("git/notifyCommit?url=https://x/y.git&token=bad"); r.status != 403 {
		t.Errorf("with a bad token: %s", r)
	}
	if r := anon.do("POST", "git/notifyCommit?url=https://x/y.git&token=s3cret", ""); r.status != 200 || r.body != "No git jobs found\n" {
		t.Errorf("with the token, POST without a crumb: %s", r)
	}
	if r := anon.get("api/json"); r.status != 403 {
		t.Errorf("other paths stay protected: %s", r)
	}
}

func TestGitCheckoutFailure(t *testing.T) {
	requireGit(t)
	tm := newTestMaster(t, Config{})
	missing := filepath.Join(t.TempDir(), "no-such-repo")
	tm.mustCreate(t, "", "bad", gitJob{url: missing, shell: "echo RAN"}.xml())
	b := tm.run(t, "job/bad/", nil)
	c := tm.get("job/bad/1/consoleText").body
	if b["result"] != "FAILURE" {
		t.Errorf("result %v", b["result"])
	}
	for _, want := range []string{"ERROR: Error cloning remote repo 'origin'\n", "ERROR: Command \"git fetch --tags --force --progress -- " + missing, "Finished: FAILURE\n"} {
		if !strings.Contains(c, want) {
			t.Errorf("console lacks %q:\n%s", want, c)
		}
	}
	if strings.Contains(c, "RAN") {
		t.Errorf("the steps ran after a failed checkout:\n%s", c)
	}
}

func TestGitInjectionRefused(t *testing.T) {
	requireGit(t)
	repo := newTestRepo(t)
	repo.commit("c", map[string]string{"a": "1"})
	tm := newTestMaster(t, Config{})
	pwned := filepath.Join(t.TempDir(), "pwned")
	cases := []struct {
		name, url, branch, want string
	}{
		{"option-url", "--upload-pack=touch " + pwned, "*/main", "starts with '-'"},
		{"shell-url", repo.dir + ";touch " + pwned, "*/main", "ERROR: Error cloning remote repo 'origin'"},
		{"subst-branch", repo.dir, "*/main$(touch " + pwned + ")", "wildcards and parameters are not supported"},
		{"option-branch", repo.dir, "--output=" + pwned, "cannot start with '-'"},
		{"semicolon-branch", repo.dir, "main;touch " + pwned, "not a valid branch name"},
	}
	for _, c := range cases {
		tm.mustCreate(t, "", c.name, gitJob{url: c.url, branch: c.branch, shell: "true"}.xml())
		b := tm.run(t, "job/"+c.name+"/", nil)
		console := tm.get("job/" + c.name + "/1/consoleText").body
		if b["result"] != "FAILURE" || !strings.Contains(console, c.want) {
			t.Errorf("%s: result %v, console lacks %q:\n%s", c.name, b["result"], c.want, console)
		}
	}
	if _, err := os.Stat(pwned); err == nil {
		t.Fatalf("a URL or branch ran a command")
	}
}

func TestURLMatching(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"https://git.example.com/shop/web.git", "https://git.example.com/shop/web", true},
		{"https://git.example.com/shop/web.git", "https://GIT.Example.com/shop/web/", true},
		{"https://git.example.com/shop/web.git", "ssh://git@git.example.com:2222/shop/web.git", true},
		{"git@git.example.com:shop/web.git", "https://git.example.com/shop/web", true},
		{"git@ssh.git.example.com:shop/web.git", "https://git.example.com/shop/web", true},
		{"file:///srv/repos/web.git", "/srv/repos/web", true},
		{"/srv/repos/web/", "/srv/repos/web.git", true},
		{"https://git.example.com/shop/web.git", "https://git.example.com/shop/Web.git", false},
		{"https://git.example.com/shop/web.git", "https://other.example.com/shop/web.git", false},
		{"https://git.example.com/shop/web.git", "https://git.example.com/shop/webapp.git", false},
	}
	for _, c := range cases {
		if got := urlsMatch(c.a, c.b); got != c.want {
			t.Errorf("urlsMatch(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestPathRestriction(t *testing.T) {
	cases := []struct {
		name               string
		included, excluded string
		paths              []string
		want               bool // excluded
	}{
		{"included", "web/.*", "", []string{"web/a", "other/b"}, false},
		{"not included", "web/.*", "", []string{"other/b", "webx/a"}, true},
		{"whole path", "web/.*", "", []string{"x/web/a"}, true},
		{"several regions", "api/.*\nweb/.*\n", "", []string{"api/x"}, false},
		{"only excluded", "", ".*\\.md", []string{"README.md", "web/a.md"}, true},
		{"some not excluded", "", ".*\\.md", []string{"README.md", "web/a"}, false},
		{"included then excluded", "web/.*", "web/docs/.*", []string{"web/docs/a", "other/x"}, true},
		{"included not excluded", "web/.*", "web/docs/.*", []string{"web/docs/a", "web/b"}, false},
		{"no paths", "web/.*", "", nil, false},
		{"no regions", "", "", []string{"x"}, false},
	}
	for _, c := range cases {
		scm := fmt.Sprintf(`<scm class="hudson.plugins.git.GitSCM"><extensions><hudson.plugins.git.extensions.impl.PathRestriction><includedRegions>%s</includedRegions><excludedRegions>%s</excludedRegions></hudson.plugins.git.extensions.impl.PathRestriction></extensions></scm>`, xmlEscape(c.included), xmlEscape(c.excluded))
		root, _, err := parseXML([]byte(scm))
		if err != nil {
			t.Fatal(err)
		}
		g := readGitSCM(root)
		if g.regexErr != nil {
			t.Fatalf("%s: %v", c.name, g.regexErr)
		}
		if got, why := g.commitExcluded(c.paths); got != c.want {
			t.Errorf("%s: excluded %v (%s), want %v", c.name, got, why, c.want)
		}
	}
}

func TestBranchNames(t *testing.T) {
	for spec, want := range map[string]string{"*/main": "main", "main": "main", "origin/main": "main", "refs/heads/main": "main", "refs/heads/release/1.x": "release/1.x"} {
		if got, err := branchName(spec); err != nil || got != want {
			t.Errorf("branchName(%q) = %q, %v; want %q", spec, got, err, want)
		}
	}
	for _, spec := range []string{"", "**", "*/feature-*", "-main", "main..x", "a b", "${BRANCH}"} {
		if got, err := branchName(spec); err == nil {
			t.Errorf("branchName(%q) = %q, want an error", spec, got)
		}
	}
}

func TestPropertiesAndExpansion(t *testing.T) {
	env := map[string]string{"GIT_COMMIT": "abc", "N": "7"}
	got := parseProperties("# comment\nGIT_REF=${GIT_COMMIT}\n  B : two words\nC $N-$MISSING-${N}\nD=a\\\n   b\n\nE\\=x=1\n")
	for i := range got {
		got[i].value = expandVars(got[i].value, env)
	}
	want := []kv{{"GIT_REF", "abc"}, {"B", "two words"}, {"C", "7-$MISSING-7"}, {"D", "ab"}, {"E=x", "1"}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(kv{})); diff != "" {
		t.Errorf("properties (-want +got):\n%s", diff)
	}
}

func TestTriggerConditions(t *testing.T) {
	for _, c := range []struct {
		cond, result string
		want         bool
	}{
		{"SUCCESS", "SUCCESS", true}, {"SUCCESS", "UNSTABLE", false},
		{"UNSTABLE_OR_BETTER", "UNSTABLE", true}, {"UNSTABLE_OR_BETTER", "FAILURE", false},
		{"UNSTABLE_OR_WORSE", "FAILURE", true}, {"UNSTABLE_OR_WORSE", "SUCCESS", false},
		{"FAILED", "FAILURE", true}, {"FAILED_OR_BETTER", "ABORTED", false}, {"ALWAYS", "ABORTED", true},
	} {
		if got, ok := conditionMet(c.cond, c.result); !ok || got != c.want {
			t.Errorf("conditionMet(%s, %s) = %v, %v", c.cond, c.result, got, ok)
		}
	}
}
