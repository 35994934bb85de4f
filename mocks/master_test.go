package mocks

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheckMaster(t *testing.T) {
	expect := Expect{
		Status:   "SUCCESS",
		HasCalls: true,
		Calls: []ExpectCall{
			{Job: "fetch", Phase: "fetch"},
			{Job: "mesh", Phase: "inspect"},
			{Job: "thumb", Phase: "inspect", Params: map[string]string{"SIZE": "256"}},
			{Job: "price", Phase: "quote"},
		},
	}
	call := func(job string, params map[string]string) Call {
		return Call{Job: job, Params: params, Result: "SUCCESS"}
	}
	for _, tt := range []struct {
		name  string
		calls []Call
		want  []string
	}{
		{
			name:  "no phases, concurrent steps queued in another order",
			calls: []Call{call("fetch", nil), call("thumb", map[string]string{"SIZE": "256"}), call("mesh", nil), call("price", nil)},
		},
		{
			name:  "a wrong param still fails",
			calls: []Call{call("fetch", nil), call("thumb", map[string]string{"SIZE": "64"}), call("mesh", nil), call("price", nil)},
			want: []string{`calls differ:
    call 3: thumb params differ: SIZE: want "256", got "64"
  the calls made:
    1. fetch -> SUCCESS
    2. mesh -> SUCCESS
    3. thumb SIZE=64 -> SUCCESS
    4. price -> SUCCESS`},
		},
		{
			name:  "a missing call still fails",
			calls: []Call{call("fetch", nil), call("mesh", nil), call("price", nil)},
			want: []string{`calls differ:
    call 3: want thumb, got price -> SUCCESS
    call 4: want price, got no call
  the calls made:
    1. fetch -> SUCCESS
    2. mesh -> SUCCESS
    3. price -> SUCCESS`},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &Case{Expect: expect}
			got := CheckMaster(c, &Trace{Calls: tt.calls, Outcome: Outcome{Status: "SUCCESS"}})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("CheckMaster (-want +got):\n%s", diff)
			}
			if c.Expect.Calls[0].Phase != "fetch" {
				t.Errorf("CheckMaster changed the case's expectations")
			}
		})
	}
	// Offline, the phases are checked.
	if got := Check(&Case{Expect: expect}, &Trace{Calls: []Call{call("fetch", nil)}, Outcome: Outcome{Status: "SUCCESS"}}); len(got) != 1 || !strings.Contains(got[0], "in phase fetch") {
		t.Errorf("Check: %q", got)
	}
}

func TestWriteJUnitSkipped(t *testing.T) {
	results := []*CaseResult{
		{Case: &Case{Job: "batch", Name: "a", File: "mocks/batch/a.yaml"}, Mode: ModeMaster, Skipped: "the case mocks sh steps"},
		{Case: &Case{Job: "batch", Name: "b", File: "mocks/batch/b.yaml"}, Mode: ModeMaster},
	}
	var b strings.Builder
	if err := WriteJUnit(&b, results); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`tests="2" failures="0" skipped="1"`, `<skipped message="the case mocks sh steps"></skipped>`} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("JUnit XML lacks %s:\n%s", s, b.String())
		}
	}
}
