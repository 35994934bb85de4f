package components

import (
	"errors"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jobctl/jobctl/jobs"
)

// TestGenerateProblems: what Generate refuses is said at the component
// file, all at once.
func TestGenerateProblems(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		taken []string
		want  []string
	}{{
		name: "an environment's job is a component's",
		files: map[string]string{
			"qa":  "repository: /r.git\nbuild: [make]\nstage: [make stage]\nenvironments: {dev: {}}\n",
			"api": "repository: /r.git\nbuild: [make]\nstage: [make stage]\nenvironments: {qa: {}}\n",
		},
		want: []string{"components/api.yaml:1:1: generates the job qa-stage (the stage orchestration of environment qa), which is also qa's stage worker: rename a component or an environment"},
	}, {
		name: "names that differ in - and _",
		files: map[string]string{
			"a-b": "repository: /r.git\nbuild: [make]\n",
			"a_b": "repository: /r.git\nbuild: [make]\n",
		},
		want: []string{"components/a_b.yaml:1:1: component a_b and component a-b (components/a-b.yaml) differ only in '-' and '_'; generated param and step names would clash: rename one"},
	}, {
		name: "no environment to integrate in",
		files: map[string]string{
			"api": "repository: /r.git\nbuild: [make]\nstage: [make stage]\nenvironments: {dev: {}}\n",
			"web": "repository: /r.git\nbuild: [make]\nstage: [make stage]\nenvironments: {qa: {}}\ndepends_on: [api]\n",
		},
		want: []string{"components/web.yaml:1:1: web-integration stages web and what it depends on into one environment, but they share none: give them a common test environment"},
	}, {
		name:  "a hand-written job",
		files: map[string]string{"api": "repository: /r.git\nbuild: [make]\n"},
		taken: []string{"api-build"},
		want:  []string{"components/api.yaml:1:1: generates the job api-build, but jobs/api-build/job.yaml already defines it: rename the component or the job"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var ps jobs.Problems
			var cs []*Component
			for name, data := range tc.files {
				c := Parse("components/"+name+".yaml", []byte(data), &ps)
				if c == nil {
					t.Fatalf("%s: %v", name, ps.Err())
				}
				cs = append(cs, c)
			}
			sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name }) // as Load does
			_, err := Generate(cs, tc.taken)
			var ie *jobs.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("Generate: %v, want an input error", err)
			}
			var got []string
			for _, p := range ie.Problems {
				got = append(got, p.Error())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}
