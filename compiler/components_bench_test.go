package compiler

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jobctl/jobctl/jobs"
)

// writeComponentRepo writes a job repository with n components, each with
// three environments and every step, depending on up to three components
// written before it (c_i on c_{i/2}, c_{i/3} and c_{i/5}: a graph about
// eight levels deep, where low-numbered components have many dependents).
// With chain, c_i also depends on c_{i-1}: n levels, and every
// integration job stages or tests about n components, which is the worst
// case (O(n²) generated steps).
func writeComponentRepo(tb testing.TB, dir string, n int, chain bool) {
	tb.Helper()
	must := func(err error) {
		if err != nil {
			tb.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "components"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "jobctl.yaml"), []byte("project: bench\n"), 0o644))
	for i := 0; i < n; i++ {
		var deps []string
		parents := []int{i / 2, i / 3, i / 5}
		if chain {
			parents = append(parents, i-1)
		}
		for _, d := range parents {
			if d >= 0 && d < i && !slices.Contains(deps, fmt.Sprintf("c%03d", d)) {
				deps = append(deps, fmt.Sprintf("c%03d", d))
			}
		}
		var b strings.Builder
		fmt.Fprintf(&b, "description: Component %d.\nrepository: https://git.example.com/shop/c%03d.git\npath: src/c%03d\n", i, i, i)
		b.WriteString("tools: {node: \">= 18\", ruby: \"~> 3.1\"}\n")
		b.WriteString("build: [make build, make package]\ntest: [make test]\nstage: [./deploy.sh stage]\nrelease: [./deploy.sh release]\n")
		b.WriteString("environments:\n")
		for _, env := range []string{"dev", "qa", "production"} {
			fmt.Fprintf(&b, "  %s: {URL: https://%s.example.com/c%03d, REPLICAS: %d}\n", env, env, i, i%5+1)
		}
		if len(deps) > 0 {
			fmt.Fprintf(&b, "depends_on: [%s]\n", strings.Join(deps, ", "))
		}
		must(os.WriteFile(filepath.Join(dir, "components", fmt.Sprintf("c%03d.yaml", i)), []byte(b.String()), 0o644))
	}
}

// BenchmarkComponents times generating and compiling the jobs of 200
// components with 3 environments each (issue 6's target: at most 1 s):
// load and check the component files, generate the job sources, load
// them, compile every job. Writing the build folder is not included.
//
//	go test ./compiler -run='^$' -bench=BenchmarkComponents -benchtime=5x
func BenchmarkComponents(b *testing.B) {
	for _, shape := range []string{"tree", "chain"} {
		b.Run("shape="+shape, func(b *testing.B) {
			dir := b.TempDir()
			writeComponentRepo(b, dir, 200, shape == "chain")
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				repo, err := Load(dir)
				if err != nil {
					b.Fatal(err)
				}
				res, err := Compile(repo, &jobs.Lock{}, Options{})
				if err != nil {
					b.Fatal(err)
				}
				if i == 0 {
					b.ReportMetric(float64(len(res.Defs)), "jobs")
				}
			}
		})
	}
}

// TestComponentsRepoCompiles keeps the benchmark's repository honest, at
// a smaller size: it must compile, with every generated job.
func TestComponentsRepoCompiles(t *testing.T) {
	dir := t.TempDir()
	writeComponentRepo(t, dir, 12, true)
	repo, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Compile(repo, &jobs.Lock{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Per component: 4 step workers, 3 pipelines, integration, watch;
	// per environment: stage and release.
	if want := 12*9 + 3*2; len(res.Defs) != want {
		t.Errorf("compiled %d jobs, want %d", len(res.Defs), want)
	}
}
