package local

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFreestyleBuildRunsBash(t *testing.T) {
	tm := newTestMaster(t, Config{})
	job := freestyle{
		shell: []string{`#!/bin/bash
set -eu
echo "greeting=$GREETING flag=$FLAG env=$ENV_NAME build=$BUILD_NUMBER job=$JOB_NAME"
echo "url=$BUILD_URL ws=${WORKSPACE##*/} node=$NODE_NAME"
mkdir -p out/sub
echo '{"ok":true}' > report.json
echo hi > out/sub/a.txt
echo no > out/sub/a.log
echo err >&2
`},
		params:    stringParam("GREETING", "hello") + boolParam("FLAG", false) + choiceParam("ENV_NAME", "staging", "production"),
		artifacts: "report.json, out/**/*.txt",
	}
	tm.mustCreate(t, "", "worker", job.xml())
	b := tm.run(t, "job/worker/", url.Values{"GREETING": {"hi there"}, "UNDECLARED": {"x"}})
	if b["result"] != "SUCCESS" {
		t.Fatalf("result %v; console:\n%s", b["result"], tm.get("job/worker/1/consoleText").body)
	}
	console := tm.get("job/worker/1/consoleText")
	if ct := console.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("consoleText Content-Type %q", ct)
	}
	for _, want := range []string{
		"Started by user anonymous\n",
		"greeting=hi there flag=false env=staging build=1 job=worker\n",
		"url=" + tm.url + "job/worker/1/ ws=worker node=built-in\n",
		"err\n",
		"Archiving artifacts\n",
	} {
		if !strings.Contains(console.body, want) {
			t.Errorf("console lacks %q:\n%s", want, console.body)
		}
	}
	if !strings.HasSuffix(console.body, "Finished: SUCCESS\n") {
		t.Errorf("console does not end with Finished: SUCCESS:\n%s", console.body)
	}
	arts := b["artifacts"].([]any)
	want := []any{
		map[string]any{"displayPath": "a.txt", "fileName": "a.txt", "relativePath": "out/sub/a.txt"},
		map[string]any{"displayPath": "report.json", "fileName": "report.json", "relativePath": "report.json"},
	}
	if diff := cmp.Diff(want, arts); diff != "" {
		t.Errorf("artifacts (-want +got):\n%s", diff)
	}
	if r := tm.get("job/worker/1/artifact/report.json"); r.status != 200 || r.body != "{\"ok\":true}\n" {
		t.Errorf("artifact report.json: %s", r)
	}
	if r := tm.get("job/worker/lastSuccessfulBuild/artifact/out/sub/a.txt"); r.status != 200 || r.body != "hi\n" {
		t.Errorf("artifact via permalink: %s", r)
	}
	if r := tm.get("job/worker/1/artifact/out/sub/a.log"); r.status != 404 {
		t.Errorf("unarchived artifact: %s", r)
	}
	actions := b["actions"].([]any)
	wantActions := []any{
		map[string]any{"_class": "hudson.model.ParametersAction", "parameters": []any{
			map[string]any{"_class": "hudson.model.StringParameterValue", "name": "GREETING", "value": "hi there"},
			map[string]any{"_class": "hudson.model.BooleanParameterValue", "name": "FLAG", "value": false},
			map[string]any{"_class": "hudson.model.StringParameterValue", "name": "ENV_NAME", "value": "staging"},
		}},
		map[string]any{"_class": "hudson.model.CauseAction", "causes": []any{
			map[string]any{"_class": "hudson.model.Cause$UserIdCause", "shortDescription": "Started by user anonymous", "userId": nil, "userName": "anonymous"},
		}},
	}
	if diff := cmp.Diff(wantActions, actions); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	if b["id"] != "1" || b["number"] != 1.0 || b["displayName"] != "#1" || b["fullDisplayName"] != "worker #1" {
		t.Errorf("build identity: id %v number %v displayName %v fullDisplayName %v", b["id"], b["number"], b["displayName"], b["fullDisplayName"])
	}
	if b["url"] != tm.url+"job/worker/1/" {
		t.Errorf("url %v", b["url"])
	}
	if ts := int64(b["timestamp"].(float64)); time.Since(time.UnixMilli(ts)) > time.Minute || b["duration"].(float64) <= 0 {
		t.Errorf("timestamp %v duration %v", b["timestamp"], b["duration"])
	}
}

func TestFailingBuildAndShellWithoutShebang(t *testing.T) {
	tm := newTestMaster(t, Config{})
	tm.mustCreate(t, "", "fails", freestyle{shell: []string{"echo before\nfalse\necho after"}}.xml())
	b := tm.run(t, "job/fails/", nil)
	if b["result"] != "FAILURE" {
		t.Errorf("result %v", b["result"])
	}
	c := tm.get("job/fails/1/consoleText").body
	for _, want := range []string{"+ echo before\nbefore\n+ false\n", "Build step 'Execute shell' marked build as failure\n", "Finished: FAILURE\n"} {
		if !strings.Contains(c, want) {
			t.Errorf("console lacks %q:\n%s", want, c)
		}
	}
	if strings.Contains(c, "after") {
		t.Errorf("the script went on after false:\n%s", c)
	}
	job := tm.json("job/fails/api/json")
	if job["color"] != "red" || job["lastFailedBuild"].(map[string]any)["number"] != 1.0 || job["lastSuccessfulBuild"] != nil {
		t.Errorf("job after a failure: color %v lastFailedBuild %v lastSuccessfulBuild %v", job["color"], job["lastFailedBuild"], job["lastSuccessfulBuild"])
	}
}

func TestMissingArtifactsFailTheBuild(t *testing.T) {
	tm := newTestMaster(t, Config{})
	tm.mustCreate(t, "", "noart", freestyle{shell: []string{"true"}, artifacts: "report.json"}.xml())
	tm.mustCreate(t, "", "empty-ok", freestyle{shell: []string{"true"}, artifacts: "report.json", allowEmpty: true}.xml())
	tm.mustCreate(t, "", "link", freestyle{shell: []string{"echo secret > ../secret.txt; ln -s ../secret.txt report.json"}, artifacts: "report.json"}.xml())
	b := tm.run(t, "job/noart/", nil)
	if b["result"] != "FAILURE" {
		t.Errorf("noart: result %v", b["result"])
	}
	if c := tm.get("job/noart/1/consoleText").body; !strings.Contains(c, `ERROR: No artifacts found that match the file pattern "report.json". Configuration error?`) {
		t.Errorf("noart console:\n%s", c)
	}
	if b := tm.run(t, "job/empty-ok/", nil); b["result"] != "SUCCESS" {
		t.Errorf("empty-ok: result %v", b["result"])
	}
	if b := tm.run(t, "job/link/", nil); b["result"] != "FAILURE" || len(b["artifacts"].([]any)) != 0 {
		t.Errorf("a symlinked artifact: result %v artifacts %v", b["result"], b["artifacts"])
	}
}

func TestStopAbortsBuild(t *testing.T) {
	tm := newTestMaster(t, Config{})
	tm.mustCreate(t, "", "slow", freestyle{shell: []string{"#!/bin/bash\necho started\nsleep 30 &\nwait\necho never"}}.xml())
	n := tm.waitQueue(t, tm.trigger(t, "job/slow/", nil))
	waitConsole(t, tm, "job/slow/1/", "started\n")
	if job := tm.json("job/slow/api/json"); job["color"] != "notbuilt_anime" {
		t.Errorf("color while building: %v", job["color"])
	}
	r := tm.post(fmt.Sprintf("job/slow/%d/stop", n), "", "")
	if r.status != 302 {
		t.Fatalf("stop: %s", r)
	}
	start := time.Now()
	b := tm.waitBuild(t, "job/slow/", n)
	if b["result"] != "ABORTED" {
		t.Errorf("result %v", b["result"])
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("the build took %v to stop", time.Since(start))
	}
	c := tm.get("job/slow/1/consoleText").body
	if !strings.Contains(c, "Aborted by anonymous\n") || !strings.HasSuffix(c, "Finished: ABORTED\n") || strings.Contains(c, "never") {
		t.Errorf("console:\n%s", c)
	}
	if job := tm.json("job/slow/api/json"); job["color"] != "aborted" {
		t.Errorf("color after abort: %v", job["color"])
	}
}

func waitConsole(t *testing.T, tm *tmaster, buildPath, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(tm.get(buildPath+"consoleText").body, want) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s console never showed %q:\n%s", buildPath, want, tm.get(buildPath+"consoleText").body)
}

func TestProgressiveText(t *testing.T) {
	tm := newTestMaster(t, Config{})
	tm.mustCreate(t, "", "chatty", freestyle{shell: []string{"#!/bin/bash\necho one\nwhile [ ! -e go ]; do sleep 0.01; done\necho two"}}.xml())
	n := tm.waitQueue(t, tm.trigger(t, "job/chatty/", nil))
	waitConsole(t, tm, "job/chatty/1/", "one\n")
	r := tm.get(fmt.Sprintf("job/chatty/%d/logText/progressiveText?start=0", n))
	if r.status != 200 || r.header.Get("X-More-Data") != "true" || !strings.Contains(r.body, "one\n") {
		t.Fatalf("first chunk: %s %v", r, r.header)
	}
	size, _ := strconv.Atoi(r.header.Get("X-Text-Size"))
	if size != len(r.body) {
		t.Errorf("X-Text-Size %d, body %d bytes", size, len(r.body))
	}
	ws := filepath.Join(tm.m.home, "workspace", "chatty")
	if err := os.WriteFile(filepath.Join(ws, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var rest strings.Builder
	for {
		r := tm.get(fmt.Sprintf("job/chatty/%d/logText/progressiveText?start=%d", n, size))
		rest.WriteString(r.body)
		size, _ = strconv.Atoi(r.header.Get("X-Text-Size"))
		if r.header.Get("X-More-Data") != "true" {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(rest.String(), "two\n") || !strings.HasSuffix(rest.String(), "Finished: SUCCESS\n") {
		t.Errorf("the rest of the log: %q", rest.String())
	}
	if all := tm.get(fmt.Sprintf("job/chatty/%d/consoleText", n)).body; len(all) != size {
		t.Errorf("final X-Text-Size %d, log %d bytes", size, len(all))
	}
	if r := tm.get(fmt.Sprintf("job/chatty/%d/logText/progressiveText?start=%d", n, size+100)); !strings.HasPrefix(r.body, "Started by") {
		t.Errorf("a start beyond the end should start again from 0: %q", r.body)
	}
}

// TestHandlerWithoutStart serves the master through httptest: builds
// start with the first request and learn the master's URL from it.
func TestHandlerWithoutStart(t *testing.T) {
	m, err := New(Config{Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	defer m.Close(context.Background())
	tm := client(m, srv.URL+"/", "", "")
	tm.mustCreate(t, "", "env", freestyle{shell: []string{"echo \"url=$BUILD_URL\""}}.xml())
	tm.run(t, "job/env/", nil)
	if c := tm.get("job/env/1/consoleText").body; !strings.Contains(c, "url="+srv.URL+"/job/env/1/\n") {
		t.Errorf("console:\n%s", c)
	}
}

func TestAntMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, path string
		want          bool
	}{
		{"report.json", "report.json", true},
		{"report.json", "sub/report.json", false},
		{"*.json", "report.json", true},
		{"*.json", "sub/report.json", false},
		{"**/*.json", "report.json", true},
		{"**/*.json", "a/b/report.json", true},
		{"out/**", "out/a/b.txt", true},
		{"out/", "out/a/b.txt", true},
		{"out/**/*.txt", "out/x.txt", true},
		{"out/**/*.txt", "other/x.txt", false},
		{"?.txt", "a.txt", true},
		{"?.txt", "ab.txt", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"**", "anything/at/all", true},
		{"/etc/passwd", "etc/passwd", false},
		{"../x", "x", false},
		{"OUT/*.TXT", "out/a.txt", false},
	} {
		if got := antMatch(tc.pattern, tc.path, true); got != tc.want {
			t.Errorf("antMatch(%q, %q) = %v, want %v", tc.pattern, tc.path, got, tc.want)
		}
	}
	if !antMatch("OUT/*.TXT", "out/a.txt", false) {
		t.Errorf("case-insensitive matching failed")
	}
	if got := antPatterns(" a.txt, b/**/*.json ,,c d.txt"); !cmp.Equal(got, []string{"a.txt", "b/**/*.json", "c d.txt"}) {
		t.Errorf("antPatterns: %q", got)
	}
}
