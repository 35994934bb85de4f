package master

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/jobctl/jobctl/jobs"
)

// Verbs of a deploy's result, one per job (and the folder and view).
const (
	Created   = "created"
	Unchanged = "unchanged"
	Drifted   = "drift"
	Failed    = "failed"
	Skipped   = "skipped" // not created because a job it calls failed
)

// Result is what Apply did.
type Result struct {
	FolderCreated bool        `json:"folder_created"`
	Jobs          []JobResult `json:"jobs"`
	ViewUpdated   bool        `json:"view_updated"`
}

// JobResult is what happened to one job.
type JobResult struct {
	Deployed string `json:"deployed"`
	Verb     string `json:"verb"`
	Error    string `json:"error,omitempty"`
}

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// Concurrency bounds the creates in flight (default 8).
	Concurrency int
	// Progress, when set, is called after each job is created.
	Progress func(done, total int, deployed string)
}

// Apply carries out a plan: the folder if missing, then the missing jobs,
// each only after the jobs it calls exist (with up to Concurrency creates
// in flight), then, only when every job exists, the view. A plan with
// unmet plugins or drift changes nothing. A failure part-way leaves the
// view as it was: the previous versions stay the latest, and running the
// deploy again converges (creates are verified, not repeated).
func (c *Client) Apply(ctx context.Context, p *DeployPlan, opt ApplyOptions) (*Result, error) {
	res := &Result{Jobs: []JobResult{}}
	for _, d := range p.Drift {
		res.Jobs = append(res.Jobs, JobResult{Deployed: d.Deployed, Verb: Drifted, Error: d.Reason})
	}
	if len(p.Unmet) > 0 {
		return res, fmt.Errorf("the master does not meet %d plugin requirement(s); nothing deployed", len(p.Unmet))
	}
	if len(p.Drift) > 0 {
		return res, fmt.Errorf("%d job(s) drifted on the master (a deployed name with other content); nothing deployed", len(p.Drift))
	}
	if p.CreateFolder {
		if err := c.createItem(ctx, "", p.Folder, p.build.Folder, func(context.Context) error {
			_, err := c.ListFolder(ctx, p.Folder) // exists: it is the folder we asked for
			return err
		}); err != nil {
			return res, err
		}
		res.FolderCreated = true
	}
	for _, j := range p.Unchanged {
		res.Jobs = append(res.Jobs, JobResult{Deployed: j.Deployed, Verb: Unchanged})
	}
	created, err := c.createJobs(ctx, p, opt)
	res.Jobs = append(res.Jobs, created...)
	if err != nil {
		return res, err
	}
	if p.View.Create || p.View.Update {
		if err := c.putView(ctx, p); err != nil {
			return res, err
		}
		res.ViewUpdated = true
	}
	return res, nil
}

// createJobs creates the plan's missing jobs in dependency order.
func (c *Client) createJobs(ctx context.Context, p *DeployPlan, opt ApplyOptions) ([]JobResult, error) {
	n := opt.Concurrency
	if n <= 0 {
		n = 8
	}
	index := make(map[string]int, len(p.Create))
	for i, j := range p.Create {
		index[j.Deployed] = i
	}
	wait := make([][]int, len(p.Create))
	for i, j := range p.Create {
		for _, callee := range j.Calls {
			if k, ok := index[callee]; ok {
				wait[i] = append(wait[i], k)
			}
		}
	}
	results := make([]JobResult, len(p.Create))
	var mu sync.Mutex
	count := 0
	runOrdered(ctx, len(p.Create), n, wait, func(i int) error {
		j := p.Create[i]
		if err := c.CreateJob(ctx, p.Folder+"/"+j.Deployed, p.Project, j.Name, p.build.XML[j.Deployed]); err != nil {
			results[i] = JobResult{Deployed: j.Deployed, Verb: Failed, Error: err.Error()}
			return err
		}
		results[i] = JobResult{Deployed: j.Deployed, Verb: Created}
		mu.Lock()
		defer mu.Unlock()
		count++
		if opt.Progress != nil {
			opt.Progress(count, len(p.Create), j.Deployed)
		}
		return nil
	}, func(i, dep int, _ bool) {
		var msg string
		if dep >= 0 {
			msg = "not created: " + p.Create[dep].Deployed + " was not created"
		} else {
			msg = ctx.Err().Error()
		}
		results[i] = JobResult{Deployed: p.Create[i].Deployed, Verb: Skipped, Error: msg}
	})
	var errs []error
	for _, r := range results {
		if r.Verb == Failed {
			errs = append(errs, errors.New(r.Error))
		}
	}
	if len(errs) == 0 && ctx.Err() != nil {
		errs = append(errs, ctx.Err())
	}
	for _, r := range results {
		if r.Verb == Skipped && len(errs) == 0 {
			errs = append(errs, errors.New(r.Error))
		}
	}
	return results, errors.Join(errs...)
}

// CreateJob creates the job fullName ("folder/name") from its config.xml.
// A create whose response was lost may have succeeded: when a retry is
// told the job already exists, CreateJob reads the job's marker and
// accepts it only if it is this very definition (project, common name and
// the hash in the deployed name).
func (c *Client) CreateJob(ctx context.Context, fullName, project, name string, config []byte) error {
	_, version, hash, ok := jobs.ParseDeployedName(fullName[strings.LastIndexByte(fullName, '/')+1:])
	verify := func(ctx context.Context) error {
		var out struct {
			Description string `json:"description"`
		}
		if err := c.getJSON(ctx, "reading", fullName, jobPath(fullName), map[string]string{"tree": "description"}, &out); err != nil {
			return err
		}
		mk, found := jobs.ParseMarker(out.Description)
		if !ok || !found || mk.Project != project || mk.Name != name || mk.Version != version || mk.Hash != hash {
			return fmt.Errorf("creating %s: it already exists with other content (drift); not overwritten", fullName)
		}
		return nil
	}
	parent, _ := parentPath(fullName)
	return c.createItem(ctx, parent, fullName, config, verify)
}

// createItem POSTs createItem with an XML body, retrying on 5xx and
// connection errors. A 400 saying the item already exists is checked with
// verify (the create may have succeeded on an earlier try, or by another
// deploy) instead of failing.
func (c *Client) createItem(ctx context.Context, parent, fullName string, config []byte, verify func(context.Context) error) error {
	_, base := parentPath(fullName)
	var exists bool
	err := c.retry(ctx, "creating", fullName, func() (int, error) {
		status, err := c.post(ctx, parent+"/createItem", url.Values{"name": {base}}, "application/xml; charset=utf-8", config)
		var he *httpError
		if status == http.StatusBadRequest && errors.As(err, &he) && strings.Contains(he.Msg, "already exists") {
			exists = true
			return 0, nil
		}
		return status, err
	})
	if err != nil {
		return err
	}
	if exists {
		return verify(ctx)
	}
	return nil
}

// putView creates the project view or replaces its config.xml.
func (c *Client) putView(ctx context.Context, p *DeployPlan) error {
	folder := jobPath(p.Folder)
	obj := p.Folder + " view " + p.View.Name
	if p.View.Create {
		var exists bool
		err := c.retry(ctx, "creating", obj, func() (int, error) {
			status, err := c.post(ctx, folder+"/createView", url.Values{"name": {p.View.Name}}, "application/xml; charset=utf-8", p.View.xml)
			var he *httpError
			if status == http.StatusBadRequest && errors.As(err, &he) && strings.Contains(he.Msg, "already exists") {
				exists = true
				return 0, nil
			}
			return status, err
		})
		if err != nil || !exists {
			return err
		}
	}
	// Replacing a config is idempotent: retries are safe.
	return c.retry(ctx, "updating", obj, func() (int, error) {
		return c.post(ctx, folder+"/view/"+url.PathEscape(p.View.Name)+"/config.xml", nil, "application/xml; charset=utf-8", p.View.xml)
	})
}

// DeleteJob deletes a job with DELETE /job/.../ (204), which, unlike
// doDelete's 302 to an HTML page, gojenkins-style clients read right. A
// job already gone is not an error.
func (c *Client) DeleteJob(ctx context.Context, fullName string) error {
	return c.retry(ctx, "deleting", fullName, func() (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodDelete, c.base+jobPath(fullName)+"/", nil)
		if err != nil {
			return 0, err
		}
		if err := c.fetchCrumb(ctx); err != nil {
			return 0, err
		}
		status, err := c.send(req)
		if status == http.StatusNotFound {
			return status, nil
		}
		return status, err
	})
}
