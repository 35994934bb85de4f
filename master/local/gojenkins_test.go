package local

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bndr/gojenkins"
)

// TestGojenkins drives the master with gojenkins v1.2.0, a client nobody
// here wrote, the way jobctl's master package does.
func TestGojenkins(t *testing.T) {
	for _, secured := range []bool{false, true} {
		name := "open"
		cfg := Config{}
		var auth []any
		if secured {
			name, cfg = "secured", Config{User: "admin", Token: "tok"}
			auth = []any{"admin", "tok"}
		}
		t.Run(name, func(t *testing.T) {
			tm := newTestMaster(t, cfg)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			client := &http.Client{
				Timeout:       30 * time.Second,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			}
			jk, err := gojenkins.CreateJenkins(client, tm.url, auth...).Init(ctx)
			if err != nil {
				t.Fatalf("Init: %v", err)
			}
			if jk.Version != "2.578" {
				t.Errorf("Version %q", jk.Version)
			}
			worker, err := os.ReadFile("testdata/worker.xml")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := jk.CreateJob(ctx, string(worker), "worker"); err != nil {
				t.Fatalf("CreateJob: %v", err)
			}
			script := freestyle{shell: []string{"#!/bin/bash\necho \"hello $WHO\"\necho '{\"ok\":1}' > out.json"},
				params: stringParam("WHO", "world"), artifacts: "out.json"}.xml()
			job, err := jk.CreateJob(ctx, script, "hello")
			if err != nil {
				t.Fatalf("CreateJob: %v", err)
			}
			if _, err := jk.CreateJob(ctx, script, "hello"); err == nil || !strings.Contains(err.Error(), "already exists") {
				t.Errorf("creating it again: %v", err)
			}
			if _, err := jk.CreateJob(ctx, "<project>", "broken"); err == nil {
				t.Errorf("creating from malformed XML succeeded")
			}
			if _, err := job.Poll(ctx); err != nil {
				t.Fatalf("Poll: %v", err)
			}
			params, err := job.GetParameters(ctx)
			if err != nil || len(params) != 1 || params[0].Name != "WHO" || params[0].DefaultParameterValue.Value != "world" {
				t.Errorf("GetParameters: %v %+v", err, params)
			}
			id, err := jk.BuildJob(ctx, "hello", map[string]string{"WHO": "gojenkins"})
			if err != nil || id == 0 {
				t.Fatalf("BuildJob: %d %v", id, err)
			}
			var number int64
			for deadline := time.Now().Add(30 * time.Second); number == 0 && time.Now().Before(deadline); {
				task, err := jk.GetQueueItem(ctx, id)
				if err != nil {
					t.Fatalf("GetQueueItem: %v", err)
				}
				number = task.Raw.Executable.Number
				time.Sleep(10 * time.Millisecond)
			}
			job, err = jk.GetJob(ctx, "hello")
			if err != nil {
				t.Fatalf("GetJob: %v", err)
			}
			var build *gojenkins.Build
			for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if build, err = job.GetBuild(ctx, number); err != nil {
					t.Fatalf("GetBuild: %v", err)
				}
				if !build.Raw.Building {
					break
				}
			}
			if build.GetResult() != "SUCCESS" {
				t.Errorf("result %q", build.GetResult())
			}
			if out := build.GetConsoleOutput(ctx); !strings.Contains(out, "hello gojenkins\n") {
				t.Errorf("console: %s", out)
			}
			if c, err := build.GetConsoleOutputFromIndex(ctx, 0); err != nil || c.HasMoreText || !strings.HasSuffix(c.Content, "Finished: SUCCESS\n") {
				t.Errorf("progressive console: %v %+v", err, c)
			}
			arts := build.GetArtifacts()
			if len(arts) != 1 || arts[0].FileName != "out.json" {
				t.Fatalf("artifacts %+v", arts)
			}
			if data, err := arts[0].GetData(ctx); err != nil || string(data) != "{\"ok\":1}\n" {
				t.Errorf("artifact data %q %v", data, err)
			}
			causes, err := build.GetCauses(ctx)
			if err != nil || len(causes) != 1 {
				t.Errorf("causes %v %v", causes, err)
			}
			cfgXML, err := job.GetConfig(ctx)
			if err != nil || !strings.Contains(cfgXML, "<project>") {
				t.Errorf("GetConfig: %v %.60q", err, cfgXML)
			}
			if err := job.UpdateConfig(ctx, strings.Replace(script, "hello", "hi", 1)); err != nil {
				t.Errorf("UpdateConfig: %v", err)
			}
			if err := job.UpdateConfig(ctx, "<project"); err == nil {
				t.Errorf("UpdateConfig with malformed XML succeeded")
			}
			if _, err := jk.GetPlugins(ctx, 1); err != nil {
				t.Errorf("GetPlugins(1): %v", err)
			}
			var list struct {
				Jobs []struct {
					Name      string
					LastBuild *struct {
						Number    int64
						Timestamp int64
						Result    string
						Building  bool
						Duration  int64
					}
				}
			}
			if _, err := jk.Requester.GetJSON(ctx, "/", &list, map[string]string{"tree": listTree}); err != nil {
				t.Fatalf("listing: %v", err)
			}
			if len(list.Jobs) != 2 || list.Jobs[0].Name != "hello" || list.Jobs[0].LastBuild == nil || list.Jobs[0].LastBuild.Timestamp == 0 || list.Jobs[1].LastBuild != nil {
				t.Errorf("listing %+v", list.Jobs)
			}
			// doDelete answers 302, which gojenkins' DeleteJob takes for a
			// failure: delete with DELETE, as the reference says.
			if r := tm.do("DELETE", "job/worker/", ""); r.status != http.StatusNoContent {
				t.Errorf("DELETE: %s", r)
			}
			if _, err := jk.GetJob(ctx, "worker"); err == nil {
				t.Errorf("the deleted job is still there")
			}
		})
	}
}
