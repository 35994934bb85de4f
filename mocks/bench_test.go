package mocks

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jobctl/jobctl/compiler"
	"github.com/jobctl/jobctl/jobs"
)

// benchRepo copies the example repository and multiplies the cases of
// orchestration job to n, each a copy of one of its cases with its own
// name, and records their traces.
func benchRepo(b *testing.B, job string, n int) (string, *compiler.Result) {
	b.Helper()
	src := filepath.Join("..", "examples", "modelshop")
	dir := b.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			if rel == "build" || rel == "mocks" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), data, 0o644)
	})
	if err != nil {
		b.Fatal(err)
	}
	cases, _ := filepath.Glob(filepath.Join(src, "mocks", job, "*.yaml"))
	var seeds [][]byte
	for _, c := range cases {
		if !strings.HasSuffix(c, TraceSuffix) {
			data, _ := os.ReadFile(c)
			seeds = append(seeds, data)
		}
	}
	os.MkdirAll(filepath.Join(dir, "mocks", job), 0o755)
	for i := 0; i < n; i++ {
		name := filepath.Join(dir, "mocks", job, fmt.Sprintf("case%04d.yaml", i))
		if err := os.WriteFile(name, seeds[i%len(seeds)], 0o644); err != nil {
			b.Fatal(err)
		}
	}
	repo, err := compiler.Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	lock, err := jobs.ReadLock(dir)
	if err != nil {
		b.Fatal(err)
	}
	res, err := compiler.Compile(repo, lock, compiler.Options{})
	if err != nil {
		b.Fatal(err)
	}
	all, err := Load(dir, res, "")
	if err != nil {
		b.Fatal(err)
	}
	r := &Runner{Root: dir, Result: res, Update: true}
	if _, err := r.Run(context.Background(), all); err != nil {
		b.Fatal(err)
	}
	return dir, res
}

// runAll loads and runs every case, as jobctl test does after compiling.
func runAll(b *testing.B, dir string, res *compiler.Result, want int) {
	cases, err := Load(dir, res, "")
	if err != nil {
		b.Fatal(err)
	}
	r := &Runner{Root: dir, Result: res}
	results, err := r.Run(context.Background(), cases)
	if err != nil {
		b.Fatal(err)
	}
	if len(results) != want {
		b.Fatalf("%d results, want %d", len(results), want)
	}
	for _, res := range results {
		if !res.Passed() {
			b.Fatalf("%s failed: %v", res.Case.ID(), res.Failures)
		}
	}
}

// BenchmarkFlowCases1000 reads, runs and checks 1,000 flow cases (the
// example's process_upload cases, copied) in the Go interpreter, golden
// traces included. Target: at most 1 s per op.
func BenchmarkFlowCases1000(b *testing.B) {
	dir, res := benchRepo(b, "process_upload", 1000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runAll(b, dir, res, 1000)
	}
}

// BenchmarkGroovyCases100 runs 100 raw Groovy cases (the example's
// reprocess_batch cases, copied) in one JVM, from case files to checked
// traces. Target: at most 15 s per op.
func BenchmarkGroovyCases100(b *testing.B) {
	if _, err := exec.LookPath("groovy"); err != nil {
		b.Skip("groovy is not installed")
	}
	dir, res := benchRepo(b, "reprocess_batch", 100)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runAll(b, dir, res, 100)
	}
}
