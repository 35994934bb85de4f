package master

import (
	"context"
	"fmt"
	"sort"
)

// ListedBuild is one build of a job as Builds lists it.
type ListedBuild struct {
	Number    int
	Result    string // "" while building
	Timestamp int64  // epoch milliseconds
	QueueID   int64
	// Params are the build's parameters; non-string values (booleans)
	// are formatted as the master shows them ("true").
	Params map[string]string
}

// buildsTree lists a job's builds with their parameters in one request.
const buildsTree = "builds[number,result,timestamp,queueId,actions[parameters[name,value]]]"

// Builds lists the builds of job (a full name, "folder/name") with their
// parameters, in one request, ordered by queue id.
func (c *Client) Builds(ctx context.Context, job string) ([]ListedBuild, error) {
	var raw struct {
		Builds []struct {
			Number    int    `json:"number"`
			Result    string `json:"result"`
			Timestamp int64  `json:"timestamp"`
			QueueID   int64  `json:"queueId"`
			Actions   []struct {
				Parameters []struct {
					Name  string `json:"name"`
					Value any    `json:"value"`
				} `json:"parameters"`
			} `json:"actions"`
		} `json:"builds"`
	}
	if err := c.getJSON(ctx, "listing builds of", job, jobPath(job), map[string]string{"tree": buildsTree}, &raw); err != nil {
		return nil, err
	}
	out := make([]ListedBuild, 0, len(raw.Builds))
	for _, b := range raw.Builds {
		lb := ListedBuild{Number: b.Number, Result: b.Result, Timestamp: b.Timestamp, QueueID: b.QueueID, Params: map[string]string{}}
		for _, a := range b.Actions {
			for _, p := range a.Parameters {
				switch v := p.Value.(type) {
				case nil:
					lb.Params[p.Name] = ""
				case string:
					lb.Params[p.Name] = v
				default:
					lb.Params[p.Name] = fmt.Sprint(v)
				}
			}
		}
		out = append(out, lb)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].QueueID != out[j].QueueID {
			return out[i].QueueID < out[j].QueueID
		}
		return out[i].Number < out[j].Number
	})
	return out, nil
}
