package local

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// triggerBuild serves build and buildWithParameters: 201 with the queue
// item's URL in Location, 303 to the item already queued with the same
// parameters.
func (rq *request) triggerBuild(it *item, withParams bool) {
	if !rq.requirePOST() {
		return
	}
	form := rq.params()
	if form == nil {
		return
	}
	m := rq.m
	var delay *time.Duration
	if d, ok := rq.param("delay"); ok {
		v, err := parseDelay(d)
		if err != nil {
			rq.fail(http.StatusBadRequest, "Invalid time duration value: "+d)
			return
		}
		delay = &v
	}
	var given map[string]string
	if !withParams {
		if j, ok := rq.param("json"); ok && j != "" {
			var err error
			if given, err = jsonParameters(j); err != nil {
				rq.fail(http.StatusBadRequest, "Invalid json parameter: "+err.Error())
				return
			}
		}
	}
	m.mu.Lock()
	if !live(it) || it.deleting {
		m.mu.Unlock()
		rq.notFound()
		return
	}
	if it.cfg.disabled {
		m.mu.Unlock()
		rq.fail(http.StatusConflict, it.fullName()+" is not buildable")
		return
	}
	defs := it.cfg.params
	if len(defs) == 0 && (withParams || len(given) > 0) {
		m.mu.Unlock()
		rq.fail(http.StatusBadRequest, "This build is not parameterized!")
		return
	}
	var params []paramValue
	for _, d := range defs {
		var text string
		var ok bool
		if withParams {
			if vs := form[d.name]; len(vs) > 0 {
				text, ok = vs[0], true
			}
		} else {
			text, ok = given[d.name]
		}
		if !ok {
			params = append(params, d.defaultValue())
			continue
		}
		v, msg := d.value(text)
		if msg != "" {
			m.mu.Unlock()
			rq.fail(http.StatusBadRequest, msg)
			return
		}
		params = append(params, v)
	}
	c := userCause(rq.user)
	if tok, ok := rq.param("token"); ok && tok != "" && it.cfg.authToken != "" && tok == it.cfg.authToken {
		c = remoteCause(rq.remoteAddr())
	}
	wait := m.quietPeriod(it)
	if delay != nil {
		wait = *delay
	}
	q, existing := m.enqueue(it, params, []cause{c}, wait)
	loc := rq.base + q.relURL()
	m.mu.Unlock()
	m.saveQueue()
	if existing {
		rq.redirect(http.StatusSeeOther, loc)
		return
	}
	rq.redirect(http.StatusCreated, loc)
}

// parseDelay parses Stapler's TimeDuration: milliseconds, or seconds with
// a "sec" or "secs" suffix.
func parseDelay(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	unit := time.Millisecond
	if i := strings.LastIndex(s, "sec"); i >= 0 && (strings.HasSuffix(s, "sec") || strings.HasSuffix(s, "secs")) {
		s, unit = strings.TrimSpace(s[:i]), time.Second
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid delay")
	}
	return time.Duration(n) * unit, nil
}

// jsonParameters reads the json= form field of /build:
// {"parameter": [{"name": "X", "value": "v"}, ...]} (or one object).
func jsonParameters(s string) (map[string]string, error) {
	var f struct {
		Parameter json.RawMessage `json:"parameter"`
	}
	if err := json.Unmarshal([]byte(s), &f); err != nil {
		return nil, err
	}
	type pv struct {
		Name  string `json:"name"`
		Value any    `json:"value"`
	}
	var list []pv
	if len(f.Parameter) > 0 && f.Parameter[0] == '{' {
		var one pv
		if err := json.Unmarshal(f.Parameter, &one); err != nil {
			return nil, err
		}
		list = []pv{one}
	} else if len(f.Parameter) > 0 {
		if err := json.Unmarshal(f.Parameter, &list); err != nil {
			return nil, err
		}
	}
	out := map[string]string{}
	for _, p := range list {
		switch v := p.Value.(type) {
		case string:
			out[p.Name] = v
		case nil:
			out[p.Name] = ""
		default:
			out[p.Name] = fmt.Sprint(v)
		}
	}
	return out, nil
}

// buildAction serves a build's URLs.
func (rq *request) buildAction(t target, action string) {
	m, b := rq.m, t.b
	alive := func() bool { return live(b.job) && b.job.build(b.number) == b }
	switch action {
	case "":
		if rq.r.Method == http.MethodDelete {
			rq.methodNotAllowed("GET")
			return
		}
		if rq.requireGET() {
			rq.page(http.StatusOK, b.job.fullName()+" #"+strconv.Itoa(b.number)+" [Jenkins]", "Build #"+strconv.Itoa(b.number))
		}
	case "api":
		rq.api(t.rest, func() any {
			if !alive() {
				return nil
			}
			return buildObj(b)
		})
	case "consoleText":
		if rq.requireGET() {
			rq.console(b, false)
		}
	case "console":
		if rq.requireGET() {
			rq.console(b, true)
		}
	case "logText":
		if len(t.rest) < 2 || (t.rest[1] != "progressiveText" && t.rest[1] != "progressiveHtml") {
			rq.notFound()
			return
		}
		if rq.requireGET() {
			rq.progressive(b, t.rest[1] == "progressiveHtml")
		}
	case "buildNumber":
		if rq.requireGET() {
			rq.text(http.StatusOK, "text/plain;charset=utf-8", []byte(strconv.Itoa(b.number)))
		}
	case "stop", "term", "kill":
		if !rq.requirePOST() {
			return
		}
		m.mu.Lock()
		if b.building {
			b.abort("Aborted by " + rq.userName())
		}
		loc := rq.base + b.relURL()
		m.mu.Unlock()
		rq.redirect(http.StatusFound, loc)
	case "doDelete":
		if !rq.requirePOST() {
			return
		}
		m.mu.Lock()
		if !alive() {
			m.mu.Unlock()
			rq.notFound()
			return
		}
		if b.building {
			m.mu.Unlock()
			rq.fail(http.StatusBadRequest, fmt.Sprintf("Unable to delete %s #%d: the build is still in progress", b.job.fullName(), b.number))
			return
		}
		err := m.deleteBuild(b)
		loc := rq.base + b.job.relURL()
		trash := m.takeTrash()
		m.mu.Unlock()
		m.emptyTrash(trash)
		if err != nil {
			rq.serverError(err.Error())
			return
		}
		rq.redirect(http.StatusFound, loc)
	case "artifact":
		if rq.requireGET() {
			rq.artifact(b, t.rest[1:])
		}
	default:
		rq.notFound()
	}
}

// logState reads where a build's log is and whether it is still being
// written. The state is read before the file: a reader that sees a build
// finished reads its whole log.
func (rq *request) logState(b *build) (path string, building, ok bool) {
	m := rq.m
	m.mu.RLock()
	defer m.mu.RUnlock()
	if !live(b.job) || b.job.build(b.number) != b {
		return "", false, false
	}
	return filepath.Join(b.job.buildDir(m.home, b.number), "log"), b.building, true
}

func (rq *request) console(b *build, asHTML bool) {
	path, _, ok := rq.logState(b)
	if !ok {
		rq.notFound()
		return
	}
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		rq.serverError("Cannot read the console: " + err.Error())
		return
	}
	if asHTML {
		page := "<!DOCTYPE html>\n<html><head><title>" + html.EscapeString(b.job.fullName()) + " #" + strconv.Itoa(b.number) +
			" Console [Jenkins]</title></head><body><pre class=\"console-output\">" + html.EscapeString(string(data)) + "</pre></body></html>\n"
		rq.text(http.StatusOK, "text/html;charset=utf-8", []byte(page))
		return
	}
	rq.text(http.StatusOK, "text/plain;charset=utf-8", data)
}

// progressive serves logText/progressiveText?start=K: the log from byte
// K, X-Text-Size the offset to ask from next, X-More-Data while the build
// runs. A start beyond the end starts again from 0, as Jenkins' LargeText
// does.
func (rq *request) progressive(b *build, asHTML bool) {
	path, building, ok := rq.logState(b)
	if !ok {
		rq.notFound()
		return
	}
	var start int64
	if s, ok := rq.query("start"); ok && s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			rq.fail(http.StatusBadRequest, "Invalid start parameter: "+s)
			return
		}
		start = n
	}
	var data []byte
	if f, err := os.Open(path); err == nil {
		fi, err := f.Stat()
		if err == nil {
			size := fi.Size()
			if start > size {
				start = 0
			}
			data = make([]byte, size-start)
			n, _ := io.ReadFull(io.NewSectionReader(f, start, size-start), data)
			data = data[:n]
		}
		f.Close()
	} else if !os.IsNotExist(err) {
		rq.serverError("Cannot read the console: " + err.Error())
		return
	} else {
		start = 0
	}
	h := rq.w.Header()
	h.Set("X-Text-Size", strconv.FormatInt(start+int64(len(data)), 10))
	if building {
		h.Set("X-More-Data", "true")
	}
	if asHTML {
		rq.text(http.StatusOK, "text/html;charset=utf-8", []byte(html.EscapeString(string(data))))
		return
	}
	rq.text(http.StatusOK, "text/plain;charset=utf-8", data)
}

// artifact serves builds/<n>/archive/<path>. Paths that could leave the
// archive (.., an encoded slash, a backslash, NUL) are refused with 400;
// symbolic links are never followed.
func (rq *request) artifact(b *build, segs []string) {
	if len(segs) == 0 {
		rq.notFound()
		return
	}
	for _, s := range segs {
		if s == "." || s == ".." || strings.ContainsAny(s, "/\\\x00") {
			rq.fail(http.StatusBadRequest, "Invalid artifact path")
			return
		}
	}
	m := rq.m
	m.mu.RLock()
	ok := live(b.job) && b.job.build(b.number) == b
	dir := filepath.Join(b.job.buildDir(m.home, b.number), "archive")
	m.mu.RUnlock()
	if !ok {
		rq.notFound()
		return
	}
	p := dir
	for _, s := range segs {
		p = filepath.Join(p, s)
		fi, err := os.Lstat(p)
		if err != nil || fi.Mode()&os.ModeSymlink != 0 {
			rq.notFound()
			return
		}
	}
	f, err := os.Open(p)
	if err != nil {
		rq.notFound()
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		rq.notFound()
		return
	}
	http.ServeContent(rq.w, rq.r, fi.Name(), fi.ModTime(), f)
}
