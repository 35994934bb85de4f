package mocks

import (
	"strconv"

	"github.com/jobctl/jobctl/flow"
	"github.com/jobctl/jobctl/jobs"
)

// ResolveParams returns the params a build of j sees when triggered with
// given, as Jenkins resolves them: every declared param, given or its
// default; a boolean param is a bool (false when neither), every other a
// string ("" when neither). Undeclared params are dropped, as Jenkins
// drops them.
func ResolveParams(j *jobs.Job, given map[string]any) map[string]flow.Value {
	out := make(map[string]flow.Value, len(j.Params)+1)
	for _, p := range j.Params {
		v, ok := given[p.Name]
		if p.Type == jobs.Boolean {
			switch x := v.(type) {
			case bool:
				out[p.Name] = x
			case string:
				b, _ := strconv.ParseBool(x)
				out[p.Name] = b
			default:
				b, _ := strconv.ParseBool(p.Default)
				out[p.Name] = p.HasDefault && b
			}
			continue
		}
		switch {
		case ok:
			out[p.Name] = flow.ParamText(v)
		case p.HasDefault:
			out[p.Name] = p.Default
		default:
			out[p.Name] = ""
		}
	}
	return out
}
