package local

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Request body limits.
const (
	maxConfigBody = 16 << 20 // config.xml, createItem, createView
	maxFormBody   = 1 << 20  // forms and query-like bodies
)

// request is one HTTP request being served.
type request struct {
	m         *Master
	w         http.ResponseWriter
	r         *http.Request
	base      string // the root URL the client used, ending with /
	user      string // the authenticated user; "" for anonymous
	tokenAuth bool   // authenticated with the API token: exempt from crumbs
	form      url.Values
}

func (m *Master) serveHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Jenkins", m.cfg.Version)
	h.Set("X-Hudson", "1.395")
	h.Set("X-Jenkins-Session", m.session)
	h.Set("X-Content-Type-Options", "nosniff")
	rq := &request{m: m, w: w, r: r, base: baseURL(r)}
	m.lastURL.Store(rq.base)
	m.serve()
	segs, err := splitPath(r.URL.EscapedPath())
	if err != nil {
		rq.fail(400, "Invalid path: "+err.Error())
		return
	}
	m.mu.RLock()
	closed := m.closed
	m.mu.RUnlock()
	if closed {
		rq.page(http.StatusServiceUnavailable, "Jenkins is going to shut down", "The local master is shutting down.")
		return
	}
	if !rq.authenticate(segs) {
		return
	}
	if r.Method == http.MethodPost {
		if !rq.tokenAuth && !unprotected(segs) && !rq.checkCrumb() {
			rq.page(http.StatusForbidden, "Error 403 No valid crumb was included in the request", "No valid crumb was included in the request")
			return
		}
	}
	rq.dispatch(segs)
}

// baseURL is the root URL as the client addressed the master.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	host := r.Host
	if host == "" {
		host = "localhost"
	}
	return scheme + "://" + host + "/"
}

// splitPath splits an escaped path into decoded segments: repeated and
// trailing slashes are dropped. A segment holding an encoded slash keeps
// it, so that it matches no name.
func splitPath(p string) ([]string, error) {
	var segs []string
	for _, s := range strings.Split(p, "/") {
		if s == "" {
			continue
		}
		d, err := url.PathUnescape(s)
		if err != nil {
			return nil, err
		}
		segs = append(segs, d)
	}
	return segs, nil
}

func isForm(r *http.Request) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct == "application/x-www-form-urlencoded" || ct == "multipart/form-data"
}

// authenticate applies the master's security: with a user and token, an
// anonymous request is refused (403, as for a Jenkins whose anonymous user
// cannot read) and a bad login is 401. It reports whether to go on.
func (rq *request) authenticate(segs []string) bool {
	m := rq.m
	auth := rq.r.Header.Get("Authorization")
	if !m.secured() {
		return true // credentials are ignored, as by a Jenkins without security
	}
	if auth != "" {
		user, pass, ok := rq.r.BasicAuth()
		if ok && user == m.cfg.User && subtle.ConstantTimeCompare([]byte(pass), []byte(m.cfg.Token)) == 1 {
			rq.user, rq.tokenAuth = user, true
			return true
		}
		rq.w.Header().Set("WWW-Authenticate", `Basic realm="Jenkins"`)
		who := user
		if !ok {
			who = "the given credentials"
		}
		rq.page(http.StatusUnauthorized, "Error 401 Unauthorized", "Invalid password/token for user: "+who)
		return false
	}
	if len(segs) > 0 && segs[0] == "whoAmI" || unprotected(segs) {
		return true
	}
	rq.w.Header().Set("X-You-Are-Authenticated-As", "anonymous")
	rq.w.Header().Set("X-Required-Permission", "hudson.model.Hudson.Read")
	rq.page(http.StatusForbidden, "Error 403 Forbidden", "Authentication required: anonymous is missing the Overall/Read permission")
	return false
}

// crumbFor is the crumb of a session and user: bound to both, verifiable
// without keeping sessions.
func (m *Master) crumbFor(session, user string) string {
	h := hmac.New(sha256.New, m.secret)
	h.Write([]byte(session))
	h.Write([]byte{0})
	h.Write([]byte(user))
	return hex.EncodeToString(h.Sum(nil))
}

func (rq *request) session() string {
	if c, err := rq.r.Cookie(rq.m.cookie); err == nil {
		return c.Value
	}
	return ""
}

// checkCrumb reports whether a POST carries the crumb of its session, in
// the Jenkins-Crumb header or parameter.
func (rq *request) checkCrumb() bool {
	crumb := rq.r.Header.Get("Jenkins-Crumb")
	if crumb == "" {
		crumb = rq.r.URL.Query().Get("Jenkins-Crumb")
	}
	if crumb == "" && isForm(rq.r) {
		if f := rq.params(); f != nil {
			crumb = f.Get("Jenkins-Crumb")
			if crumb == "" {
				crumb = f.Get(".crumb")
			}
		}
	}
	s := rq.session()
	if crumb == "" || s == "" {
		return false
	}
	return hmac.Equal([]byte(crumb), []byte(rq.m.crumbFor(s, rq.user)))
}

// params returns the query and form parameters (form values first). It
// returns nil, after answering 413, when the body is too large.
func (rq *request) params() url.Values {
	if rq.form != nil {
		return rq.form
	}
	r := rq.r
	if isForm(r) {
		r.Body = http.MaxBytesReader(rq.w, r.Body, maxFormBody)
	}
	var err error
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "multipart/form-data" {
		err = r.ParseMultipartForm(maxFormBody)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			rq.page(http.StatusRequestEntityTooLarge, "Error 413", "The request body is too large")
			return nil
		}
		rq.form = r.URL.Query()
		return rq.form
	}
	rq.form = r.Form
	return rq.form
}

// param returns a query or form parameter.
func (rq *request) param(name string) (string, bool) {
	f := rq.params()
	if f == nil {
		return "", false
	}
	v, ok := f[name]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// query returns a query parameter (never reading the body).
func (rq *request) query(name string) (string, bool) {
	v, ok := rq.r.URL.Query()[name]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// body reads a request body of at most limit bytes; it answers 413 and
// returns false beyond.
func (rq *request) body(limit int64) ([]byte, bool) {
	data, err := io.ReadAll(io.LimitReader(rq.r.Body, limit+1))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		data, err = make([]byte, limit+1), nil
	}
	if err != nil {
		rq.page(http.StatusBadRequest, "Error 400", "Cannot read the request body: "+err.Error())
		return nil, false
	}
	if int64(len(data)) > limit {
		rq.page(http.StatusRequestEntityTooLarge, "Error 413", fmt.Sprintf("The request body is larger than %d bytes", limit))
		return nil, false
	}
	return data, true
}

// Responses.

// page writes an HTML page with a status.
func (rq *request) page(status int, title, msg string) {
	h := rq.w.Header()
	h.Set("Content-Type", "text/html;charset=utf-8")
	h.Set("Cache-Control", "no-cache,no-store,must-revalidate")
	body := "<!DOCTYPE html>\n<html><head><title>" + html.EscapeString(title) + "</title></head><body><h1>" +
		html.EscapeString(title) + "</h1><p>" + html.EscapeString(msg) + "</p></body></html>\n"
	h.Set("Content-Length", strconv.Itoa(len(body)))
	rq.w.WriteHeader(status)
	io.WriteString(rq.w, body)
}

func (rq *request) notFound() {
	rq.page(http.StatusNotFound, "Error 404 Not Found", "Not Found: "+rq.r.URL.Path)
}

// fail is a failed check, as Jenkins' Failure: 400, X-Error and a page.
func (rq *request) fail(status int, msg string) {
	rq.w.Header().Set("X-Error", strings.NewReplacer("\r", " ", "\n", " ").Replace(msg))
	rq.page(status, "Error", msg)
}

func (rq *request) serverError(msg string) {
	rq.m.logf("local master: %s %s: 500: %s", rq.r.Method, rq.r.URL.Path, msg)
	rq.page(http.StatusInternalServerError, "Error 500", msg)
}

func (rq *request) methodNotAllowed(allow string) {
	rq.w.Header().Set("Allow", allow)
	rq.page(http.StatusMethodNotAllowed, "Error 405 Method Not Allowed", "This URL requires "+allow)
}

// empty answers with a status and no body, Content-Length: 0.
func (rq *request) empty(status int) {
	rq.w.Header().Set("Content-Length", "0")
	rq.w.WriteHeader(status)
}

func (rq *request) redirect(status int, location string) {
	rq.w.Header().Set("Location", location)
	rq.empty(status)
}

func (rq *request) text(status int, contentType string, body []byte) {
	h := rq.w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	rq.w.WriteHeader(status)
	rq.w.Write(body)
}

// requirePOST answers 405 to anything but POST and reports whether the
// request is one.
func (rq *request) requirePOST() bool {
	if rq.r.Method != http.MethodPost {
		rq.methodNotAllowed("POST")
		return false
	}
	return true
}

func (rq *request) requireGET() bool {
	if rq.r.Method != http.MethodGet && rq.r.Method != http.MethodHead {
		rq.methodNotAllowed("GET")
		return false
	}
	return true
}

// pruner reads tree= and depth=; it answers 400 and returns false when
// they are malformed.
func (rq *request) pruner() (pruner, bool) {
	if t, ok := rq.query("tree"); ok {
		tr, err := parseTree(t)
		if err != nil {
			rq.fail(http.StatusBadRequest, "Invalid tree parameter: "+t)
			return pruner{}, false
		}
		return pruner{tree: tr}, true
	}
	depth := 0
	if d, ok := rq.query("depth"); ok && d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			rq.fail(http.StatusBadRequest, "Invalid depth parameter: "+d)
			return pruner{}, false
		}
		depth = n
	}
	return depthPruner(depth), true
}

// api serves rest (the segments after an object's URL, starting with
// "api") as the object's JSON: api/json and anything after it. value is
// called under the read lock and returns nil when the object is gone.
func (rq *request) api(rest []string, value func() any) {
	if len(rest) < 2 || rest[1] != "json" {
		rq.notFound()
		return
	}
	if !rq.requireGET() {
		return
	}
	p, ok := rq.pruner()
	if !ok {
		return
	}
	m := rq.m
	c := &jctx{m: m, base: rq.base, now: m.now(), buf: make([]byte, 0, 4096)}
	m.mu.RLock()
	v := value()
	if v == nil {
		m.mu.RUnlock()
		rq.notFound()
		return
	}
	out := c.encode(v, p)
	m.mu.RUnlock()
	if pretty, _ := rq.query("pretty"); pretty == "true" {
		var b bytes.Buffer
		if json.Indent(&b, out, "", "  ") == nil {
			out = b.Bytes()
		}
	}
	rq.text(http.StatusOK, "application/json;charset=utf-8", out)
}

// remoteAddr is the client's address, for RemoteCause.
func (rq *request) remoteAddr() string {
	host, _, err := net.SplitHostPort(rq.r.RemoteAddr)
	if err != nil {
		return rq.r.RemoteAddr
	}
	return host
}

// userName is how the requester appears in causes and console lines.
func (rq *request) userName() string {
	if rq.user == "" {
		return "anonymous"
	}
	return rq.user
}

// jsonBytes encodes a fixed value (crumbs, whoAmI) with the request's
// tree and depth.
func (rq *request) fixedJSON(rest []string, o jobj) {
	rq.api(rest, func() any { return o })
}
