package mocks

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jobctl/jobctl/compiler"
)

func TestNoopTable(t *testing.T) {
	data := map[string]any{"size": 3.0}
	cases := []*Case{
		{Job: "upload", Name: "retry", Mocks: map[string]*Mock{
			"fetch": {Results: []*Result{
				{Status: "FAILURE", Reason: "connection reset"},
				{Status: "SUCCESS", Data: data},
			}},
			"inspect": {Every: true, Results: []*Result{{Status: "SUCCESS", Data: data}}},
		}},
		{Job: "nightly", Name: "lost", Mocks: map[string]*Mock{
			"upload": {Every: true, Results: []*Result{{Status: "NOT_BUILT", NoReport: true}}},
			"fetch":  {Results: []*Result{{Status: "ABORTED", Reason: "aborted"}}},
		}},
	}
	want := &compiler.Noop{Reports: map[string][]compiler.NoopReport{
		"fetch": {
			{Case: "nightly/lost", Call: 1, Status: "ABORTED", Reason: "aborted"},
			{Case: "upload/retry", Call: 1, Status: "FAILURE", Reason: "connection reset"},
			{Case: "upload/retry", Call: 2, Status: "SUCCESS", Data: data},
		},
		"inspect": {{Case: "upload/retry", Call: 0, Status: "SUCCESS", Data: data}},
		"upload":  {{Case: "nightly/lost", Call: 0, Status: "NOT_BUILT", NoReport: true}},
	}}
	if diff := cmp.Diff(want, NoopTable(cases)); diff != "" {
		t.Errorf("NoopTable (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&compiler.Noop{Reports: map[string][]compiler.NoopReport{}}, NoopTable(nil)); diff != "" {
		t.Errorf("NoopTable(nil) (-want +got):\n%s", diff)
	}
}
