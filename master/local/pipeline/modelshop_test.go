//go:build unix

package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jobctl/jobctl/compiler"
	"github.com/jobctl/jobctl/jobs"
)

// compileModelshop compiles examples/modelshop and returns a function
// from common names to definitions.
func compileModelshop(t *testing.T) func(string) *compiler.Definition {
	t.Helper()
	root := filepath.Join("..", "..", "..", "examples", "modelshop")
	repo, err := compiler.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	lock, err := jobs.ReadLock(root)
	if err != nil {
		t.Fatal(err)
	}
	res, err := compiler.Compile(repo, lock, compiler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return func(name string) *compiler.Definition {
		d := res.Def(name)
		if d == nil {
			t.Fatalf("modelshop has no job %s", name)
		}
		return d
	}
}

// archivedReport reads the report.json a build archived.
func archivedReport(t *testing.T, r ran) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(r.artifacts, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep map[string]any
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	delete(rep, "duration_ms")
	return rep
}

// byJob sorts triggers by job, for the calls of a phase come in any order.
func byJob(ts []trigger) []trigger {
	slices.SortStableFunc(ts, func(a, b trigger) int { return strings.Compare(a.Job, b.Job) })
	return ts
}

func TestModelshop(t *testing.T) {
	needGroovy(t)
	t.Parallel()
	def := compileModelshop(t)
	job := func(name string) string { return "modelshop/" + def(name).Deployed }

	// The success case of mocks/process_upload: every worker succeeds.
	t.Run("process_upload", func(t *testing.T) {
		t.Parallel()
		worker := func(data any) *fakeJob { return &fakeJob{parameterized: true, run: ok(data)} }
		f := newFake(t, "", "", map[string]*fakeJob{
			job("fetch_model"): worker(map[string]any{"name": "cube.stl", "path": "model.stl", "size_bytes": 684,
				"format": "ascii_stl", "sha256": "0d5e"}),
			job("inspect_model"): worker(map[string]any{"triangles": 12,
				"bbox":       map[string]any{"min": []int{0, 0, 0}, "max": []int{20, 20, 20}, "size": []int{20, 20, 20}},
				"dimensions": map[string]any{"x": 20, "y": 20, "z": 20}, "volume_mm3": 8000, "surface_area_mm2": 2400,
				"closed": true}),
			job("check_mesh"):         worker(map[string]any{"printable": true, "problems": []string{}}),
			job("render_thumbnail"):   worker(map[string]any{"path": "thumbnail.svg", "width": 256, "height": 256, "polygons": 2}),
			job("check_printability"): worker(map[string]any{"fits": true, "printer": "mk4"}),
			job("price_model"):        worker(map[string]any{"price": 5.62, "currency": "EUR"}),
			job("register_part"):      worker(map[string]any{"status_code": 201, "part_id": "part-0017"}),
		})
		b := newBuild(t, f, def("process_upload").Script)
		b.Job = job("process_upload")
		b.Params = map[string]string{
			"SOURCE_S3_FILE_PATH":     "s3://uploads/cube.stl",
			"REGISTRATION_RETURN_URL": "https://shop.example/parts",
			"REPORT_RETURN_URL":       "",
			"TOOLS_COMMIT":            "master",
			"MATERIAL":                "petg",
			"PRINTER":                 "mk4",
			"RUSH":                    "false",
		}
		b.ParamTypes = map[string]string{"RUSH": "boolean"}
		// The report goes back to the caller with curl, when there is one.
		_, err := exec.LookPath("curl")
		withCurl := err == nil
		if withCurl {
			b.Params["REPORT_RETURN_URL"] = f.URL() + "posted/report"
		}
		r := runBuild(t, context.Background(), b)
		if r.result != Success {
			t.Errorf("result %s, want SUCCESS", r.result)
		}
		wantReport := map[string]any{
			"process": "process_upload", "status": "SUCCESS", "reason": "", "log": "", "attempts": 1.0,
			"data": map[string]any{
				"tools_commit": "master", "printable": true, "mesh_problems": []any{}, "volume_mm3": 8000.0,
				"bbox": map[string]any{"min": []any{0.0, 0.0, 0.0}, "max": []any{20.0, 20.0, 20.0},
					"size": []any{20.0, 20.0, 20.0}},
				"fits": true, "price": 5.62, "currency": "EUR", "part_id": "part-0017",
				"thumbnail": map[string]any{"path": "thumbnail.svg", "width": 256.0, "height": 256.0, "polygons": 2.0},
			},
		}
		if diff := cmp.Diff(wantReport, archivedReport(t, r)); diff != "" {
			t.Errorf("report.json (-want +got):\n%s", diff)
		}
		part := `{"bbox":{"max":[20,20,20],"min":[0,0,0],"size":[20,20,20]},"currency":"EUR","material":"petg",` +
			`"name":"cube.stl","price":5.62,"printer":"mk4","rush":false,"sha256":"0d5e","size_bytes":684,` +
			`"source":"s3://uploads/cube.stl","surface_area_mm2":2400,"triangles":12,"volume_mm3":8000}`
		wantTriggers := byJob([]trigger{
			{Job: job("fetch_model"), Verb: "buildWithParameters", Params: map[string]string{"SOURCE": "s3://uploads/cube.stl"}},
			{Job: job("inspect_model"), Verb: "buildWithParameters", Params: map[string]string{"MODEL_URL": "s3://uploads/cube.stl"}},
			{Job: job("check_mesh"), Verb: "buildWithParameters", Params: map[string]string{"MODEL_URL": "s3://uploads/cube.stl"}},
			{Job: job("render_thumbnail"), Verb: "buildWithParameters", Params: map[string]string{"MODEL_URL": "s3://uploads/cube.stl"}},
			{Job: job("check_printability"), Verb: "buildWithParameters", Params: map[string]string{
				"SIZE_X": "20", "SIZE_Y": "20", "SIZE_Z": "20", "PRINTER": "mk4"}},
			{Job: job("price_model"), Verb: "buildWithParameters", Params: map[string]string{
				"VOLUME_MM3": "8000", "MATERIAL": "petg", "RUSH": "false"}},
			{Job: job("register_part"), Verb: "buildWithParameters", Params: map[string]string{
				"REGISTRATION_RETURN_URL": "https://shop.example/parts", "PART_JSON": part}},
		})
		triggers, _ := f.record()
		if diff := cmp.Diff(wantTriggers, byJob(triggers)); diff != "" {
			t.Errorf("triggers (-want +got):\n%s", diff)
		}
		if withCurl {
			f.mu.Lock()
			posted := f.posted["report"]
			f.mu.Unlock()
			archived, _ := os.ReadFile(filepath.Join(r.artifacts, "report.json"))
			if string(posted) != string(archived) {
				t.Errorf("REPORT_RETURN_URL got %q, want the archived report %q", posted, archived)
			}
		}
	})

	// The some_fail case of mocks/reprocess_batch: one model of three fails.
	t.Run("reprocess_batch", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, "", "", map[string]*fakeJob{
			job("process_upload"): {parameterized: true, run: func(n int, p map[string]string) fakeOutcome {
				if n == 2 {
					return fakeOutcome{Result: "FAILURE", Artifacts: map[string]string{"report.json": report("FAILURE",
						"step mesh (check_mesh) failed: the mesh is not printable: 3 open edges",
						map[string]any{"printable": false})}}
				}
				return ok(map[string]any{"tools_commit": "master", "price": 5.5})(n, p)
			}},
			job("store_result"): {parameterized: true, run: ok(map[string]any{"url": "s3://results/b8.json"})},
		})
		// aws is a fake that lists three models under the prefix it is given.
		bin := t.TempDir()
		aws := `#!/bin/sh
[ "$*" = "s3 ls --recursive $PREFIX" ] && [ "$PREFIX" = s3://uploads/b8/ ] || { echo "aws: unexpected $*" >&2; exit 1; }
echo '2026-11-21 09:00:00        684 b8/a.stl'
echo '2026-11-21 09:00:00        627 b8/b.stl'
echo '2026-11-21 09:00:00         12 b8/notes.txt'
echo '2026-11-21 09:00:00        684 b8/c.STL'
`
		if err := os.WriteFile(filepath.Join(bin, "aws"), []byte(aws), 0o755); err != nil {
			t.Fatal(err)
		}
		b := newBuild(t, f, def("reprocess_batch").Script)
		b.Job = job("reprocess_batch")
		b.Params = map[string]string{"MODELS_PREFIX": "s3://uploads/b8/", "RESULT_URL": "s3://results/b8.json",
			"MATERIAL": "pla", "PRINTER": "mk4"}
		b.Env["PATH"] = bin + string(os.PathListSeparator) + os.Getenv("PATH")
		r := runBuild(t, context.Background(), b)
		if r.result != Unstable {
			t.Errorf("result %s, want UNSTABLE", r.result)
		}
		summary := map[string]any{"models": 3.0, "succeeded": 2.0, "failed": []any{"s3://uploads/b8/b.stl"},
			"prices": map[string]any{"s3://uploads/b8/a.stl": 5.5, "s3://uploads/b8/c.STL": 5.5}}
		wantReport := map[string]any{"process": "reprocess_batch", "status": "UNSTABLE", "reason": "1 of 3 models failed",
			"data": summary, "log": "", "attempts": 1.0}
		if diff := cmp.Diff(wantReport, archivedReport(t, r)); diff != "" {
			t.Errorf("report.json (-want +got):\n%s", diff)
		}
		triggers, _ := f.record()
		var models []string
		for _, tr := range triggers[:3] {
			models = append(models, tr.Params["SOURCE_S3_FILE_PATH"])
		}
		want := []string{"s3://uploads/b8/a.stl", "s3://uploads/b8/b.stl", "s3://uploads/b8/c.STL"}
		if diff := cmp.Diff(want, models); diff != "" {
			t.Errorf("process_upload calls (-want +got):\n%s", diff)
		}
		if len(triggers) != 4 || triggers[3].Job != job("store_result") {
			t.Fatalf("triggers %v, want three process_upload then store_result", triggers)
		}
		var stored map[string]any
		if err := json.Unmarshal([]byte(triggers[3].Params["RESULT_JSON"]), &stored); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(summary, stored); diff != "" {
			t.Errorf("RESULT_JSON (-want +got):\n%s", diff)
		}
		for _, line := range []string{"3 models under s3://uploads/b8/",
			"s3://uploads/b8/b.stl: step mesh (check_mesh) failed: the mesh is not printable: 3 open edges",
			"WARNING: 1 of 3 models failed"} {
			if !slices.Contains(strings.Split(r.log, "\n"), line) {
				t.Errorf("the console has no line %q", line)
			}
		}
	})
}
