package compiler

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jobctl/jobctl/jobs"
)

// compileWatchRepo writes files into a new repository and compiles it.
func compileWatchRepo(t *testing.T, files map[string]string) (*Result, error) {
	t.Helper()
	dir := t.TempDir()
	writeRepo(t, dir, files, false)
	repo, err := Load(dir)
	if err != nil {
		return nil, err
	}
	return Compile(repo, &jobs.Lock{}, Options{})
}

// problems returns an input error's messages.
func problems(t *testing.T, err error) []string {
	t.Helper()
	var ie *jobs.InputError
	if !errors.As(err, &ie) {
		t.Fatalf("want an input error, got %v", err)
	}
	var out []string
	for _, p := range ie.Problems {
		out = append(out, p.Error())
	}
	return out
}

var watchRepo = map[string]string{
	"jobctl.yaml":           "project: shop\n",
	"jobs/ci/job.yaml":      "kind: orchestration\nparams:\n  GIT_REF: {type: string, default: main}\nflow:\n  phases:\n    - name: build\n      steps:\n        - job: make\n          params: {REF: '${params.GIT_REF}'}\n",
	"jobs/make/job.yaml":    "kind: worker\nparams:\n  REF: {type: string, required: true}\n",
	"jobs/make/run.sh":      "#!/bin/sh\necho \"$REF\"\n",
	"jobs/watch/run.sh":     "#!/bin/sh\necho \"$GIT_COMMIT\"\n",
	"jobs/watch/job.yaml":   "kind: worker\nwatch:\n  repository: https://git.example.com/shop.git\n  branch: release/2.x\n  paths: [web.app, api/v1]\n  trigger: ci\n",
	"jobs/quiet/run.sh":     "#!/bin/sh\n:\n",
	"jobs/quiet/job.yaml":   "kind: worker\nwatch:\n  repository: /srv/git/shop.git\n  poll: none\n  trigger: ci\n",
	"jobs/plain/run.sh":     "#!/bin/sh\n:\n",
	"jobs/plain/job.yaml":   "kind: worker\n",
	"jobs/nightly/run.sh":   "#!/bin/sh\n:\n",
	"jobs/nightly/job.yaml": "kind: worker\nschedule: '@daily'\nwatch: {repository: /srv/git/shop.git, trigger: ci}\n",
}

// TestWatchXML: a watch compiles to the git plugin's SCM with a path
// restriction, an SCM polling trigger and a parameterized downstream
// build of the trigger's deployed name, which is one of the job's calls.
func TestWatchXML(t *testing.T) {
	res, err := compileWatchRepo(t, watchRepo)
	if err != nil {
		t.Fatal(err)
	}
	ci := res.Def("ci").Deployed
	w := res.Def("watch")
	x := string(w.XML)
	for _, s := range []string{
		`<scm class="hudson.plugins.git.GitSCM" plugin="git">`,
		"<url>https://git.example.com/shop.git</url>",
		"<name>*/release/2.x</name>",
		"<includedRegions>web\\.app/.*\napi/v1/.*</includedRegions>",
		"<hudson.triggers.SCMTrigger>\n      <spec>H/5 * * * *</spec>",
		"<properties>GIT_REF=${GIT_COMMIT}</properties>",
		"<projects>" + ci + "</projects>",
		"<condition>SUCCESS</condition>",
		"<artifacts>report.json</artifacts>",
	} {
		if !strings.Contains(x, s) {
			t.Errorf("the watch job's XML lacks %q:\n%s", s, x)
		}
	}
	if diff := cmp.Diff([]string{ci}, w.CallsDeployed); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	var plugins []string
	for _, p := range w.Plugins {
		plugins = append(plugins, p.Name)
	}
	if diff := cmp.Diff([]string{"git", "parameterized-trigger"}, plugins); diff != "" {
		t.Errorf("plugins (-want +got):\n%s", diff)
	}

	q := string(res.Def("quiet").XML)
	if !strings.Contains(q, "<spec></spec>") || strings.Contains(q, "PathRestriction") || !strings.Contains(q, "<name>*/main</name>") {
		t.Errorf("poll: none, no paths, default branch:\n%s", q)
	}
	n := string(res.Def("nightly").XML)
	if !strings.Contains(n, "<hudson.triggers.TimerTrigger>") || !strings.Contains(n, "<hudson.triggers.SCMTrigger>") {
		t.Errorf("a schedule and a watch make two triggers:\n%s", n)
	}
	p := string(res.Def("plain").XML)
	if !strings.Contains(p, `<scm class="hudson.scm.NullSCM"/>`) || strings.Contains(p, "parameterizedtrigger") {
		t.Errorf("a worker without watch:\n%s", p)
	}

	// The noop build does not watch anything.
	dir := t.TempDir()
	writeRepo(t, dir, watchRepo, false)
	repo, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	noop, err := Compile(repo, &jobs.Lock{}, Options{Noop: &Noop{}})
	if err != nil {
		t.Fatal(err)
	}
	if x := string(noop.Def("watch").XML); strings.Contains(x, "GitSCM") || strings.Contains(x, "SCMTrigger") {
		t.Errorf("the noop watch job polls:\n%s", x)
	}
}

// TestWatchProblems: every mistake in a watch is reported at its place.
func TestWatchProblems(t *testing.T) {
	for _, tc := range []struct {
		name, job string
		want      []string
	}{{
		name: "unknown trigger",
		job:  "kind: worker\nwatch: {repository: /r.git, trigger: cl}\n",
		want: []string{`jobs/w/job.yaml:2:38: watch.trigger: unknown job "cl"; did you mean "ci"?`},
	}, {
		name: "trigger without GIT_REF",
		job:  "kind: worker\nwatch: {repository: /r.git, trigger: make}\n",
		want: []string{`jobs/w/job.yaml:2:38: watch.trigger: make must take the commit in a string param GIT_REF; add it to jobs/make/job.yaml`},
	}, {
		name: "itself",
		job:  "kind: worker\nparams: {GIT_REF: {type: string}}\nwatch: {repository: /r.git, trigger: w}\n",
		want: []string{`jobs/w/job.yaml:3:38: watch.trigger: a job cannot trigger itself`},
	}, {
		name: "bad values",
		job:  "kind: worker\nwatch:\n  repository: 'http://x/a b'\n  branch: -x\n  paths: [../up]\n  poll: every day\n",
		want: []string{
			`jobs/w/job.yaml:2:1: watch needs a trigger: the job to run when the watched paths change`,
			`jobs/w/job.yaml:3:15: watch.repository "http://x/a b": a repository URL or path cannot contain spaces, quotes, '\', '` + "`" + `', '$', '<', '>', '&', ';' or '|'`,
			`jobs/w/job.yaml:4:11: watch.branch "-x": a branch name may hold letters, digits, '_', '.', '-' and '/', without "..", and not start with '-', '.' or '/'`,
			`jobs/w/job.yaml:5:11: watch.paths "../up" must be a folder inside the repository, made of letters, digits, '.', '_', '-' and '/'`,
		},
	}, {
		name: "orchestration",
		job:  "kind: orchestration\nwatch: {repository: /r.git, trigger: ci}\nflow:\n  phases: [{name: a, steps: [{job: make, params: {REF: x}}]}]\n",
		want: []string{`jobs/w/job.yaml:2:1: watch applies to workers only: the worker polls the repository and runs the job named by watch.trigger`},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{}
			for k, v := range watchRepo {
				if !strings.HasPrefix(k, "jobs/watch/") && !strings.HasPrefix(k, "jobs/quiet/") && !strings.HasPrefix(k, "jobs/nightly/") {
					files[k] = v
				}
			}
			files["jobs/w/job.yaml"] = tc.job
			files["jobs/w/run.sh"] = "#!/bin/sh\n:\n"
			_, err := compileWatchRepo(t, files)
			got := problems(t, err)
			// The cron parser's wording is its own; the position is ours.
			var rest []string
			for _, p := range got {
				if strings.HasPrefix(p, "jobs/w/job.yaml:6:9: watch.poll:") {
					continue
				}
				rest = append(rest, p)
			}
			if tc.name == "bad values" && len(rest) == len(got) {
				t.Errorf("no problem with watch.poll at 6:9: %q", got)
			}
			if diff := cmp.Diff(tc.want, rest); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGeneratedJobs: component files and jobctl.yaml's prune schedule
// generate jobs that compile with the repository's own, and a generated
// name that is taken is an error where it comes from.
func TestGeneratedJobs(t *testing.T) {
	files := map[string]string{
		"jobctl.yaml":         "project: shop\nprune:\n  schedule: 'H 4 * * *'\n  older_than: 3d\n  label: tools\n",
		"components/api.yaml": "repository: /srv/git/api.git\nbuild: [make]\ntest: [make test]\npoll: none\n",
		"jobs/hand/job.yaml":  "kind: worker\n",
		"jobs/hand/run.sh":    "#!/bin/sh\n:\n",
	}
	res, err := compileWatchRepo(t, files)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range res.Defs {
		names = append(names, d.Job.Name)
	}
	want := []string{"api-build", "api-test", "hand", "jobctl-prune", "api-build-test", "api-watch"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("compiled jobs, callees first (-want +got):\n%s", diff)
	}
	p := res.Def("jobctl-prune")
	x := string(p.XML)
	for _, s := range []string{"<spec>H 4 * * *</spec>", "<assignedNode>tools</assignedNode>", "window='3d'", "project='shop'", "<concurrentBuild>false</concurrentBuild>"} {
		if !strings.Contains(x, s) {
			t.Errorf("jobctl-prune's XML lacks %q", s)
		}
	}
	if p.Job.File != "build/components/jobs/jobctl-prune/job.yaml" {
		t.Errorf("jobctl-prune's file: %s", p.Job.File)
	}
	if w := string(res.Def("api-watch").XML); !strings.Contains(w, "<spec></spec>") {
		t.Errorf("poll: none did not turn polling off:\n%s", w)
	}

	files["jobs/api-build/job.yaml"] = "kind: worker\n"
	files["jobs/api-build/run.sh"] = "#!/bin/sh\n:\n"
	files["jobs/jobctl-prune/job.yaml"] = "kind: worker\n"
	files["jobs/jobctl-prune/run.sh"] = "#!/bin/sh\n:\n"
	_, err = compileWatchRepo(t, files)
	wantProblems := []string{
		"components/api.yaml:1:1: generates the job api-build, but jobs/api-build/job.yaml already defines it: rename the component or the job",
		"jobctl.yaml:2:1: prune.schedule generates the job jobctl-prune, which another job or a component already makes: rename that",
	}
	if diff := cmp.Diff(wantProblems, problems(t, err)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// TestPruneJobWithoutJobctl: the nightly job says what is missing when
// the agent has no jobctl, in its report's reason.
func TestPruneJobWithoutJobctl(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	dir := t.TempDir()
	writeRepo(t, dir, map[string]string{"jobctl.yaml": "project: shop\nprune: {schedule: '@daily'}\n"}, false)
	repo, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(repo.Jobs) != 1 || repo.Jobs[0].Job.Name != PruneJob {
		t.Fatalf("jobs: %+v, want %s only", repo.Jobs, PruneJob)
	}
	work := t.TempDir()
	body := filepath.Join(work, "run.sh")
	if err := os.WriteFile(body, repo.Jobs[0].Body, 0o755); err != nil {
		t.Fatal(err)
	}
	reason := filepath.Join(work, "reason")
	cmd := exec.Command(bash, body)
	cmd.Env = []string{"PATH=" + work, "JOBCTL_REPORT_REASON=" + reason}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the prune job passed without jobctl:\n%s", out)
	}
	got, _ := os.ReadFile(reason)
	if want := "jobctl is not on this agent's PATH (" + work + "): install it there (see the README, Pruning nightly)\n"; string(got) != want {
		t.Errorf("reason %q, want %q", got, want)
	}
}
