package master

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jobctl/jobctl/jobs"
)

// Following builds: trigger, the queue, builds, artifacts and consoles.
// gojenkins' GetBuildFromQueueID sleeps, ignores cancellation and 404 and
// never ends on its own, so Wait polls queue items and builds itself.

// LatestVersion returns the deployed name of name's latest version in a
// listed folder: the one the view (e.g. "latest") lists. ok is false when
// the view does not exist or lists no version of name.
func LatestVersion(f *Folder, view, name string) (string, bool) {
	v := f.View(view)
	if v == nil {
		return "", false
	}
	best, bestVersion := "", -1
	for _, j := range v.Jobs {
		if n, ver, _, ok := jobs.ParseDeployedName(j); ok && n == name && ver > bestVersion {
			best, bestVersion = j, ver
		}
	}
	return best, best != ""
}

// Trigger queues a build of job (a full name, "folder/name") with params
// (buildWithParameters; build when params is nil) and returns the queue
// item's URL. The trigger is sent at most once unless the connection was
// refused (nothing was sent): a POST that may have been received is never
// repeated, so a build is never triggered twice.
func (c *Client) Trigger(ctx context.Context, job string, params url.Values) (string, error) {
	if err := c.fetchCrumb(ctx); err != nil {
		return "", c.wrap("triggering", job, err)
	}
	path := jobPath(job) + "/build"
	var body string
	if params != nil {
		path = jobPath(job) + "/buildWithParameters"
		body = params.Encode()
	}
	var loc string
	err := c.retry(ctx, "triggering", job, func() (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, strings.NewReader(body))
		if err != nil {
			return http.StatusBadRequest, err
		}
		if params != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		status, hdr, err := c.sendHeader(req)
		if status == http.StatusSeeOther {
			// The same parameters are already queued: that item.
			loc = hdr.Get("Location")
			return status, nil
		}
		if err != nil {
			if status == 0 && errors.Is(err, syscall.ECONNREFUSED) {
				return 0, err // nothing was sent: try again
			}
			// It was (or may have been) received: never send it again.
			return http.StatusBadRequest, err
		}
		loc = hdr.Get("Location")
		return status, nil
	})
	if err != nil {
		return "", err
	}
	if loc == "" || !strings.Contains(loc, "/queue/item/") {
		return "", c.wrap("triggering", job, fmt.Errorf("the master answered without a queue item (Location %q)", loc))
	}
	return loc, nil
}

// QueueItem is a queue item as the master reports it.
type QueueItem struct {
	ID         int64  `json:"id"`
	Class      string `json:"_class"`
	Why        string `json:"why,omitempty"`
	Blocked    bool   `json:"blocked"`
	Buildable  bool   `json:"buildable"`
	Cancelled  bool   `json:"cancelled,omitempty"`
	Task       *Task  `json:"task,omitempty"`
	Executable *Ref   `json:"executable,omitempty"`
}

// Task is the job a queue item would build.
type Task struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// Ref points at a build.
type Ref struct {
	Number int    `json:"number"`
	URL    string `json:"url"`
}

// State is where a queue item is: waiting, blocked, buildable, cancelled
// or left (its build started).
func (q *QueueItem) State() string {
	switch {
	case q.Cancelled:
		return "cancelled"
	case q.Executable != nil:
		return "left"
	case q.Blocked || strings.HasSuffix(q.Class, "$BlockedItem"):
		return "blocked"
	case q.Buildable || strings.HasSuffix(q.Class, "$BuildableItem"):
		return "buildable"
	default:
		return "waiting"
	}
}

// queuePath returns the path "/queue/item/ID" of a queue item URL, read
// relative to this client's master (the URL may name another host, e.g.
// through a proxy).
func queuePath(queueURL string) (string, error) {
	i := strings.Index(queueURL, "/queue/item/")
	if i < 0 {
		return "", fmt.Errorf("%q is not a queue item URL (…/queue/item/ID/)", queueURL)
	}
	id := strings.Trim(queueURL[i+len("/queue/item/"):], "/")
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		return "", fmt.Errorf("%q is not a queue item URL (…/queue/item/ID/)", queueURL)
	}
	return "/queue/item/" + id, nil
}

// ParseQueueURL checks that s is a queue item URL.
func ParseQueueURL(s string) error {
	_, err := queuePath(s)
	return err
}

// Queue reads a queue item. A left item disappears after 5 minutes: then
// the error is a 404 (IsNotFound).
func (c *Client) Queue(ctx context.Context, queueURL string) (*QueueItem, error) {
	p, err := queuePath(queueURL)
	if err != nil {
		return nil, err
	}
	var q QueueItem
	if err := c.getJSON(ctx, "reading queue item", queueURL, p, nil, &q); err != nil {
		return nil, err
	}
	return &q, nil
}

// BuildInfo is a build as the master reports it.
type BuildInfo struct {
	Number    int        `json:"number"`
	URL       string     `json:"url"`
	Building  bool       `json:"building"`
	Result    string     `json:"result,omitempty"`
	Timestamp int64      `json:"timestamp"`
	Duration  int64      `json:"duration"`
	Artifacts []Artifact `json:"artifacts"`
}

// Artifact is a file a build archived.
type Artifact struct {
	FileName     string `json:"fileName"`
	RelativePath string `json:"relativePath"`
}

const buildTree = "number,url,building,result,timestamp,duration,artifacts[fileName,relativePath]"

// BuildPath is the path of build n of job (a full name).
func BuildPath(job string, n int) string { return jobPath(job) + "/" + strconv.Itoa(n) }

// buildPathOf returns the path of a build URL relative to the master.
func (c *Client) buildPathOf(buildURL string) string {
	u, err := url.Parse(buildURL)
	if err != nil {
		return buildURL
	}
	p := u.EscapedPath()
	if b, err := url.Parse(c.base); err == nil && b.Path != "" && strings.HasPrefix(p, b.Path) {
		p = p[len(b.Path):]
	}
	return strings.TrimRight(p, "/")
}

// BuildAt reads a build by its URL.
func (c *Client) BuildAt(ctx context.Context, buildURL string) (*BuildInfo, error) {
	return c.build(ctx, buildURL, c.buildPathOf(buildURL))
}

// Build reads build n of job (a full name); n 0 is the last build.
func (c *Client) Build(ctx context.Context, job string, n int) (*BuildInfo, error) {
	p := jobPath(job) + "/lastBuild"
	what := job + " last build"
	if n > 0 {
		p = BuildPath(job, n)
		what = fmt.Sprintf("%s #%d", job, n)
	}
	return c.build(ctx, what, p)
}

func (c *Client) build(ctx context.Context, what, path string) (*BuildInfo, error) {
	var b BuildInfo
	if err := c.getJSON(ctx, "reading build", what, path, map[string]string{"tree": buildTree}, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

// Report is a build's report.json.
type Report struct {
	Raw  json.RawMessage
	Data map[string]any // its "data" object (nil if none)
}

// Report reads the build's report.json artifact; nil when it has none.
func (c *Client) Report(ctx context.Context, b *BuildInfo) (*Report, error) {
	rel := ""
	for _, a := range b.Artifacts {
		if a.FileName == "report.json" && (rel == "" || a.RelativePath == "report.json") {
			rel = a.RelativePath
		}
	}
	if rel == "" {
		return nil, nil
	}
	p := c.buildPathOf(b.URL) + "/artifact/" + rel
	status, _, body, err := c.getRaw(ctx, "reading report of", b.URL, p, nil)
	if err != nil {
		if status == http.StatusNotFound {
			return nil, nil
		}
		return nil, err
	}
	var r struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("reading report of %s: %w", b.URL, err)
	}
	return &Report{Raw: json.RawMessage(body), Data: r.Data}, nil
}

// LogChunk is a piece of a build's console.
type LogChunk struct {
	Text string
	Next int64 // the start of the next chunk
	More bool  // the build is still writing
}

// Log reads a build's console from byte start (logText/progressiveText).
func (c *Client) Log(ctx context.Context, buildURL string, start int64) (*LogChunk, error) {
	p := c.buildPathOf(buildURL) + "/logText/progressiveText"
	status, hdr, body, err := c.getRaw(ctx, "reading console of", buildURL, p, url.Values{"start": {strconv.FormatInt(start, 10)}})
	_ = status
	if err != nil {
		return nil, err
	}
	next := start + int64(len(body))
	if s := hdr.Get("X-Text-Size"); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			next = n
		}
	}
	return &LogChunk{Text: string(body), Next: next, More: hdr.Get("X-More-Data") == "true"}, nil
}

// getRaw GETs path?query (no trailing "/" added) with retries and returns
// the status, headers and body.
func (c *Client) getRaw(ctx context.Context, verb, object, path string, query url.Values) (int, http.Header, []byte, error) {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var status int
	var hdr http.Header
	var body []byte
	err := c.retry(ctx, verb, object, func() (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return http.StatusBadRequest, err
		}
		c.auth(req)
		resp, err := c.http.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		status, hdr = resp.StatusCode, resp.Header
		if body, err = io.ReadAll(resp.Body); err != nil {
			return 0, err
		}
		if status >= 300 {
			return status, &httpError{Status: status, Msg: resp.Header.Get("X-Error")}
		}
		return status, nil
	})
	return status, hdr, body, err
}

// Outcome is how a followed build ended.
type Outcome struct {
	Queue     *QueueItem
	Cancelled bool       // the queue item was cancelled before it started
	Build     *BuildInfo // nil when cancelled
}

// WaitOptions tune Wait.
type WaitOptions struct {
	// Poll is the wait between polls (default 500ms).
	Poll time.Duration
	// Progress, when set, is called with a line on each change of state.
	Progress func(state string)
}

// Wait follows a queue item to the end of its build. It stops with the
// context (the build goes on) and when the item is cancelled.
func (c *Client) Wait(ctx context.Context, queueURL string, opt WaitOptions) (*Outcome, error) {
	if opt.Poll <= 0 {
		opt.Poll = 500 * time.Millisecond
	}
	say := func(string) {}
	last := ""
	if opt.Progress != nil {
		say = func(s string) {
			if s != last {
				last = s
				opt.Progress(s)
			}
		}
	}
	sleep := func() error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(opt.Poll):
			return nil
		}
	}
	var q *QueueItem
	for {
		var err error
		if q, err = c.Queue(ctx, queueURL); err != nil {
			return nil, err
		}
		if q.Cancelled {
			return &Outcome{Queue: q, Cancelled: true}, nil
		}
		if q.Executable != nil {
			break
		}
		st := q.State()
		if q.Why != "" {
			st += ": " + q.Why
		}
		say(st)
		if err := sleep(); err != nil {
			return &Outcome{Queue: q}, err
		}
	}
	for {
		b, err := c.BuildAt(ctx, q.Executable.URL)
		if err != nil {
			return nil, err
		}
		if !b.Building && b.Result != "" {
			return &Outcome{Queue: q, Build: b}, nil
		}
		say(fmt.Sprintf("building #%d", b.Number))
		if err := sleep(); err != nil {
			return &Outcome{Queue: q, Build: b}, err
		}
	}
}
