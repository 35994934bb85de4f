package master_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/compiler"
	"github.com/jobctl/jobctl/jobs"
	"github.com/jobctl/jobctl/master"
	"github.com/jobctl/jobctl/master/local"
)

// Prune benchmarks: a local master holding 10,000 versions of one
// project, seeded on disk before it starts. Run them with TMPDIR on a
// fast disk:
//
//	TMPDIR=/work/tmp go test -run '^$' -bench Prune -benchtime 1x ./master/
//
// BenchmarkPrunePlan10000 is the plan (the listing request and the
// planning); BenchmarkPruneApply9000 deletes the 9,000 versions the plan
// prunes, 8 at a time, orchestrations first.

const (
	benchNames    = 1000 // common names: 900 workers, 100 orchestrations
	benchVersions = 10   // versions of each; the 10th is the latest
	benchWorkers  = 900
)

var benchNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// benchTemplates are compiled configs of the example, to seed with: a
// worker's and an orchestration's (descriptions replaced), the folder's
// and the view's.
type benchTemplates struct {
	worker, orchestration, folder, view []byte
}

func loadTemplates(b *testing.B) benchTemplates {
	b.Helper()
	repo, err := compiler.Load("../examples/modelshop")
	if err != nil {
		b.Fatal(err)
	}
	lock, err := jobs.ReadLock("../examples/modelshop")
	if err != nil {
		b.Fatal(err)
	}
	res, err := compiler.Compile(repo, lock, compiler.Options{})
	if err != nil {
		b.Fatal(err)
	}
	tp := benchTemplates{folder: res.Folder, view: res.View}
	for _, d := range res.Defs {
		switch {
		case d.Job.Kind == jobs.Worker && tp.worker == nil:
			tp.worker = d.XML
		case d.Job.Kind == jobs.Orchestration && tp.orchestration == nil:
			tp.orchestration = d.XML
		}
	}
	return tp
}

// withDescription replaces the first <description> of doc.
func withDescription(b *testing.B, doc []byte, desc string) []byte {
	i := bytes.Index(doc, []byte("<description>"))
	j := bytes.Index(doc, []byte("</description>"))
	if i < 0 || j < i {
		b.Fatal("no <description>")
	}
	var esc bytes.Buffer
	xml.EscapeText(&esc, []byte(desc))
	out := append([]byte{}, doc[:i+len("<description>")]...)
	out = append(out, esc.Bytes()...)
	return append(out, doc[j:]...)
}

// seedHome writes a master home holding the folder modelshop with
// benchNames × benchVersions versions: orchestration n, version v calls
// 9 workers' version v. The latest versions are listed in the view; of
// the others, a third ran 20 days ago, the rest never ran and were
// deployed 30 days ago. It returns the deployed names.
func seedHome(b *testing.B, home string, tp benchTemplates) []string {
	b.Helper()
	folder := filepath.Join(home, "jobs", "modelshop")
	hash := func(n, v int) string { return fmt.Sprintf("%012x", n*100+v) }
	name := func(n int) string {
		if n < benchWorkers {
			return fmt.Sprintf("worker_%04d", n)
		}
		return fmt.Sprintf("flow_%04d", n)
	}
	record := map[string]string{}
	var all, latest []string
	for n := range benchNames {
		for v := 1; v <= benchVersions; v++ {
			mk := jobs.Marker{Project: "modelshop", Name: name(n), Kind: jobs.Worker, Version: v, Hash: hash(n, v), Calls: []string{}}
			doc := tp.worker
			if n >= benchWorkers {
				mk.Kind, doc = jobs.Orchestration, tp.orchestration
				for k := range 9 {
					w := (n - benchWorkers) * 9 % benchWorkers
					mk.Calls = append(mk.Calls, jobs.DeployedName(name(w+k), v, hash(w+k, v)))
				}
			}
			dn := jobs.DeployedName(mk.Name, v, mk.Hash)
			dir := filepath.Join(folder, "jobs", dn)
			if err := os.MkdirAll(dir, 0o700); err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "config.xml"), withDescription(b, doc, jobs.Describe("A benchmark job.", mk)), 0o600); err != nil {
				b.Fatal(err)
			}
			all = append(all, dn)
			record[dn] = benchNow.Add(-30 * 24 * time.Hour).Format(time.RFC3339)
			switch {
			case v == benchVersions:
				latest = append(latest, dn)
				record[dn] = benchNow.Add(-time.Hour).Format(time.RFC3339)
			case (n+v)%3 == 0:
				bd := filepath.Join(dir, "builds", "1")
				if err := os.MkdirAll(bd, 0o700); err != nil {
					b.Fatal(err)
				}
				rec, _ := json.Marshal(map[string]any{"number": 1, "queueId": 1, "timestamp": benchNow.Add(-20 * 24 * time.Hour).UnixMilli(),
					"duration": 60000, "building": false, "result": "SUCCESS", "causes": []any{}})
				if err := os.WriteFile(filepath.Join(bd, "build.json"), rec, 0o600); err != nil {
					b.Fatal(err)
				}
				os.WriteFile(filepath.Join(dir, "nextBuildNumber"), []byte("2"), 0o600)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(folder, "config.xml"), tp.folder, 0o600); err != nil {
		b.Fatal(err)
	}
	rb, _ := json.Marshal(record)
	view := withDescription(b, tp.view, "The latest versions.\n\n<!-- jobctl-deployed "+string(rb)+" -->")
	var names strings.Builder
	for _, l := range latest {
		names.WriteString("\n    <string>" + l + "</string>")
	}
	view = bytes.Replace(view, []byte(`<comparator class="hudson.util.CaseInsensitiveComparator"/>`),
		[]byte(`<comparator class="hudson.util.CaseInsensitiveComparator"/>`+names.String()), 1)
	if err := os.MkdirAll(filepath.Join(folder, "views"), 0o700); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(folder, "views", compiler.ViewName+".xml"), view, 0o600); err != nil {
		b.Fatal(err)
	}
	return all
}

// startSeeded seeds a home under TMPDIR and starts a master on it.
func startSeeded(b *testing.B, tp benchTemplates) (*master.Client, *local.Master) {
	b.Helper()
	home, err := os.MkdirTemp("", "jobctl-prune-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(home) })
	seedHome(b, home, tp)
	m, err := local.New(local.Config{Home: home})
	if err != nil {
		b.Fatal(err)
	}
	url, err := m.Start("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		m.Close(ctx)
	})
	c, err := master.New(context.Background(), master.Config{URL: url, Timeout: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	return c, m
}

// BenchmarkPrunePlan10000 lists 10,000 versions in one request and plans
// their prune (9,000 pruned, 1,000 kept).
func BenchmarkPrunePlan10000(b *testing.B) {
	c, _ := startSeeded(b, loadTemplates(b))
	ctx := context.Background()
	b.ResetTimer()
	var p *master.PrunePlan
	for range b.N {
		var err error
		if p, err = c.PlanPrune(ctx, "modelshop", benchNow, 7*24*time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	checkBenchPlan(b, p)
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/plan")
}

func checkBenchPlan(b *testing.B, p *master.PrunePlan) {
	b.Helper()
	prune, keep := p.Counts()
	if prune != benchNames*(benchVersions-1) || keep != benchNames {
		b.Fatalf("the plan prunes %d and keeps %d, want %d and %d", prune, keep, benchNames*(benchVersions-1), benchNames)
	}
}

// BenchmarkPruneApply9000 deletes the 9,000 versions the plan prunes
// (each op: a freshly seeded master, not timed, then the deletes).
func BenchmarkPruneApply9000(b *testing.B) {
	tp := loadTemplates(b)
	ctx := context.Background()
	b.StopTimer()
	for range b.N {
		c, _ := startSeeded(b, tp)
		p, err := c.PlanPrune(ctx, "modelshop", benchNow, 7*24*time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		checkBenchPlan(b, p)
		b.StartTimer()
		if _, err := c.ApplyPrune(ctx, p, master.PruneOptions{Concurrency: 8}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		f, err := c.ListFolder(ctx, "modelshop")
		if err != nil {
			b.Fatal(err)
		}
		if len(f.Jobs) != benchNames {
			b.Fatalf("%d jobs left, want %d", len(f.Jobs), benchNames)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/9000-deletes")
}

// BenchmarkPrunePlanOnly10000 is the planning alone, over a listing of
// 10,000 versions read once.
func BenchmarkPrunePlanOnly10000(b *testing.B) {
	c, _ := startSeeded(b, loadTemplates(b))
	f, err := c.ListFolder(context.Background(), "modelshop")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var p *master.PrunePlan
	for range b.N {
		p = master.PlanPrune("modelshop", f, benchNow, 7*24*time.Hour)
	}
	b.StopTimer()
	checkBenchPlan(b, p)
}
