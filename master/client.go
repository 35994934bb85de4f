// Package master is the only code that talks HTTP to a Jenkins master. It
// uses gojenkins v1.2.0 for what gojenkins does well (its requester, JSON
// decoding) and works around its known gaps (see the shared reference,
// jenkins-api.md): its own http.Client with a timeout that never follows
// redirects, one request listing a whole project folder, a crumb fetched
// once instead of before every POST (gojenkins' per-POST crumb request
// doubles the requests and panics when it fails), status codes checked on
// every response, retries with backoff on 5xx, connection errors and
// timeouts but never on 4xx, and errors that name the verb and the job.
//
// Deploying is plan, then apply: Plan compares a build with what the master
// holds and returns a DeployPlan (data, printable, testable); Apply carries
// it out. Pruning is the same: PlanPrune is a pure function of one
// folder listing, the time and the window, and returns a PrunePlan;
// ApplyPrune deletes what it prunes, callers before callees.
//
// Following builds (run, status, logs) goes in its own file here: gojenkins'
// GetBuildFromQueueID sleeps, ignores cancellation and 404 and never ends
// on its own, so queue items are polled by a loop of getJSON calls on
// /queue/item/ID that selects on the context.
package master

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bndr/gojenkins"
)

// DefaultURL is the local master's default address (jobctl master).
const DefaultURL = "http://127.0.0.1:8080/"

// Config says which master to talk to and how.
type Config struct {
	URL   string
	User  string
	Token string
	// Timeout bounds each HTTP request (default 30s).
	Timeout time.Duration
	// Retries is how many times a failed request is tried again (default
	// 5); Backoff the first wait between tries, doubled each time up to
	// 5s (default 200ms).
	Retries int
	Backoff time.Duration
	// Transport is the HTTP transport (default http.DefaultTransport's
	// settings); tests count requests through it.
	Transport http.RoundTripper
}

// ConfigFromEnv reads JENKINS_URL, JENKINS_USER and JENKINS_API_TOKEN. A
// non-empty url (a --url flag) overrides JENKINS_URL; with neither, the
// local master's default address is used.
func ConfigFromEnv(flagURL string) Config {
	c := Config{URL: os.Getenv("JENKINS_URL"), User: os.Getenv("JENKINS_USER"), Token: os.Getenv("JENKINS_API_TOKEN")}
	if flagURL != "" {
		c.URL = flagURL
	}
	return c
}

// Client talks to one master.
type Client struct {
	cfg      Config
	base     string // the root URL, without a trailing "/"
	http     *http.Client
	jenkins  *gojenkins.Jenkins
	defaults bool // the URL is the default one: say how to start a master

	crumbMu     sync.Mutex
	crumbHeader string // e.g. Jenkins-Crumb; "" when the master issues none
	crumb       string
	cookie      string
	crumbDone   bool
}

func init() {
	// gojenkins logs through package loggers that only Init sets; Client
	// does its own first request, so set them here.
	if gojenkins.Info == nil {
		gojenkins.Info = log.New(io.Discard, "", 0)
		gojenkins.Warning = log.New(io.Discard, "", 0)
		gojenkins.Error = log.New(io.Discard, "", 0)
	}
}

// New connects to the master: one GET of its root (what gojenkins' Init
// does, with retries and a status check), which also tells whether anything
// answers there.
func New(ctx context.Context, cfg Config) (*Client, error) {
	c := &Client{cfg: cfg}
	if cfg.URL == "" {
		cfg.URL = DefaultURL
		c.defaults = true
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("master URL %q: want http(s)://host[:port]/", c.redact(cfg.URL))
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Retries < 0 {
		cfg.Retries = 0
	} else if cfg.Retries == 0 {
		cfg.Retries = 5
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 200 * time.Millisecond
	}
	c.cfg = cfg
	c.base = strings.TrimRight(cfg.URL, "/")
	tr := cfg.Transport
	if tr == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 32
		tr = t
	}
	c.http = &http.Client{
		Timeout:   cfg.Timeout,
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	var auth []interface{}
	if cfg.User != "" || cfg.Token != "" {
		auth = []interface{}{cfg.User, cfg.Token}
	}
	c.jenkins = gojenkins.CreateJenkins(c.http, c.base+"/", auth...)
	c.jenkins.Raw = new(gojenkins.ExecutorResponse)
	var hdr http.Header
	tries := cfg.Retries
	if c.defaults {
		tries = 0 // nothing there is the common case: say so at once
	}
	err = c.retryN(ctx, tries, "connecting to", c.base+"/", func() (int, error) {
		resp, err := c.jenkins.Requester.GetJSON(ctx, "/", c.jenkins.Raw, nil)
		if resp != nil {
			hdr = resp.Header
		}
		return statusOf(resp, err)
	})
	if err != nil {
		if c.defaults && isConnErr(err) {
			return nil, fmt.Errorf("no Jenkins master answers at %s: start the local one with `jobctl master` (it serves %s), or set JENKINS_URL (or --url) to your master", DefaultURL, DefaultURL)
		}
		return nil, err
	}
	c.jenkins.Version = hdr.Get("X-Jenkins")
	return c, nil
}

// URL is the master's root URL, ending with "/".
func (c *Client) URL() string { return c.base + "/" }

// Version is the Jenkins version the master reports.
func (c *Client) Version() string { return c.jenkins.Version }

// httpError is a response with a failing status.
type httpError struct {
	Status int
	Msg    string // X-Error or the status text
}

func (e *httpError) Error() string {
	if e.Msg == "" {
		return fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status))
	}
	return fmt.Sprintf("HTTP %d %s: %s", e.Status, http.StatusText(e.Status), e.Msg)
}

// IsNotFound reports whether err is a 404 from the master.
func IsNotFound(err error) bool {
	var he *httpError
	return errors.As(err, &he) && he.Status == http.StatusNotFound
}

// statusOf turns a gojenkins result into a status and an error: gojenkins
// itself checks no status code.
func statusOf(resp *http.Response, err error) (int, error) {
	if resp == nil {
		if err == nil {
			return 0, errors.New("no response")
		}
		if isConnErr(err) {
			return 0, err
		}
		// gojenkins turns an X-Error header (a failed check, 4xx) into a
		// plain error and drops the response.
		return http.StatusBadRequest, &httpError{Status: http.StatusBadRequest, Msg: err.Error()}
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, &httpError{Status: resp.StatusCode}
	}
	if err != nil {
		return 0, err // a body cut short: worth another try
	}
	return resp.StatusCode, nil
}

// isConnErr reports whether err is a connection error or a timeout.
func isConnErr(err error) bool {
	var ne net.Error
	var ue *url.Error
	return errors.As(err, &ne) || errors.As(err, &ue) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

// retryable reports whether a request that ended with status and err is
// worth trying again: never a 4xx.
func retryable(status int, err error) bool {
	if err == nil {
		return false
	}
	if status >= 400 && status < 500 {
		return false
	}
	return true
}

// retry runs try until it succeeds, fails for good, or the tries run out,
// waiting with exponential backoff (and jitter) between tries. The error
// names the verb and the object: "creating modelshop/x-v1-abc: HTTP 500 ...".
func (c *Client) retry(ctx context.Context, verb, object string, try func() (int, error)) error {
	return c.retryN(ctx, c.cfg.Retries, verb, object, try)
}

// retryN is retry with at most n retries.
func (c *Client) retryN(ctx context.Context, n int, verb, object string, try func() (int, error)) error {
	wait := c.cfg.Backoff
	var err error
	for attempt := 0; ; attempt++ {
		var status int
		status, err = try()
		if err == nil || !retryable(status, err) || attempt >= n || ctx.Err() != nil {
			break
		}
		d := wait/2 + rand.N(wait/2+1)
		select {
		case <-ctx.Done():
			return c.wrap(verb, object, ctx.Err())
		case <-time.After(d):
		}
		if wait *= 2; wait > 5*time.Second {
			wait = 5 * time.Second
		}
	}
	if err != nil {
		return c.wrap(verb, object, err)
	}
	return nil
}

// wrap names the verb and object of a failure and removes the token from it.
func (c *Client) wrap(verb, object string, err error) error {
	return &opError{msg: c.redact(fmt.Sprintf("%s %s: %v", verb, object, err)), err: err}
}

// opError is a failed operation; its message never holds the token.
type opError struct {
	msg string
	err error
}

func (e *opError) Error() string { return e.msg }
func (e *opError) Unwrap() error { return e.err }

func (c *Client) redact(s string) string {
	if c.cfg.Token != "" {
		s = strings.ReplaceAll(s, c.cfg.Token, "***")
	}
	return s
}

// getJSON GETs path + "api/json" with query into out, through gojenkins.
func (c *Client) getJSON(ctx context.Context, verb, object, path string, query map[string]string, out any) error {
	return c.retry(ctx, verb, object, func() (int, error) {
		resp, err := c.jenkins.Requester.GetJSON(ctx, path, out, query)
		return statusOf(resp, err)
	})
}

// post sends one POST (no retries: the caller decides, since a POST
// whose response was lost may have taken effect). It returns the status.
func (c *Client) post(ctx context.Context, path string, query url.Values, contentType string, body []byte) (int, error) {
	if err := c.fetchCrumb(ctx); err != nil {
		return 0, err
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return c.send(req)
}

// send sends req with the credentials and crumb and drains the response.
func (c *Client) send(req *http.Request) (int, error) {
	status, _, err := c.sendHeader(req)
	return status, err
}

// auth sets req's credentials.
func (c *Client) auth(req *http.Request) {
	if c.cfg.User != "" || c.cfg.Token != "" {
		req.SetBasicAuth(c.cfg.User, c.cfg.Token)
	}
}

// sendHeader is send, returning the response's headers too.
func (c *Client) sendHeader(req *http.Request) (int, http.Header, error) {
	c.auth(req)
	c.crumbMu.Lock()
	if c.crumbHeader != "" {
		req.Header.Set(c.crumbHeader, c.crumb)
		if c.cookie != "" {
			req.Header.Set("Cookie", c.cookie)
		}
	}
	c.crumbMu.Unlock()
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, resp.Header, err
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, resp.Header, &httpError{Status: resp.StatusCode, Msg: resp.Header.Get("X-Error")}
	}
	return resp.StatusCode, resp.Header, nil
}

// fetchCrumb gets a CSRF crumb once, before the first POST. A master
// without a crumb issuer (404) needs none; requests authenticated with an
// API token are exempt from crumbs, so none is fetched for them.
func (c *Client) fetchCrumb(ctx context.Context) error {
	c.crumbMu.Lock()
	defer c.crumbMu.Unlock()
	if c.crumbDone || c.cfg.Token != "" {
		return nil
	}
	var out struct {
		Crumb             string `json:"crumb"`
		CrumbRequestField string `json:"crumbRequestField"`
	}
	var cookie string
	err := c.retry(ctx, "getting", "a crumb", func() (int, error) {
		resp, err := c.jenkins.Requester.GetJSON(ctx, "/crumbIssuer", &out, nil)
		if resp != nil {
			if sc := resp.Cookies(); len(sc) > 0 {
				cookie = sc[0].Name + "=" + sc[0].Value
			}
		}
		return statusOf(resp, err)
	})
	if err != nil && !IsNotFound(err) {
		return err
	}
	c.crumbHeader, c.crumb, c.cookie = out.CrumbRequestField, out.Crumb, cookie
	c.crumbDone = true
	return nil
}

// jobPath is the URL path of a job: "/job/F/job/N".
func jobPath(fullName string) string {
	var b strings.Builder
	for _, seg := range strings.Split(fullName, "/") {
		b.WriteString("/job/")
		b.WriteString(url.PathEscape(seg))
	}
	return b.String()
}

// parentPath is the path of the folder holding fullName ("" for the root).
func parentPath(fullName string) (string, string) {
	i := strings.LastIndexByte(fullName, '/')
	if i < 0 {
		return "", fullName
	}
	return jobPath(fullName[:i]), fullName[i+1:]
}
