package compiler

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/jobctl/jobctl/jobs"
	"github.com/jobctl/jobctl/test/benchrepo"
)

// BenchmarkCompile times a whole `jobctl build` minus process start: load
// the repository, compile every job, write the build folder. Generated
// repositories are half workers, half orchestrations calling two workers.
//
//	go test ./compiler -run='^$' -bench=BenchmarkCompile -benchmem -benchtime=3x
func BenchmarkCompile(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("jobs=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			if err := benchrepo.Write(dir, n); err != nil {
				b.Fatal(err)
			}
			out := filepath.Join(dir, "build")
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				repo, err := Load(dir)
				if err != nil {
					b.Fatal(err)
				}
				lock, err := jobs.ReadLock(dir)
				if err != nil {
					b.Fatal(err)
				}
				res, err := Compile(repo, lock, Options{})
				if err != nil {
					b.Fatal(err)
				}
				if err := res.Write(out); err != nil {
					b.Fatal(err)
				}
				if len(res.Defs) != n {
					b.Fatalf("compiled %d jobs, want %d", len(res.Defs), n)
				}
			}
		})
	}
}
