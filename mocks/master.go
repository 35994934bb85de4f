package mocks

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jobctl/jobctl/compiler"
	"github.com/jobctl/jobctl/jobs"
	"github.com/jobctl/jobctl/master"
)

// Replaying cases on a master: a noop build (see compiler.Noop) is
// deployed to its own folder, and each case triggers its orchestration's
// latest noop version with JOBCTL_CASE set. The trace is read back from
// the master: the orchestration's result and report, and the builds of
// the jobs it calls that carry the case, in queue order.
//
// A master run is checked against the case's expectations only, never its
// recorded trace: steps that run concurrently are queued in whatever order
// the master schedules them. For the same reason, and because a master
// does not know a call's phase, expected phases are not checked and the
// expected calls are matched in any order (see CheckMaster). A flow
// orchestration is triggered with an empty REPORT_RETURN_URL: its callback
// is jobctl's own, mocked offline, and a replay must not send it.

// ModeMaster: a case replayed as real builds of a noop build on a master.
const ModeMaster Mode = "master"

// MasterClient is what a master run needs of a master (*master.Client).
type MasterClient interface {
	ListFolder(ctx context.Context, folder string) (*master.Folder, error)
	Trigger(ctx context.Context, job string, params url.Values) (string, error)
	Wait(ctx context.Context, queueURL string, opt master.WaitOptions) (*master.Outcome, error)
	Report(ctx context.Context, b *master.BuildInfo) (*master.Report, error)
	Builds(ctx context.Context, job string) ([]master.ListedBuild, error)
}

// MasterRunner replays cases on a master where Noop, the noop build of
// Result, is deployed.
type MasterRunner struct {
	Client MasterClient
	// Result is the real build (the cases were loaded from it); Noop the
	// deployed noop build.
	Result, Noop *compiler.Result
	// Concurrency is how many cases run at once (default 4).
	Concurrency int
	// Timeout bounds each case (default 5m).
	Timeout time.Duration
	// Poll is the wait between polls of a queue item or build (default 250ms).
	Poll time.Duration
}

// SkipReason says why a case cannot be replayed on a master by a noop
// build, or "" when it can.
func SkipReason(res *compiler.Result, c *Case) string {
	d := res.Def(c.Job)
	if d == nil {
		return c.Job + " is not in the build"
	}
	if d.Flow == nil && len(c.Sh) > 0 {
		return "the case mocks sh steps of a raw Groovy orchestration, which a noop build runs for real"
	}
	var orch []string
	for name := range c.Mocks {
		if m := res.Def(name); m != nil && m.Job.Kind == jobs.Orchestration {
			orch = append(orch, name)
		}
	}
	if len(orch) > 0 {
		sort.Strings(orch)
		return "the case mocks " + strings.Join(orch, ", ") + ", which a noop build runs for real"
	}
	return ""
}

// Run replays every case. Cases that cannot be replayed are skipped
// (CaseResult.Skipped); a case that fails to run fails. An error means
// the run itself failed (the master could not be listed, or ctx ended).
func (r *MasterRunner) Run(ctx context.Context, cases []*Case) ([]*CaseResult, error) {
	folder := r.Noop.Project.Name
	f, err := r.Client.ListFolder(ctx, folder)
	if err != nil {
		return nil, err
	}
	conc := r.Concurrency
	if conc < 1 {
		conc = 4
	}
	out := make([]*CaseResult, len(cases))
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for i, c := range cases {
		out[i] = &CaseResult{Case: c, Mode: ModeMaster}
		if why := SkipReason(r.Result, c); why != "" {
			out[i].Skipped = why
			continue
		}
		deployed, ok := master.LatestVersion(f, compiler.ViewName, c.Job)
		if !ok {
			out[i].Failures = []string{fmt.Sprintf("%s is not deployed to the folder %s (its view %s lists no version of it)", c.Job, folder, compiler.ViewName)}
			continue
		}
		wg.Add(1)
		go func(res *CaseResult) {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			start := time.Now()
			tr, err := r.runCase(ctx, res.Case, folder+"/"+deployed)
			res.Duration = time.Since(start)
			if err != nil {
				res.Failures = []string{err.Error()}
				return
			}
			res.Trace = tr
			res.Failures = CheckMaster(res.Case, tr)
		}(out[i])
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// runCase triggers one case and reads its trace back.
func (r *MasterRunner) runCase(ctx context.Context, c *Case, job string) (*Trace, error) {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d := r.Noop.Def(c.Job)
	params := url.Values{}
	for k, v := range ResolveParams(d.Job, c.Params) {
		params.Set(k, fmt.Sprint(v))
	}
	if d.Flow != nil {
		// Offline, the flow's own callback to REPORT_RETURN_URL is mocked
		// to succeed; a replay must not notify the real receiver (nor fail
		// UNSTABLE when it cannot reach it), so the callback is left out.
		params.Set(compiler.ReportReturnURL, "")
	}
	params.Set(compiler.NoopCaseParam, c.ID())
	q, err := r.Client.Trigger(ctx, job, params)
	if err != nil {
		return nil, err
	}
	poll := r.Poll
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	o, err := r.Client.Wait(ctx, q, master.WaitOptions{Poll: poll})
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return nil, fmt.Errorf("%s did not end within %s (%s)", job, timeout, q)
		}
		return nil, err
	}
	if o.Cancelled || o.Build == nil {
		return nil, fmt.Errorf("%s: the queue item %s was cancelled", job, q)
	}
	b := o.Build
	tr := &Trace{Outcome: Outcome{Status: b.Result, Data: map[string]any{}}}
	rep, err := r.Client.Report(ctx, b)
	if err != nil {
		return nil, err
	}
	if rep != nil {
		var doc struct {
			Reason string         `json:"reason"`
			Data   map[string]any `json:"data"`
		}
		if err := json.Unmarshal(rep.Raw, &doc); err != nil {
			return nil, fmt.Errorf("reading the report of %s: %w", b.URL, err)
		}
		tr.Outcome.Reason = doc.Reason
		if doc.Data != nil {
			tr.Outcome.Data = normalizeJSON(doc.Data).(map[string]any)
		}
	}
	type queued struct {
		id   int64
		call Call
	}
	var calls []queued
	folder := r.Noop.Project.Name
	for _, name := range d.Calls {
		cd := r.Noop.Def(name)
		if cd == nil {
			continue
		}
		builds, err := r.Client.Builds(ctx, folder+"/"+cd.Deployed)
		if err != nil {
			return nil, err
		}
		for _, lb := range builds {
			// This case's calls: queued after the orchestration, by it.
			if lb.Params[compiler.NoopCaseParam] != c.ID() || lb.QueueID <= o.Queue.ID || lb.Timestamp < b.Timestamp {
				continue
			}
			p := make(map[string]string, len(lb.Params))
			for k, v := range lb.Params {
				if k != compiler.NoopCaseParam && k != compiler.NoopCallParam {
					p[k] = v
				}
			}
			calls = append(calls, queued{id: lb.QueueID, call: Call{Job: name, Params: p, Result: lb.Result}})
		}
	}
	sort.SliceStable(calls, func(i, j int) bool { return calls[i].id < calls[j].id })
	for _, q := range calls {
		tr.Calls = append(tr.Calls, q.call)
	}
	return tr, nil
}

// CheckMaster is Check for a case replayed on a master: the master does
// not know a call's phase, so expected phases are not checked, and steps
// that run concurrently are queued in any order, so the calls made are
// matched to the expected ones in any order (each expected call takes the
// first unmatched call of its job; the rest follow in queue order).
func CheckMaster(c *Case, tr *Trace) []string {
	cc := *c
	cc.Expect.Calls = make([]ExpectCall, len(c.Expect.Calls))
	for i, w := range c.Expect.Calls {
		w.Phase = ""
		cc.Expect.Calls[i] = w
	}
	t := *tr
	if c.Expect.HasCalls {
		t.Calls = alignCalls(cc.Expect.Calls, tr.Calls)
	}
	return Check(&cc, &t)
}

// alignCalls reorders got to follow want where it can.
func alignCalls(want []ExpectCall, got []Call) []Call {
	used := make([]bool, len(got))
	out := make([]Call, 0, len(got))
	for _, w := range want {
		best := -1
		for i, g := range got {
			if used[i] || g.Job != w.Job {
				continue
			}
			if best < 0 {
				best = i
			}
			if matchCall(w, g) == "" {
				best = i
				break
			}
		}
		if best >= 0 {
			used[best] = true
			out = append(out, got[best])
		}
	}
	for i, g := range got {
		if !used[i] {
			out = append(out, g)
		}
	}
	return out
}
