package local

import (
	"net/http"
	"strconv"
	"strings"
)

// target is what a URL addresses: the root or a folder (group), a job, a
// view or a build, and the action segments after it.
type target struct {
	group *item // the item group the URL is in
	it    *item // the job or folder addressed; nil for the root
	view  *view
	b     *build
	rest  []string
}

// resolve walks the URL's object path under the read lock.
func (m *Master) resolve(segs []string) (target, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	t := target{group: m.root}
	i := 0
	for i < len(segs) {
		s := segs[i]
		switch {
		case (t.it == nil || t.it.isFolder()) && s == "job" && i+1 < len(segs):
			c := t.group.child(segs[i+1])
			if c == nil {
				return t, false
			}
			t.it, t.view = c, nil
			if c.isFolder() {
				t.group = c
			}
			i += 2
			continue
		case (t.it == nil || t.it.isFolder()) && s == "view" && i+1 < len(segs):
			v := t.group.view(segs[i+1])
			if v == nil {
				return t, false
			}
			t.view = v
			i += 2
			continue
		case t.it != nil && t.it.isJob() && t.view == nil:
			if b, ok := buildRef(t.it, s); ok {
				if b == nil {
					return t, false
				}
				t.b = b
				i++
			}
		}
		break
	}
	t.rest = segs[i:]
	return t, true
}

// buildRef resolves a build number or permalink; ok is false when s is
// neither.
func buildRef(job *item, s string) (*build, bool) {
	if n, err := strconv.Atoi(s); err == nil && s[0] != '+' && s[0] != '-' {
		return job.build(n), true
	}
	return job.permalink(s)
}

func (rq *request) dispatch(segs []string) {
	t, ok := rq.m.resolve(segs)
	if !ok {
		rq.notFound()
		return
	}
	action := ""
	if len(t.rest) > 0 {
		action = t.rest[0]
	}
	switch {
	case t.b != nil:
		rq.buildAction(t, action)
	case t.view != nil:
		rq.viewAction(t, action)
	case t.it == nil:
		rq.rootAction(t, action)
	case t.it.isFolder():
		rq.folderAction(t, action)
	default:
		rq.jobAction(t, action)
	}
}

func (rq *request) rootAction(t target, action string) {
	m := rq.m
	switch action {
	case "":
		if rq.requireGET() {
			rq.page(http.StatusOK, "Dashboard [Jenkins]", "A local Jenkins-compatible master run by jobctl.")
		}
	case "api":
		rq.api(t.rest, func() any { return itemObj(m.root) })
	case "createItem":
		rq.createItem(m.root)
	case "createView":
		rq.createView(m.root)
	case "crumbIssuer":
		rq.crumbIssuer(t.rest[1:])
	case "whoAmI":
		rq.whoAmI(t.rest[1:])
	case "me":
		rq.me(t.rest[1:])
	case "queue":
		rq.queueAction(t.rest[1:])
	case "pluginManager":
		if len(t.rest) > 1 && t.rest[1] == "api" {
			rq.api(t.rest[1:], func() any { return jobj{class: "hudson.LocalPluginManager", props: pluginManagerProps} })
			return
		}
		rq.notFound()
	case "computer":
		rq.computerAction(t.rest[1:])
	case "git":
		if len(t.rest) == 2 && t.rest[1] == "notifyCommit" {
			rq.notifyCommit()
			return
		}
		rq.notFound()
	default:
		rq.notFound()
	}
}

// groupAction serves what the root and folders have in common.
func (rq *request) groupAction(t target, action string) bool {
	switch action {
	case "createItem":
		rq.createItem(t.group)
	case "createView":
		rq.createView(t.group)
	default:
		return false
	}
	return true
}

func (rq *request) folderAction(t target, action string) {
	if rq.groupAction(t, action) {
		return
	}
	rq.itemAction(t, action)
}

// itemAction serves what jobs and folders have in common.
func (rq *request) itemAction(t target, action string) {
	m, it := rq.m, t.it
	switch action {
	case "":
		switch rq.r.Method {
		case http.MethodDelete:
			rq.deleteItem(it, false)
		case http.MethodGet, http.MethodHead:
			rq.page(http.StatusOK, it.fullName()+" [Jenkins]", it.fullDisplayName())
		default:
			rq.methodNotAllowed("GET, DELETE")
		}
	case "api":
		rq.api(t.rest, func() any {
			if !live(it) {
				return nil
			}
			return itemObj(it)
		})
	case "config.xml":
		rq.configXML(it)
	case "configure":
		if rq.requireGET() {
			rq.page(http.StatusOK, it.fullName()+" Config [Jenkins]", "This master has no configuration pages: POST config.xml instead.")
		}
	case "doDelete":
		if rq.requirePOST() {
			rq.deleteItem(it, true)
		}
	case "doRename", "confirmRename":
		if rq.requirePOST() {
			rq.rename(it)
		}
	case "description":
		if rq.requireGET() {
			m.mu.RLock()
			d := ""
			if it.cfg.description != nil {
				d = *it.cfg.description
			}
			m.mu.RUnlock()
			rq.text(http.StatusOK, "text/plain;charset=utf-8", []byte(d))
		}
	default:
		rq.notFound()
	}
}

func (rq *request) jobAction(t target, action string) {
	switch action {
	case "build":
		rq.triggerBuild(t.it, false)
	case "buildWithParameters":
		rq.triggerBuild(t.it, true)
	case "enable":
		if rq.requirePOST() {
			rq.setDisabled(t.it, false)
		}
	case "disable":
		if rq.requirePOST() {
			rq.setDisabled(t.it, true)
		}
	case "scmPollLog":
		rq.scmPollLog(t.it)
	default:
		rq.itemAction(t, action)
	}
}

func (rq *request) queueAction(rest []string) {
	m := rq.m
	if len(rest) == 0 {
		if rq.requireGET() {
			rq.page(http.StatusOK, "Queue [Jenkins]", "The build queue.")
		}
		return
	}
	switch rest[0] {
	case "api":
		rq.api(rest, func() any { return jobj{class: "hudson.model.Queue", props: queueProps} })
	case "cancelItem":
		if !rq.requirePOST() {
			return
		}
		idText, _ := rq.param("id")
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil {
			rq.fail(http.StatusNotFound, "Provided queue item does not exist")
			return
		}
		m.mu.Lock()
		status := m.cancel(id)
		m.mu.Unlock()
		m.saveQueue()
		switch status {
		case 204:
			rq.empty(http.StatusNoContent)
		case 404:
			rq.page(http.StatusNotFound, "Error 404 Not Found", "Provided queue item does not exist")
		default:
			rq.page(422, "Error 422", "Queue item is no longer cancelable")
		}
	case "item":
		if len(rest) < 2 {
			rq.notFound()
			return
		}
		id, err := strconv.ParseInt(rest[1], 10, 64)
		if err != nil {
			rq.notFound()
			return
		}
		lookup := func() *queueItem {
			q := m.items[id]
			if q == nil || m.expired(q) {
				return nil
			}
			return q
		}
		sub := rest[2:]
		switch {
		case len(sub) == 0:
			m.mu.RLock()
			q := lookup()
			m.mu.RUnlock()
			if q == nil {
				rq.notFound()
			} else if rq.requireGET() {
				rq.page(http.StatusOK, "Queue item "+rest[1], "A queue item.")
			}
		case sub[0] == "api":
			rq.api(sub, func() any {
				if q := lookup(); q != nil {
					return queueObj(q)
				}
				return nil
			})
		case sub[0] == "cancelQueue":
			if !rq.requirePOST() {
				return
			}
			m.mu.Lock()
			status := m.cancel(id)
			m.mu.Unlock()
			m.saveQueue()
			if status == 404 {
				rq.notFound()
				return
			}
			rq.empty(http.StatusNoContent)
		default:
			rq.notFound()
		}
	default:
		rq.notFound()
	}
}

func (rq *request) computerAction(rest []string) {
	if len(rest) > 0 && rest[0] == "api" {
		rq.api(rest, func() any { return jobj{class: "hudson.model.ComputerSet", props: computerSetProps} })
		return
	}
	if len(rest) > 1 && rest[1] == "api" {
		switch rest[0] {
		case "(built-in)", "(master)", "built-in", "Built-In Node", "master":
			rq.api(rest[1:], func() any { return jobj{class: "hudson.model.Hudson$MasterComputer", props: computerProps} })
			return
		}
	}
	rq.notFound()
}

func (rq *request) crumbIssuer(rest []string) {
	if len(rest) == 0 || rest[0] != "api" {
		rq.notFound()
		return
	}
	s := rq.session()
	if s == "" || !validSession(s) {
		s = "node0" + randomHex(12) + ".node0"
		http.SetCookie(rq.w, &http.Cookie{Name: rq.m.cookie, Value: s, Path: "/", HttpOnly: true})
	}
	crumb := rq.m.crumbFor(s, rq.user)
	rq.fixedJSON(rest, jobj{class: "hudson.security.csrf.DefaultCrumbIssuer", props: []jprop{
		{"crumb", 1, false, func(c *jctx, r any) any { return crumb }},
		{"crumbRequestField", 1, false, func(c *jctx, r any) any { return "Jenkins-Crumb" }},
	}})
}

// validSession reports whether a session cookie value looks like one the
// master issues (any such value works: crumbs are bound to it).
func validSession(s string) bool {
	if len(s) < 8 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (rq *request) whoAmI(rest []string) {
	if len(rest) == 0 {
		if rq.requireGET() {
			rq.page(http.StatusOK, "Who Am I? [Jenkins]", "You are "+rq.userName())
		}
		return
	}
	name, anonymous := rq.userName(), rq.user == ""
	authorities := []string{"authenticated"}
	if anonymous {
		authorities = []string{"anonymous"}
	}
	rq.fixedJSON(rest, jobj{class: "hudson.security.WhoAmI", props: []jprop{
		{"anonymous", 1, false, func(c *jctx, r any) any { return anonymous }},
		{"authenticated", 1, false, func(c *jctx, r any) any { return true }},
		{"authorities", 1, false, func(c *jctx, r any) any { return authorities }},
		{"details", 1, false, func(c *jctx, r any) any { return nil }},
		{"name", 1, false, func(c *jctx, r any) any { return name }},
		{"toString", 1, false, func(c *jctx, r any) any {
			if anonymous {
				return "AnonymousAuthenticationToken [Principal=anonymous, Credentials=[PROTECTED], Authenticated=true, Details=null, Granted Authorities=[anonymous]]"
			}
			return "UsernamePasswordAuthenticationToken [Principal=" + name + ", Credentials=[PROTECTED], Authenticated=true, Details=null, Granted Authorities=[authenticated]]"
		}},
	}})
}

func (rq *request) me(rest []string) {
	if rq.user == "" {
		rq.page(http.StatusForbidden, "Error 403 Forbidden", "anonymous is not a user: there is no /me")
		return
	}
	if len(rest) == 0 {
		if rq.requireGET() {
			rq.page(http.StatusOK, rq.user+" [Jenkins]", rq.user)
		}
		return
	}
	user := rq.user
	rq.fixedJSON(rest, jobj{class: "hudson.model.User", props: []jprop{
		{"absoluteUrl", 1, false, func(c *jctx, r any) any { return c.base + "user/" + escapeSegment(strings.ToLower(user)) }},
		{"description", 1, false, func(c *jctx, r any) any { return nil }},
		{"fullName", 1, false, func(c *jctx, r any) any { return user }},
		{"id", 1, false, func(c *jctx, r any) any { return user }},
		{"property", 1, false, func(c *jctx, r any) any { return []any{} }},
	}})
}
