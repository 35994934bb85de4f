package jobs

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseJob feeds arbitrary bytes to the job.yaml parser: it must never
// panic or hang, and every problem must name the file.
func FuzzParseJob(f *testing.F) {
	seeds, _ := filepath.Glob("../examples/*/jobs/*/job.yaml")
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("kind: worker\nparams:\n  A: {type: choice, choices: [a], default: a}\noutputs: {x: {type: object, fields: {y: {type: array, items: number}}}}\n"))
	f.Add([]byte("kind: orchestration\nflow: {phases: []}\nschedule: 'H H(0-7) * * *'\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("kind: worker\nrequires: {tools: {node: {version: '~> 1', probe: x}}}\n"))
	f.Add([]byte("kind: worker\nwatch: {repository: /r.git, branch: a/b, paths: [x, y/z], poll: none, trigger: t}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var ps Problems
		ParseJob("jobs/j/job.yaml", "j", data, testDefaults, &ps)
		if err := ps.Err(); err != nil {
			ie := err.(*InputError)
			for _, p := range ie.Problems {
				if p.File == "" || p.Msg == "" {
					t.Fatalf("problem without file or message: %+v", p)
				}
			}
		}
		var ps2 Problems
		ParseProject(ProjectFile, data, &ps2)
		ParseLock(LockFile, data, &ps2)
	})
}
