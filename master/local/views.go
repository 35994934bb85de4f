package local

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// defaultViewConfigs are the configs of views created in form mode.
var defaultViewConfigs = map[string]string{
	classListView: `<hudson.model.ListView><name></name><filterExecutors>false</filterExecutors><filterQueue>false</filterQueue><properties class="hudson.model.View$PropertyList"/><jobNames><comparator class="hudson.util.CaseInsensitiveComparator"/></jobNames><jobFilters/><columns><hudson.views.StatusColumn/><hudson.views.WeatherColumn/><hudson.views.JobColumn/><hudson.views.LastSuccessColumn/><hudson.views.LastFailureColumn/><hudson.views.LastDurationColumn/><hudson.views.BuildButtonColumn/></columns><recurse>false</recurse></hudson.model.ListView>`,
	classAllView:  `<hudson.model.AllView><name></name><filterExecutors>false</filterExecutors><filterQueue>false</filterQueue><properties class="hudson.model.View$PropertyList"/></hudson.model.AllView>`,
}

// createView serves createView?name=V: an XML body makes the view it
// describes (200); mode=CLASS makes an empty one (302 to it).
func (rq *request) createView(owner *item) {
	if !rq.requirePOST() {
		return
	}
	ct := rq.r.Header.Get("Content-Type")
	isXML := strings.HasPrefix(ct, "application/xml") || strings.HasPrefix(ct, "text/xml")
	get := rq.param
	if isXML {
		get = rq.query
	}
	mode, _ := get("mode")
	if ct == "" && mode != "copy" {
		rq.fail(http.StatusBadRequest, "No Content-Type header set")
		return
	}
	name, _ := get("name")
	if msg := checkName(name); msg != "" {
		rq.fail(http.StatusBadRequest, msg)
		return
	}
	m := rq.m
	m.mu.RLock()
	exists := owner.view(name) != nil
	m.mu.RUnlock()
	if exists {
		rq.fail(http.StatusBadRequest, fmt.Sprintf("A view already exists with the name %q", name))
		return
	}
	var data []byte
	switch {
	case mode == "" && isXML:
		var ok bool
		if data, ok = rq.body(maxConfigBody); !ok {
			return
		}
	case mode == "":
		rq.fail(http.StatusBadRequest, "No view type is specified")
		return
	case mode == "copy":
		from, _ := get("from")
		m.mu.RLock()
		src := owner.view(from)
		if src != nil && src.doc != nil {
			data = src.doc.render()
		}
		m.mu.RUnlock()
		if data == nil {
			rq.fail(http.StatusBadRequest, "No such view: "+from)
			return
		}
	default:
		cfg, ok := defaultViewConfigs[mode]
		if !ok {
			rq.fail(http.StatusBadRequest, "No view type "+mode+" is known to this master")
			return
		}
		data = []byte(cfg)
	}
	root, _, err := parseXML(data)
	if err != nil {
		rq.serverError("Unable to create the view " + name + ": " + err.Error())
		return
	}
	root.setChildText("name", name, "")
	v := newView(name, root)
	m.mu.Lock()
	if !live(owner) || owner.deleting {
		m.mu.Unlock()
		rq.notFound()
		return
	}
	if owner.view(name) != nil {
		m.mu.Unlock()
		rq.fail(http.StatusBadRequest, fmt.Sprintf("A view already exists with the name %q", name))
		return
	}
	v.owner = owner
	if err := m.saveView(v); err != nil {
		m.mu.Unlock()
		rq.serverError("Unable to save the view " + name + ": " + err.Error())
		return
	}
	owner.addView(v)
	loc := rq.base + v.relURL()
	m.mu.Unlock()
	if isXML && mode == "" {
		rq.empty(http.StatusOK)
		return
	}
	rq.redirect(http.StatusFound, loc)
}

// viewAction serves a view's URLs (its jobs' URLs are resolved before).
func (rq *request) viewAction(t target, action string) {
	m, v := rq.m, t.view
	viewLive := func() bool { return live(v.owner) && v.owner.view(v.name) == v }
	switch action {
	case "", "configure":
		if rq.requireGET() {
			rq.page(http.StatusOK, v.name+" [Jenkins]", "The view "+v.name)
		}
	case "api":
		rq.api(t.rest, func() any {
			if !viewLive() {
				return nil
			}
			return viewObj(v)
		})
	case "config.xml":
		switch rq.r.Method {
		case http.MethodGet, http.MethodHead:
			m.mu.RLock()
			var data []byte
			if viewLive() {
				if v.doc != nil {
					data = v.doc.render()
				} else {
					data = []byte(xmlDecl + "<hudson.model.AllView>\n  <name>" + v.name + "</name>\n  <filterExecutors>false</filterExecutors>\n  <filterQueue>false</filterQueue>\n  <properties class=\"hudson.model.View$PropertyList\"/>\n</hudson.model.AllView>\n")
				}
			}
			m.mu.RUnlock()
			if data == nil {
				rq.notFound()
				return
			}
			rq.text(http.StatusOK, "application/xml", data)
		case http.MethodPost:
			data, ok := rq.body(maxConfigBody)
			if !ok {
				return
			}
			root, _, err := parseXML(data)
			if err != nil {
				rq.serverError("Unable to update the view " + v.name + ": " + err.Error())
				return
			}
			m.mu.Lock()
			if !viewLive() {
				m.mu.Unlock()
				rq.notFound()
				return
			}
			if v.doc == nil {
				m.mu.Unlock()
				rq.fail(http.StatusBadRequest, "The view "+v.name+" cannot be changed")
				return
			}
			root.setChildText("name", v.name, "")
			old := v.doc
			v.doc = root
			if c := root.attr("class"); c != "" {
				v.class = c
			} else {
				v.class = root.name
			}
			if err := m.saveView(v); err != nil {
				v.doc = old
				v.refresh()
				m.mu.Unlock()
				rq.serverError("Unable to save the view " + v.name + ": " + err.Error())
				return
			}
			v.refresh()
			m.mu.Unlock()
			rq.empty(http.StatusOK)
		default:
			rq.methodNotAllowed("GET, POST")
		}
	case "addJobToView", "removeJobFromView":
		if !rq.requirePOST() {
			return
		}
		rq.editJobNames(v, action == "addJobToView")
	case "doDelete":
		if !rq.requirePOST() {
			return
		}
		m.mu.Lock()
		if !viewLive() {
			m.mu.Unlock()
			rq.notFound()
			return
		}
		if v.owner.primary() == v || v.doc == nil {
			m.mu.Unlock()
			rq.fail(http.StatusBadRequest, "Cannot delete the primary view "+v.name)
			return
		}
		if err := os.Remove(filepath.Join(v.owner.viewDir(m.home), v.name+".xml")); err != nil && !os.IsNotExist(err) {
			m.mu.Unlock()
			rq.serverError("Unable to delete the view " + v.name + ": " + err.Error())
			return
		}
		v.owner.removeView(v)
		loc := rq.base + v.owner.relURL()
		m.mu.Unlock()
		rq.redirect(http.StatusFound, loc)
	default:
		rq.notFound()
	}
}

// editJobNames serves a ListView's addJobToView and removeJobFromView.
func (rq *request) editJobNames(v *view, add bool) {
	m := rq.m
	name, ok := rq.param("name")
	if !ok {
		rq.fail(http.StatusBadRequest, "Query parameter 'name' is required")
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !live(v.owner) || v.owner.view(v.name) != v {
		rq.notFound()
		return
	}
	if v.doc == nil || v.class != classListView {
		rq.notFound() // only ListViews have these actions
		return
	}
	it := v.owner.child(name)
	rel := ""
	if it != nil {
		rel = it.name
	} else if x := m.lookup(strings.Trim(name, "/")); x != nil {
		rel = relativeName(x, v.owner)
		it = x
	}
	if it == nil && add {
		rq.fail(http.StatusBadRequest, "Query parameter 'name' does not correspond to a known item")
		return
	}
	if it == nil {
		rel = name
	}
	names := v.jobNames
	idx := -1
	for i, n := range names {
		if strings.EqualFold(n, rel) {
			idx = i
		}
	}
	switch {
	case add && idx < 0:
		names = append(append([]string(nil), names...), rel)
	case !add && idx >= 0:
		names = append(append([]string(nil), names[:idx]...), names[idx+1:]...)
	default:
		rq.empty(http.StatusOK)
		return
	}
	old := v.jobNames
	setJobNames(v, names)
	if err := m.saveView(v); err != nil {
		setJobNames(v, old)
		rq.serverError("Unable to save the view " + v.name + ": " + err.Error())
		return
	}
	rq.empty(http.StatusOK)
}

// relativeName is an item's name relative to a group, as ListView stores
// items from sub-folders.
func relativeName(it, group *item) string {
	var parts []string
	for x := it; x != nil && x != group; x = x.parent {
		if x.kind == kindRoot {
			return it.fullName()
		}
		parts = append([]string{x.name}, parts...)
	}
	return strings.Join(parts, "/")
}

// setJobNames replaces a ListView's <jobNames>, kept sorted
// case-insensitively as Jenkins' TreeSet keeps them.
func setJobNames(v *view, names []string) {
	sort.SliceStable(names, func(i, j int) bool { return strings.ToLower(names[i]) < strings.ToLower(names[j]) })
	jn := v.doc.child("jobNames")
	if jn == nil {
		v.doc.setChildText("jobNames", "", "jobFilters")
		jn = v.doc.child("jobNames")
	}
	var comparator *xnode
	for _, k := range jn.elems() {
		if k.name == "comparator" {
			comparator = k
		}
	}
	if comparator == nil {
		comparator = &xnode{kind: xElem, name: "comparator", attrs: nil}
		comparator.attrs = append(comparator.attrs, xmlAttr("class", "hudson.util.CaseInsensitiveComparator"))
	}
	indent := "\n      "
	jn.kids = []*xnode{{kind: xText, text: indent}, comparator}
	for _, n := range names {
		jn.kids = append(jn.kids, &xnode{kind: xText, text: indent}, &xnode{kind: xElem, name: "string", kids: []*xnode{{kind: xText, text: n}}})
	}
	jn.kids = append(jn.kids, &xnode{kind: xText, text: "\n    "})
	v.jobNames = names
}
