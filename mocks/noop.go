package mocks

import (
	"sort"

	"github.com/jobctl/jobctl/compiler"
)

// NoopTable is what the workers of a noop build report (see compiler.Noop):
// for every case and every job it mocks, one report per mocked call, the
// case named by its ID. A mock for every call becomes one report for call 0
// (every call); a list of results, one report per result, for calls 1, 2...
// Mocks of orchestrations are listed too; the compiler ignores them, since
// orchestrations run for real in a noop build.
func NoopTable(cases []*Case) *compiler.Noop {
	n := &compiler.Noop{Reports: map[string][]compiler.NoopReport{}}
	for _, c := range cases {
		for _, job := range sortedKeys(c.Mocks) {
			m := c.Mocks[job]
			for i, r := range m.Results {
				call := i + 1
				if m.Every {
					call = 0
				}
				n.Reports[job] = append(n.Reports[job], compiler.NoopReport{
					Case: c.ID(), Call: call,
					Status: r.Status, Reason: r.Reason, Data: r.Data, NoReport: r.NoReport,
				})
				if m.Every {
					break
				}
			}
		}
	}
	for _, rs := range n.Reports {
		sort.SliceStable(rs, func(a, b int) bool {
			if rs[a].Case != rs[b].Case {
				return rs[a].Case < rs[b].Case
			}
			return rs[a].Call < rs[b].Call
		})
	}
	return n
}
