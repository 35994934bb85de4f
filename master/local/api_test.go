package local

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTreeParsing(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // the tree printed back
		err  bool
	}{
		{in: "jobs", want: "jobs"},
		{in: "jobs[name,url]", want: "jobs[name,url]"},
		{in: "jobs[name,lastBuild[number,result]]{0,10}", want: "jobs[name,lastBuild[number,result]]{0,10}"},
		{in: "jobs[name]{5}", want: "jobs[name]{5,6}"},
		{in: "jobs[name]{5,}", want: "jobs[name]{5,}"},
		{in: "jobs[name]{,3}", want: "jobs[name]{0,3}"},
		{in: " name , url ", want: "name,url"},
		{in: "*", want: "*"},
		{in: "jobs[...]", want: "jobs[...]"},
		{in: "jobs[name", err: true},
		{in: "jobs]", err: true},
		{in: "", err: true},
		{in: "a,,b", err: true},
		{in: "jobs{x}", err: true},
		{in: "jobs{1", err: true},
	} {
		got, err := parseTree(tc.in)
		if tc.err {
			if err == nil {
				t.Errorf("parseTree(%q) = %s, want an error", tc.in, printTree(got))
			}
			continue
		}
		if err != nil {
			t.Errorf("parseTree(%q): %v", tc.in, err)
			continue
		}
		if s := printTree(got); s != tc.want {
			t.Errorf("parseTree(%q) = %s, want %s", tc.in, s, tc.want)
		}
	}
}

func printTree(t *tree) string {
	var parts []string
	for _, k := range t.kids {
		s := k.name
		if len(k.sub.kids) > 0 {
			s += "[" + printTree(k.sub) + "]"
		}
		if k.lo != 0 || k.hi >= 0 {
			s += "{" + strconv.Itoa(k.lo) + ","
			if k.hi >= 0 {
				s += strconv.Itoa(k.hi)
			}
			s += "}"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ",")
}

// decode parses a JSON body into generic values.
func decode(t *testing.T, r resp) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	return v
}

func TestRootAndJobJSON(t *testing.T) {
	tm := newTestMaster(t, Config{})
	tm.mustCreate(t, "", "a", freestyle{shell: []string{"true"}, description: "job a"}.xml())
	tm.mustCreate(t, "", "F", folderXML)
	tm.mustCreate(t, "job/F/", "c", freestyle{shell: []string{"exit 1"}}.xml())
	tm.run(t, "job/a/", nil)
	tm.run(t, "job/F/job/c/", nil)
	u := tm.url
	for _, tc := range []struct {
		path string
		want any
	}{
		{"api/json?tree=jobs[name,color]", map[string]any{
			"_class": "hudson.model.Hudson",
			"jobs": []any{
				map[string]any{"_class": classFreestyle, "name": "a", "color": "blue"},
				map[string]any{"_class": classFolder, "name": "F"},
			},
		}},
		{"api/json?tree=jobs[name,jobs[name,lastBuild[number,result]]]", map[string]any{
			"_class": "hudson.model.Hudson",
			"jobs": []any{
				map[string]any{"_class": classFreestyle, "name": "a"},
				map[string]any{"_class": classFolder, "name": "F", "jobs": []any{
					map[string]any{"_class": classFreestyle, "name": "c", "lastBuild": map[string]any{"_class": classFreestyleBuild, "number": 1.0, "result": "FAILURE"}},
				}},
			},
		}},
		{"api/json?tree=jobs[name]{1,}", map[string]any{
			"_class": "hudson.model.Hudson",
			"jobs":   []any{map[string]any{"_class": classFolder, "name": "F"}},
		}},
		{"api/json?tree=jobs[lastBuild]{0}", map[string]any{
			"_class": "hudson.model.Hudson",
			"jobs":   []any{map[string]any{"_class": classFreestyle, "lastBuild": map[string]any{"_class": classFreestyleBuild}}},
		}},
		{"job/a/api/json?tree=name,fullName,nextBuildNumber,builds[number],lastBuild[number]", map[string]any{
			"_class": classFreestyle, "name": "a", "fullName": "a", "nextBuildNumber": 2.0,
			"builds":    []any{map[string]any{"_class": classFreestyleBuild, "number": 1.0}},
			"lastBuild": map[string]any{"_class": classFreestyleBuild, "number": 1.0},
		}},
		{"job/F/job/c/api/json?tree=name,fullName,fullDisplayName,url", map[string]any{
			"_class": classFreestyle, "name": "c", "fullName": "F/c", "fullDisplayName": "F » c", "url": u + "job/F/job/c/",
		}},
		{"job/F/api/json?tree=jobs[name],primaryView[name,url],views[name]", map[string]any{
			"_class":      classFolder,
			"jobs":        []any{map[string]any{"_class": classFreestyle, "name": "c"}},
			"primaryView": map[string]any{"_class": classAllView, "name": "All", "url": u + "job/F/"},
			"views":       []any{map[string]any{"_class": classAllView, "name": "All"}},
		}},
		{"job/a/1/api/json?tree=id,number,result,building,queueId", map[string]any{
			"_class": classFreestyleBuild, "id": "1", "number": 1.0, "result": "SUCCESS", "building": false, "queueId": 1.0,
		}},
		{"job/a/lastBuild/api/json?tree=number", map[string]any{"_class": classFreestyleBuild, "number": 1.0}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			r := tm.get(tc.path)
			if r.status != 200 {
				t.Fatalf("%s", r)
			}
			if diff := cmp.Diff(tc.want, decode(t, r)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	// Depth 0: the root's jobs have only _class, name, url, color; a job's
	// lastBuild only _class, number, url.
	root := tm.json("api/json")
	wantJobs := []any{
		map[string]any{"_class": classFreestyle, "name": "a", "url": u + "job/a/", "color": "blue"},
		map[string]any{"_class": classFolder, "name": "F", "url": u + "job/F/"},
	}
	if diff := cmp.Diff(wantJobs, root["jobs"]); diff != "" {
		t.Errorf("root jobs at depth 0 (-want +got):\n%s", diff)
	}
	for _, k := range []string{"_class", "assignedLabels", "mode", "nodeName", "numExecutors", "jobs", "views", "primaryView", "useCrumbs", "useSecurity", "url"} {
		if _, ok := root[k]; !ok {
			t.Errorf("root JSON lacks %s", k)
		}
	}
	if diff := cmp.Diff([]any{map[string]any{"name": "built-in"}}, root["assignedLabels"]); diff != "" {
		t.Errorf("assignedLabels (-want +got):\n%s", diff)
	}
	job := tm.json("job/a/api/json")
	if diff := cmp.Diff(map[string]any{"_class": classFreestyleBuild, "number": 1.0, "url": u + "job/a/1/"}, job["lastBuild"]); diff != "" {
		t.Errorf("lastBuild at depth 0 (-want +got):\n%s", diff)
	}
	for k, want := range map[string]any{"description": "job a", "buildable": true, "color": "blue", "inQueue": false, "queueItem": nil,
		"concurrentBuild": false, "disabled": false, "nextBuildNumber": 2.0, "lastFailedBuild": nil, "property": []any{}} {
		if diff := cmp.Diff(want, job[k]); diff != "" {
			t.Errorf("job %s (-want +got):\n%s", k, diff)
		}
	}
	// Depth 2: the root's jobs' last builds have timestamps.
	deep := tm.json("api/json?depth=2")
	lb := deep["jobs"].([]any)[0].(map[string]any)["lastBuild"].(map[string]any)
	if _, ok := lb["timestamp"]; !ok {
		t.Errorf("depth=2: lastBuild lacks timestamp: %v", lb)
	}
	one := tm.json("api/json?depth=1")
	lb = one["jobs"].([]any)[0].(map[string]any)["lastBuild"].(map[string]any)
	if _, ok := lb["timestamp"]; ok {
		t.Errorf("depth=1: lastBuild has a timestamp: %v", lb)
	}
}

func TestParameterDefinitionsJSON(t *testing.T) {
	tm := newTestMaster(t, Config{})
	tm.mustCreate(t, "", "p", freestyle{params: stringParam("S", "d") + boolParam("B", true) + choiceParam("C", "x", "y") +
		"<hudson.model.PasswordParameterDefinition><name>P</name><defaultValue>pw</defaultValue></hudson.model.PasswordParameterDefinition>"}.xml())
	job := tm.json("job/p/api/json")
	want := []any{map[string]any{
		"_class": propParams,
		"parameterDefinitions": []any{
			map[string]any{"_class": "hudson.model.StringParameterDefinition", "name": "S", "type": "StringParameterDefinition", "description": "the S",
				"defaultParameterValue": map[string]any{"_class": "hudson.model.StringParameterValue", "name": "S", "value": "d"}},
			map[string]any{"_class": "hudson.model.BooleanParameterDefinition", "name": "B", "type": "BooleanParameterDefinition", "description": "",
				"defaultParameterValue": map[string]any{"_class": "hudson.model.BooleanParameterValue", "name": "B", "value": true}},
			map[string]any{"_class": "hudson.model.ChoiceParameterDefinition", "name": "C", "type": "ChoiceParameterDefinition", "description": "",
				"choices":               []any{"x", "y"},
				"defaultParameterValue": map[string]any{"_class": "hudson.model.StringParameterValue", "name": "C", "value": "x"}},
			map[string]any{"_class": "hudson.model.PasswordParameterDefinition", "name": "P", "type": "PasswordParameterDefinition", "description": nil,
				"defaultParameterValue": map[string]any{"_class": "hudson.model.PasswordParameterValue", "name": "P"}},
		},
	}}
	if diff := cmp.Diff(want, job["property"]); diff != "" {
		t.Errorf("property (-want +got):\n%s", diff)
	}
}

func TestHTTPConventions(t *testing.T) {
	tm := newTestMaster(t, Config{})
	tm.mustCreate(t, "", "a", freestyle{shell: []string{"true"}}.xml())
	for _, tc := range []struct {
		name        string
		method      string
		path        string
		contentType string
		body        string
		status      int
		check       func(t *testing.T, r resp)
	}{
		{name: "root", method: "GET", path: "", status: 200},
		{name: "repeated slashes", method: "GET", path: "//job///a//api/json", status: 200},
		{name: "trailing slash", method: "GET", path: "job/a/config.xml/", status: 200, check: func(t *testing.T, r resp) {
			if !strings.HasPrefix(r.body, "<?xml version='1.1' encoding='UTF-8'?>\n<project>") {
				t.Errorf("config.xml: %.80q", r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/xml" {
				t.Errorf("Content-Type %q", ct)
			}
		}},
		{name: "tokens after api/json", method: "GET", path: "crumbIssuer/api/json/api/json", status: 200},
		{name: "percent-encoded name", method: "GET", path: "job/%61/api/json", status: 200},
		{name: "missing job", method: "GET", path: "job/nope/api/json", status: 404, check: isHTML},
		{name: "missing build", method: "GET", path: "job/a/7/api/json", status: 404, check: isHTML},
		{name: "no lastBuild yet", method: "GET", path: "job/a/lastBuild/api/json", status: 404},
		{name: "unknown action", method: "GET", path: "job/a/nonsense", status: 404},
		{name: "api/xml", method: "GET", path: "api/xml", status: 404},
		{name: "bad tree", method: "GET", path: "api/json?tree=jobs[", status: 400, check: hasXError},
		{name: "bad depth", method: "GET", path: "api/json?depth=x", status: 400},
		{name: "createItem GET", method: "GET", path: "createItem?name=x", status: 405},
		{name: "build GET", method: "GET", path: "job/a/build", status: 405},
		{name: "buildWithParameters GET", method: "GET", path: "job/a/buildWithParameters", status: 405},
		{name: "whoAmI", method: "GET", path: "whoAmI/api/json", status: 200, check: func(t *testing.T, r resp) {
			v := decode(t, r).(map[string]any)
			if v["_class"] != "hudson.security.WhoAmI" || v["name"] != "anonymous" || v["anonymous"] != true {
				t.Errorf("whoAmI %v", v)
			}
		}},
		{name: "me anonymous", method: "GET", path: "me/api/json", status: 403},
		{name: "plugins depth 1", method: "GET", path: "pluginManager/api/json?depth=1", status: 200, check: func(t *testing.T, r resp) {
			p := decode(t, r).(map[string]any)["plugins"].([]any)[0].(map[string]any)
			if p["shortName"] != "cloudbees-folder" || p["longName"] != "Folders Plugin" || p["active"] != true || p["enabled"] != true {
				t.Errorf("plugin %v", p)
			}
			if diff := cmp.Diff([]any{map[string]any{}}, p["dependencies"]); diff != "" {
				t.Errorf("dependencies at depth 1 (-want +got):\n%s", diff)
			}
		}},
		{name: "plugins depth 2", method: "GET", path: "pluginManager/api/json?depth=2", status: 200, check: func(t *testing.T, r resp) {
			p := decode(t, r).(map[string]any)["plugins"].([]any)[0].(map[string]any)
			want := []any{map[string]any{"shortName": "credentials", "version": "1408.va_622a_b_f5b_1b_1", "optional": false}}
			if diff := cmp.Diff(want, p["dependencies"]); diff != "" {
				t.Errorf("dependencies at depth 2 (-want +got):\n%s", diff)
			}
		}},
		{name: "queue", method: "GET", path: "queue/api/json", status: 200, check: func(t *testing.T, r resp) {
			if diff := cmp.Diff(map[string]any{"_class": "hudson.model.Queue", "discoverableItems": []any{}, "items": []any{}}, decode(t, r)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		}},
		{name: "computer", method: "GET", path: "computer/api/json", status: 200},
		{name: "missing queue item", method: "GET", path: "queue/item/99/api/json", status: 404},
		{name: "cancel missing", method: "POST", path: "queue/cancelItem?id=99", status: 404},
		{name: "job page", method: "GET", path: "job/a/", status: 200, check: isHTML},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r resp
			if tc.method == "POST" {
				r = tm.post(tc.path, tc.contentType, tc.body)
			} else {
				r = tm.do(tc.method, tc.path, tc.body)
			}
			if r.status != tc.status {
				t.Fatalf("status %s, want %d", r, tc.status)
			}
			if r.header.Get("X-Jenkins") != "2.578" || r.header.Get("X-Jenkins-Session") == "" {
				t.Errorf("X-Jenkins %q, X-Jenkins-Session %q", r.header.Get("X-Jenkins"), r.header.Get("X-Jenkins-Session"))
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func isHTML(t *testing.T, r resp) {
	t.Helper()
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(r.body, "<html>") {
		t.Errorf("not an HTML page: %q %q", r.header.Get("Content-Type"), r.body)
	}
}

func hasXError(t *testing.T, r resp) {
	t.Helper()
	if r.header.Get("X-Error") == "" {
		t.Errorf("no X-Error")
	}
	isHTML(t, r)
}

func TestCreateItemChecks(t *testing.T) {
	tm := newTestMaster(t, Config{})
	cfg := freestyle{shell: []string{"true"}}.xml()
	tm.mustCreate(t, "", "exists", cfg)
	for _, tc := range []struct {
		name        string
		path        string
		contentType string
		body        string
		status      int
		xerror      string
	}{
		{"ok", "createItem?name=ok", "application/xml", cfg, 200, ""},
		{"text/xml with charset", "createItem?name=ok2", "text/xml; charset=utf-8", cfg, 200, ""},
		{"XML 1.1", "createItem?name=ok3", "application/xml", strings.Replace(cfg, "version='1.0'", "version='1.1'", 1), 200, ""},
		{"no content type", "createItem?name=x", "", cfg, 400, "No Content-Type header set"},
		{"no name", "createItem", "application/xml", cfg, 400, "Query parameter 'name' is required"},
		{"empty name", "createItem?name=", "application/xml", cfg, 400, "No name is specified"},
		{"exists", "createItem?name=exists", "application/xml", cfg, 400, "A job already exists with the name ‘exists’"},
		{"exists case-insensitively", "createItem?name=EXISTS", "application/xml", cfg, 400, "A job already exists with the name ‘EXISTS’"},
		{"slash", "createItem?name=a%2Fb", "application/xml", cfg, 400, "‘/’ is an unsafe character"},
		{"backslash", "createItem?name=a%5Cb", "application/xml", cfg, 400, "‘\\’ is an unsafe character"},
		{"percent", "createItem?name=a%25b", "application/xml", cfg, 400, "‘%’ is an unsafe character"},
		{"question mark", "createItem?name=a%3Fb", "application/xml", cfg, 400, "‘?’ is an unsafe character"},
		{"dot", "createItem?name=.", "application/xml", cfg, 400, "“.” is not an allowed name"},
		{"dot dot", "createItem?name=..", "application/xml", cfg, 400, "“..” is not an allowed name"},
		{"trailing dot", "createItem?name=a.", "application/xml", cfg, 400, "A name cannot end with ‘.’"},
		{"NUL", "createItem?name=a%00b", "application/xml", cfg, 400, "No control code is allowed: a\\u0000b"},
		{"missing folder", "job/nofolder/createItem?name=x", "application/xml", cfg, 404, ""},
		{"malformed XML", "createItem?name=bad", "application/xml", "<project><builders></project>", 500, ""},
		{"truncated XML", "createItem?name=bad", "application/xml", cfg[:len(cfg)-20], 500, ""},
		{"unknown root", "createItem?name=bad", "application/xml", "<maven2-moduleset/>", 500, ""},
		{"DOCTYPE", "createItem?name=bad", "application/xml", `<!DOCTYPE project [<!ENTITY x SYSTEM "file:///etc/passwd">]><project>&x;</project>`, 500, ""},
		{"bad cron", "createItem?name=bad", "application/xml", freestyle{timer: "61 * * * *"}.xml(), 500, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tm.post(tc.path, tc.contentType, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %s, want %d", r, tc.status)
			}
			if got := r.header.Get("X-Error"); got != tc.xerror {
				t.Errorf("X-Error %q, want %q", got, tc.xerror)
			}
			if tc.status == 200 && (r.body != "" || r.header.Get("Content-Length") != "0") {
				t.Errorf("a 200 should be empty with Content-Length: 0: %q %q", r.body, r.header.Get("Content-Length"))
			}
		})
	}
	// Nothing was created for the refused ones.
	var names []string
	for _, j := range tm.json("api/json?tree=jobs[name]")["jobs"].([]any) {
		names = append(names, j.(map[string]any)["name"].(string))
	}
	if diff := cmp.Diff([]string{"exists", "ok", "ok2", "ok3"}, names); diff != "" {
		t.Errorf("jobs (-want +got):\n%s", diff)
	}
	ents, _ := os.ReadDir(filepath.Join(tm.m.home, "jobs"))
	if len(ents) != 4 {
		t.Errorf("jobs/ holds %d entries", len(ents))
	}
	// tmp/ holds only the directories made ahead, with empty files.
	filepath.WalkDir(filepath.Join(tm.m.home, "tmp"), func(p string, d os.DirEntry, err error) error {
		if fi, err := d.Info(); err == nil && fi.Mode().IsRegular() && fi.Size() != 0 {
			t.Errorf("%s is not empty", p)
		}
		return nil
	})
}

func TestConfigXML(t *testing.T) {
	tm := newTestMaster(t, Config{})
	tm.mustCreate(t, "", "a", freestyle{shell: []string{"true"}, description: "one"}.xml())
	before := tm.get("job/a/config.xml").body
	if r := tm.post("job/a/config.xml", "application/xml", "<project><description>two"); r.status != 500 {
		t.Errorf("malformed config: %s", r)
	}
	if r := tm.post("job/a/config.xml", "application/xml", pipelineXML("echo 1", true, "")); r.status != 500 {
		t.Errorf("a pipeline config for a freestyle job: %s", r)
	}
	if after := tm.get("job/a/config.xml").body; after != before {
		t.Errorf("a refused config changed the job:\n%s", after)
	}
	r := tm.post("job/a/config.xml", "text/xml", freestyle{shell: []string{"true"}, description: "two &amp; more", params: stringParam("X", "")}.xml())
	if r.status != 200 || r.body != "" {
		t.Fatalf("config.xml POST: %s", r)
	}
	job := tm.json("job/a/api/json?tree=description,property[parameterDefinitions[name]]")
	want := map[string]any{"_class": classFreestyle, "description": "two &amp; more", "property": []any{map[string]any{
		"_class": propParams, "parameterDefinitions": []any{map[string]any{"_class": "hudson.model.StringParameterDefinition", "name": "X"}}}}}
	if diff := cmp.Diff(want, job); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if r := tm.get("job/a/config.xml"); !strings.Contains(r.body, "<description>two &amp;amp; more</description>") {
		t.Errorf("config.xml after POST:\n%s", r.body)
	}
}

func TestDeleteEnableDisable(t *testing.T) {
	tm := newTestMaster(t, Config{})
	tm.mustCreate(t, "", "F", folderXML)
	tm.mustCreate(t, "job/F/", "c", freestyle{shell: []string{"true"}}.xml())
	tm.mustCreate(t, "", "d", freestyle{shell: []string{"true"}}.xml())
	if r := tm.post("job/d/disable", "", ""); r.status != 302 || r.header.Get("Location") != tm.url+"job/d/" {
		t.Errorf("disable: %s %v", r, r.header.Get("Location"))
	}
	if j := tm.json("job/d/api/json"); j["color"] != "disabled" || j["disabled"] != true || j["buildable"] != false {
		t.Errorf("disabled job: color %v disabled %v buildable %v", j["color"], j["disabled"], j["buildable"])
	}
	if !strings.Contains(tm.get("job/d/config.xml").body, "<disabled>true</disabled>") {
		t.Errorf("config.xml does not say disabled")
	}
	if r := tm.post("job/d/build", "", ""); r.status != 409 {
		t.Errorf("building a disabled job: %s", r)
	}
	if r := tm.post("job/d/enable", "", ""); r.status != 302 {
		t.Errorf("enable: %s", r)
	}
	if j := tm.json("job/d/api/json"); j["color"] != "notbuilt" {
		t.Errorf("enabled job: color %v", j["color"])
	}
	if r := tm.post("job/F/job/c/doDelete", "", ""); r.status != 302 || r.header.Get("Location") != tm.url+"job/F/" {
		t.Errorf("doDelete: %s %v", r, r.header.Get("Location"))
	}
	if r := tm.get("job/F/job/c/api/json"); r.status != 404 {
		t.Errorf("deleted job: %s", r)
	}
	if r := tm.do("DELETE", "job/F/", ""); r.status != 204 {
		t.Errorf("DELETE folder: %s", r)
	}
	if r := tm.get("job/F/api/json"); r.status != 404 {
		t.Errorf("deleted folder: %s", r)
	}
	if _, err := os.Stat(filepath.Join(tm.m.home, "jobs", "F")); !os.IsNotExist(err) {
		t.Errorf("the folder's directory is still there: %v", err)
	}
	if r := tm.post("job/d/doDelete", "", ""); r.status != 302 || r.header.Get("Location") != tm.url {
		t.Errorf("doDelete at the root: %s %v", r, r.header.Get("Location"))
	}
}

func TestRenameAndCopy(t *testing.T) {
	tm := newTestMaster(t, Config{})
	tm.mustCreate(t, "", "a", freestyle{shell: []string{"true"}}.xml())
	tm.run(t, "job/a/", nil)
	if r := tm.post("job/a/doRename?newName=b", "", ""); r.status != 302 || r.header.Get("Location") != tm.url+"job/b/" {
		t.Fatalf("rename: %s", r)
	}
	if r := tm.get("job/a/api/json"); r.status != 404 {
		t.Errorf("old name: %s", r)
	}
	if b := tm.json("job/b/1/api/json"); b["url"] != tm.url+"job/b/1/" {
		t.Errorf("the renamed job's build: %v", b["url"])
	}
	if r := tm.post("createItem?name=c&mode=copy&from=b", "", ""); r.status != 302 {
		t.Fatalf("copy: %s", r)
	}
	if j := tm.json("job/c/api/json"); j["nextBuildNumber"] != 1.0 || j["lastBuild"] != nil {
		t.Errorf("copy has builds: %v", j)
	}
	if r := tm.post("createItem?name=d&mode=copy&from=nope", "", ""); r.status != 400 {
		t.Errorf("copy of a missing job: %s", r)
	}
}

func TestViews(t *testing.T) {
	tm := newTestMaster(t, Config{})
	tm.mustCreate(t, "", "a", freestyle{}.xml())
	tm.mustCreate(t, "", "b", freestyle{}.xml())
	view, err := os.ReadFile("testdata/view.xml")
	if err != nil {
		t.Fatal(err)
	}
	if r := tm.post("createView?name=latest", "application/xml", string(view)); r.status != 200 || r.body != "" {
		t.Fatalf("createView: %s", r)
	}
	if r := tm.post("createView?name=latest", "application/xml", string(view)); r.status != 400 || r.header.Get("X-Error") != `A view already exists with the name "latest"` {
		t.Errorf("createView again: %s %q", r, r.header.Get("X-Error"))
	}
	got := tm.json("view/latest/api/json")
	want := map[string]any{"_class": classListView, "name": "latest", "url": tm.url + "view/latest/", "jobs": []any{},
		"description": "The latest version of every job of modelshop, as deployed by jobctl.", "property": []any{}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if r := tm.post("view/latest/addJobToView?name=b", "", ""); r.status != 200 || r.body != "" || r.header.Get("Content-Length") != "0" {
		t.Errorf("addJobToView: %s %v", r, r.header)
	}
	tm.post("view/latest/addJobToView?name=a", "", "")
	if r := tm.post("view/latest/addJobToView?name=nope", "", ""); r.status != 400 {
		t.Errorf("addJobToView of a missing job: %s", r)
	}
	got = tm.json("view/latest/api/json?tree=jobs[name]")
	if diff := cmp.Diff([]any{map[string]any{"_class": classFreestyle, "name": "a"}, map[string]any{"_class": classFreestyle, "name": "b"}}, got["jobs"]); diff != "" {
		t.Errorf("view jobs (-want +got):\n%s", diff)
	}
	if cfg := tm.get("view/latest/config.xml").body; !strings.Contains(cfg, "<string>a</string>") || !strings.Contains(cfg, "<string>b</string>") {
		t.Errorf("view config:\n%s", cfg)
	}
	tm.post("view/latest/removeJobFromView?name=a", "", "")
	if r := tm.post("job/b/doDelete", "", ""); r.status != 302 {
		t.Errorf("delete b: %s", r)
	}
	if got := tm.json("view/latest/api/json?tree=jobs[name]"); len(got["jobs"].([]any)) != 0 {
		t.Errorf("view jobs after removing a and deleting b: %v", got["jobs"])
	}
	// Replace the config, list jobs by regex.
	if r := tm.post("view/latest/config.xml", "application/xml", `<hudson.model.ListView><name>other</name><includeRegex>a.*</includeRegex></hudson.model.ListView>`); r.status != 200 {
		t.Errorf("view config.xml POST: %s", r)
	}
	if got := tm.json("view/latest/api/json?tree=name,jobs[name]"); got["name"] != "latest" || len(got["jobs"].([]any)) != 1 {
		t.Errorf("view after config.xml: %v", got)
	}
	root := tm.json("api/json?tree=views[name],primaryView[name]")
	wantRoot := map[string]any{"_class": "hudson.model.Hudson",
		"views":       []any{map[string]any{"_class": classAllView, "name": "all"}, map[string]any{"_class": classListView, "name": "latest"}},
		"primaryView": map[string]any{"_class": classAllView, "name": "all"}}
	if diff := cmp.Diff(wantRoot, root); diff != "" {
		t.Errorf("root views (-want +got):\n%s", diff)
	}
	if r := tm.post("view/all/doDelete", "", ""); r.status != 400 {
		t.Errorf("deleting the primary view: %s", r)
	}
	if r := tm.post("view/latest/doDelete", "", ""); r.status != 302 {
		t.Errorf("doDelete view: %s", r)
	}
	if r := tm.get("view/latest/api/json"); r.status != 404 {
		t.Errorf("deleted view: %s", r)
	}
	// Folder views.
	tm.mustCreate(t, "", "F", folderXML)
	tm.mustCreate(t, "job/F/", "c", freestyle{}.xml())
	if r := tm.post("job/F/createView?name=v", "application/xml", string(view)); r.status != 200 {
		t.Fatalf("folder createView: %s", r)
	}
	tm.post("job/F/view/v/addJobToView?name=c", "", "")
	got = tm.json("job/F/view/v/api/json?tree=url,jobs[name,url]")
	wantFolder := map[string]any{"_class": classListView, "url": tm.url + "job/F/view/v/", "jobs": []any{map[string]any{"_class": classFreestyle, "name": "c", "url": tm.url + "job/F/job/c/"}}}
	if diff := cmp.Diff(wantFolder, got); diff != "" {
		t.Errorf("folder view (-want +got):\n%s", diff)
	}
	if r := tm.get("job/F/view/v/job/c/api/json?tree=name"); r.status != 200 {
		t.Errorf("a job through its view's URL: %s", r)
	}
	if r := tm.post("createView?name=w", "", ""); r.status != 400 || r.header.Get("X-Error") != "No Content-Type header set" {
		t.Errorf("createView without content type: %s", r)
	}
	if r := tm.post("createView?name=w&mode=hudson.model.ListView", "application/x-www-form-urlencoded", ""); r.status != 302 {
		t.Errorf("createView in form mode: %s", r)
	}
}

func TestPathEscapesAreRefused(t *testing.T) {
	tm := newTestMaster(t, Config{})
	tm.mustCreate(t, "", "a", freestyle{shell: []string{"echo x > f.txt"}, artifacts: "f.txt"}.xml())
	tm.run(t, "job/a/", nil)
	secret := filepath.Join(tm.m.home, "secret.txt")
	os.WriteFile(secret, []byte("secret"), 0o600)
	for _, p := range []string{
		"job/a/1/artifact/..%2F..%2F..%2Fsecret.txt",
		"job/a/1/artifact/%2E%2E/%2E%2E/%2E%2E/secret.txt",
		"job/a/1/artifact/..%5C..%5Csecret.txt",
		"job/a/1/artifact/f.txt%00",
		"job/a/1/artifact/" + url.PathEscape(secret),
		"job/..%2F..%2Fsecret.txt/api/json",
		"job/%2E%2E/api/json",
		"view/..%2Fjobs/api/json",
	} {
		r := tm.get(p)
		if r.status != 400 && r.status != 404 {
			t.Errorf("GET %s: %s", p, r)
		}
		if strings.Contains(r.body, "secret") && !strings.Contains(r.body, "secret.txt") {
			t.Errorf("GET %s leaked the file", p)
		}
	}
	if r := tm.get("job/a/1/artifact/f.txt"); r.status != 200 || r.body != "x\n" {
		t.Errorf("the artifact itself: %s", r)
	}
	// A symbolic link planted in the archive is not followed.
	os.Symlink(secret, filepath.Join(tm.m.home, "jobs", "a", "builds", "1", "archive", "link"))
	if r := tm.get("job/a/1/artifact/link"); r.status != 404 {
		t.Errorf("a symlinked artifact: %s", r)
	}
}

func TestBodyLimitsAndNames(t *testing.T) {
	tm := newTestMaster(t, Config{})
	huge := freestyle{shell: []string{strings.Repeat("# padding\n", 1700000)}}.xml()
	if r := tm.post("createItem?name=huge", "application/xml", huge); r.status != 413 {
		t.Errorf("a 17 MB config: %s", r)
	}
	tm.mustCreate(t, "", "a b é", freestyle{shell: []string{"true"}, params: stringParam("X", "")}.xml())
	if r := tm.post("job/a%20b%20%C3%A9/buildWithParameters", "application/x-www-form-urlencoded", "X="+strings.Repeat("x", 2<<20)); r.status != 413 {
		t.Errorf("a 2 MB form: %s", r)
	}
	j := tm.json("job/a%20b%20%C3%A9/api/json?tree=name,url")
	if j["name"] != "a b é" || j["url"] != tm.url+"job/a%20b%20%C3%A9/" {
		t.Errorf("a name with spaces: %v", j)
	}
	if r := tm.do("HEAD", "job/a%20b%20%C3%A9/api/json", ""); r.status != 200 || r.body != "" {
		t.Errorf("HEAD: %s", r)
	}
	b := tm.run(t, "job/a%20b%20%C3%A9/", url.Values{"X": {"1"}})
	if b["url"] != tm.url+"job/a%20b%20%C3%A9/1/" || b["result"] != "SUCCESS" {
		t.Errorf("build %v %v", b["url"], b["result"])
	}
}
