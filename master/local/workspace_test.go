package local

import (
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Concurrent builds of one job get workspaces of their own, as Jenkins
// gives them: the job's, then ws@2, ws@3...; a later build gets the job's
// own again.
func TestConcurrentBuildsGetTheirOwnWorkspace(t *testing.T) {
	tm := newTestMaster(t, Config{Executors: 3})
	job := freestyle{
		shell:      []string{"#!/bin/bash\necho \"ws=${WORKSPACE##*/}\"\nsleep 1\n"},
		params:     stringParam("N", ""),
		concurrent: true,
	}
	tm.mustCreate(t, "", "worker", job.xml())
	var ids []int64
	for i := range 3 {
		ids = append(ids, tm.trigger(t, "job/worker/", url.Values{"N": {strconv.Itoa(i)}}))
	}
	wsOf := func(n int) string {
		b := tm.waitBuild(t, "job/worker/", n)
		console := tm.get("job/worker/" + strconv.Itoa(n) + "/consoleText").body
		_, rest, ok := strings.Cut(console, "ws=")
		if b["result"] != "SUCCESS" || !ok {
			t.Fatalf("build %d: %v\n%s", n, b["result"], console)
		}
		ws, _, _ := strings.Cut(rest, "\n")
		return ws
	}
	var got []string
	for _, id := range ids {
		got = append(got, wsOf(tm.waitQueue(t, id)))
	}
	sort.Strings(got)
	if diff := cmp.Diff([]string{"worker", "worker@2", "worker@3"}, got); diff != "" {
		t.Errorf("workspaces of concurrent builds (-want +got):\n%s", diff)
	}
	n := tm.waitQueue(t, tm.trigger(t, "job/worker/", url.Values{"N": {"later"}}))
	if ws := wsOf(n); ws != "worker" {
		t.Errorf("a later build ran in %s, want worker", ws)
	}
}
