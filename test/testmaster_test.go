package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// failureLines are the lines of a jobctl test output that say why a case
// failed (indented under its "FAIL" line).
func failureLines(out string) []string {
	var ls []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "     ") {
			ls = append(ls, l)
		}
	}
	return ls
}

// TestTestOnMaster replays the example's mock cases as real builds of its
// noop build on a local master: every process_upload case and every case
// of a job generated from a component file passes as it does offline, the raw Groovy cases with sh mocks are skipped, the real
// project's folder is left alone, and a wrong expectation fails with the
// message the offline run gives.
func TestTestOnMaster(t *testing.T) {
	needGroovy(t)
	dir := exampleCopy(t)
	m := startMasterProc(t, filepath.Join(t.TempDir(), "home"), "--executors", "4")
	t.Setenv("JENKINS_URL", "")
	junit := filepath.Join(t.TempDir(), "results.xml")

	r := runJobctl(t, dir, "test", "--master", m.url, "--junit", junit)
	if r.code != 0 {
		t.Fatalf("jobctl test --master: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, name := range []string{"success", "unprintable", "fetch_retried", "thumbnail_fails", "too_big", "missing_source"} {
		if !strings.Contains(r.stdout, "ok   process_upload/"+name+" (master, ") {
			t.Errorf("process_upload/%s did not pass on the master:\n%s", name, r.stdout)
		}
	}
	// The cases of the jobs generated from component files replay too.
	for _, name := range []string{"web-build-test/success", "web-build-test/test_fails", "web-build-test/build_fails",
		"web-build-test-stage-release/success", "qa-stage/success", "qa-stage/api_fails",
		"platform_api-integration/success", "platform_api-integration/breaks_web"} {
		if !strings.Contains(r.stdout, "ok   "+name+" (master, ") {
			t.Errorf("%s did not pass on the master:\n%s", name, r.stdout)
		}
	}
	for _, name := range []string{"all_quoted", "listing_fails", "some_fail", "store_fails"} {
		if !strings.Contains(r.stdout, "skip reprocess_batch/"+name+" (master): the case mocks sh steps") {
			t.Errorf("reprocess_batch/%s was not skipped:\n%s", name, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "18 cases: 14 passed, 0 failed, 4 skipped") || !strings.Contains(r.stderr, "modelshop-noop") {
		t.Errorf("unexpected summary:\n%s", r.stderr)
	}
	x, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`tests="18" failures="0" skipped="4"`, `<skipped message="the case mocks sh steps`} {
		if !strings.Contains(string(x), s) {
			t.Errorf("JUnit XML lacks %s:\n%s", s, x)
		}
	}
	c := newClient(t, m.url)
	if code, _ := c.get("job/modelshop/api/json"); code != 404 {
		t.Errorf("the real project's folder: GET answered %d, want 404 (a master test must not deploy it)", code)
	}
	if _, err := os.Stat(filepath.Join(dir, "jobctl.lock")); !os.IsNotExist(err) {
		t.Errorf("jobctl test --master wrote jobctl.lock: %v", err)
	}

	// A wrong expectation fails, on the master as offline, with the same message.
	edit(t, dir, "mocks/process_upload/unprintable.yaml", "3 open edges\"\n  data:", "4 open edges\"\n  data:")
	off := runJobctl(t, dir, "test", "process_upload/unprintable")
	on := runJobctl(t, dir, "test", "--master", m.url, "process_upload/unprintable")
	if off.code != 1 || on.code != 1 {
		t.Fatalf("a wrong expectation: exit %d offline, %d on the master\n%s\n%s", off.code, on.code, off.stdout, on.stdout)
	}
	if !strings.Contains(on.stdout, "FAIL process_upload/unprintable (master, ") {
		t.Errorf("no FAIL line:\n%s", on.stdout)
	}
	want := failureLines(off.stdout)
	if len(want) == 0 || !strings.Contains(strings.Join(want, "\n"), `reason: want "step mesh (check_mesh) failed: the mesh is not printable: 4 open edges"`) {
		t.Fatalf("offline failure lines:\n%s", off.stdout)
	}
	if diff := cmp.Diff(want, failureLines(on.stdout)); diff != "" {
		t.Errorf("failure messages differ (-offline +master):\n%s", diff)
	}
}
