package local

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// deleteWait bounds how long deleting a job waits for its aborted builds.
const deleteWait = time.Minute

// defaultConfigs are the configs of items created in form mode
// (createItem?name=N&mode=CLASS without an XML body).
var defaultConfigs = map[string]string{
	classFreestyle: "<?xml version='1.1' encoding='UTF-8'?>\n<project>\n  <keepDependencies>false</keepDependencies>\n  <properties/>\n  <scm class=\"hudson.scm.NullSCM\"/>\n  <canRoam>true</canRoam>\n  <disabled>false</disabled>\n  <blockBuildWhenDownstreamBuilding>false</blockBuildWhenDownstreamBuilding>\n  <blockBuildWhenUpstreamBuilding>false</blockBuildWhenUpstreamBuilding>\n  <triggers/>\n  <concurrentBuild>false</concurrentBuild>\n  <builders/>\n  <publishers/>\n  <buildWrappers/>\n</project>\n",
	classPipeline:  "<?xml version='1.1' encoding='UTF-8'?>\n<flow-definition plugin=\"workflow-job\">\n  <keepDependencies>false</keepDependencies>\n  <properties/>\n  <definition class=\"org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition\" plugin=\"workflow-cps\">\n    <script></script>\n    <sandbox>true</sandbox>\n  </definition>\n  <triggers/>\n  <disabled>false</disabled>\n</flow-definition>\n",
	classFolder:    "<?xml version='1.1' encoding='UTF-8'?>\n<com.cloudbees.hudson.plugins.folder.Folder plugin=\"cloudbees-folder\">\n  <properties/>\n  <folderViews class=\"com.cloudbees.hudson.plugins.folder.views.DefaultFolderViewHolder\">\n    <views>\n      <hudson.model.AllView>\n        <owner class=\"com.cloudbees.hudson.plugins.folder.Folder\" reference=\"../../../..\"/>\n        <name>All</name>\n        <filterExecutors>false</filterExecutors>\n        <filterQueue>false</filterQueue>\n        <properties class=\"hudson.model.View$PropertyList\"/>\n      </hudson.model.AllView>\n    </views>\n    <tabBar class=\"hudson.views.DefaultViewsTabBar\"/>\n  </folderViews>\n  <healthMetrics/>\n</com.cloudbees.hudson.plugins.folder.Folder>\n",
}

// createItem serves createItem?name=N: an XML body (Content-Type
// application/xml or text/xml) makes the item it describes; mode=copy
// copies from=; mode=CLASS makes an empty item.
func (rq *request) createItem(parent *item) {
	if !rq.requirePOST() {
		return
	}
	ct := rq.r.Header.Get("Content-Type")
	isXML := strings.HasPrefix(ct, "application/xml") || strings.HasPrefix(ct, "text/xml")
	get := rq.param
	if isXML {
		get = rq.query // the body is the config, not a form
	}
	if mode, _ := get("mode"); ct == "" && mode != "copy" {
		rq.fail(http.StatusBadRequest, "No Content-Type header set")
		return
	}
	name, ok := get("name")
	if !ok {
		rq.fail(http.StatusBadRequest, "Query parameter 'name' is required")
		return
	}
	if msg := checkName(name); msg != "" {
		rq.fail(http.StatusBadRequest, msg)
		return
	}
	name = strings.TrimSpace(name)
	m := rq.m
	m.mu.RLock()
	exists := parent.child(name) != nil
	m.mu.RUnlock()
	if exists {
		rq.fail(http.StatusBadRequest, fmt.Sprintf("A job already exists with the name ‘%s’", name))
		return
	}
	mode, _ := get("mode")
	var data []byte
	switch {
	case mode == "copy":
		from, _ := get("from")
		src := m.copySource(parent, from)
		if src == nil {
			if strings.TrimSpace(from) == "" {
				rq.fail(http.StatusBadRequest, "Specify which job to copy")
			} else {
				rq.fail(http.StatusBadRequest, "No such job: "+from)
			}
			return
		}
		m.mu.RLock()
		path := filepath.Join(src.dir(m.home), "config.xml")
		m.mu.RUnlock()
		var err error
		if data, err = os.ReadFile(path); err != nil {
			rq.serverError("Cannot read the config of " + from + ": " + err.Error())
			return
		}
	case isXML:
		if data, ok = rq.body(maxConfigBody); !ok {
			return
		}
	case mode == "":
		rq.fail(http.StatusBadRequest, "No mode given")
		return
	default:
		cfg, known := defaultConfigs[mode]
		if !known {
			rq.fail(http.StatusBadRequest, "No item type "+mode+" is known to this master")
			return
		}
		data = []byte(cfg)
	}
	it, status, msg := m.createItemFromXML(parent, name, data)
	if it == nil {
		if status == http.StatusBadRequest {
			rq.fail(status, msg)
		} else if status == http.StatusNotFound {
			rq.notFound()
		} else {
			rq.serverError(msg)
		}
		return
	}
	if isXML && mode != "copy" {
		rq.empty(http.StatusOK)
		return
	}
	m.mu.RLock()
	loc := rq.base + it.relURL() + "configure"
	m.mu.RUnlock()
	rq.redirect(http.StatusFound, loc)
}

// copySource finds the item to copy: a name in parent, or a full name.
func (m *Master) copySource(parent *item, from string) *item {
	m.mu.RLock()
	defer m.mu.RUnlock()
	from = strings.TrimSpace(from)
	if from == "" {
		return nil
	}
	var it *item
	if !strings.HasPrefix(from, "/") {
		it = parent.child(from)
	}
	if it == nil {
		it = m.lookup(strings.TrimPrefix(from, "/"))
	}
	if it == nil || !live(it) {
		return nil
	}
	return it
}

// createItemFromXML creates an item from its config. On failure it
// returns the status and message to answer with.
func (m *Master) createItemFromXML(parent *item, name string, data []byte) (*item, int, string) {
	kind, _, doc, cfg, err := readConfig(data)
	if err != nil {
		return nil, http.StatusInternalServerError, "Unable to create " + name + ": " + err.Error()
	}
	var views []*view
	if kind == kindFolder {
		views = cfg.views
		if len(views) == 0 {
			views = []*view{defaultFolderView()}
		}
	}
	stage, err := m.stageItem(doc, kind, views)
	placed := false
	defer func() {
		if stage != "" && !placed {
			os.RemoveAll(stage)
		}
	}()
	if err != nil {
		return nil, http.StatusInternalServerError, "Unable to create " + name + ": " + err.Error()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !live(parent) || parent.deleting {
		return nil, http.StatusNotFound, ""
	}
	if parent.child(name) != nil {
		return nil, http.StatusBadRequest, fmt.Sprintf("A job already exists with the name ‘%s’", name)
	}
	if err := m.placeItem(stage, parent, name); err != nil {
		return nil, http.StatusInternalServerError, "Unable to create " + name + ": " + err.Error()
	}
	placed = true
	it := &item{kind: kind, name: name, cfg: cfg, nextBuild: 1}
	if kind == kindFolder {
		it.children = map[string]*item{}
		for _, v := range views {
			it.addView(v)
		}
		it.primaryView = cfg.primaryView
		if it.view(it.primaryView) == nil {
			it.primaryView = views[0].name
		}
	}
	parent.addChild(it)
	m.setTimer(it)
	m.logf("local master: created %s %s", kind, it.fullName())
	return it, 0, ""
}

// configXML serves an item's config.xml: GET returns it (as Jenkins
// does, with an XML 1.1 declaration), POST replaces it.
func (rq *request) configXML(it *item) {
	m := rq.m
	switch rq.r.Method {
	case http.MethodGet, http.MethodHead:
		m.mu.RLock()
		ok := live(it)
		path := filepath.Join(it.dir(m.home), "config.xml")
		m.mu.RUnlock()
		if !ok {
			rq.notFound()
			return
		}
		data, err := os.ReadFile(path)
		if err != nil {
			rq.serverError("Cannot read the config: " + err.Error())
			return
		}
		rq.text(http.StatusOK, "application/xml", servedXML(data))
	case http.MethodPost:
		data, ok := rq.body(maxConfigBody)
		if !ok {
			return
		}
		kind, _, doc, cfg, err := readConfig(data)
		if err != nil {
			rq.serverError("Unable to update the config of " + it.name + ": " + err.Error())
			return
		}
		m.mu.Lock()
		if !live(it) || it.deleting {
			m.mu.Unlock()
			rq.notFound()
			return
		}
		if kind != it.kind {
			m.mu.Unlock()
			rq.serverError(fmt.Sprintf("Unable to update the config of %s: it is a %s, and this config describes a %s", it.name, it.kind, kind))
			return
		}
		if err := m.saveConfig(it, doc); err != nil {
			m.mu.Unlock()
			rq.serverError("Unable to save the config of " + it.name + ": " + err.Error())
			return
		}
		if kind == kindFolder {
			cfg.views, cfg.primaryView = it.cfg.views, it.cfg.primaryView
		}
		it.cfg = cfg
		m.setTimer(it)
		m.schedule()
		m.mu.Unlock()
		m.saveQueue()
		rq.empty(http.StatusOK)
	default:
		rq.methodNotAllowed("GET, POST")
	}
}

// deleteItem deletes a job or folder: its queued items are cancelled, its
// running builds aborted and waited for, then its directory goes. POST
// doDelete answers 302 to the parent, DELETE 204.
func (rq *request) deleteItem(it *item, post bool) {
	m := rq.m
	parentURL, err := m.deleteItem(it)
	switch {
	case errors.Is(err, errGone):
		rq.notFound()
	case err != nil:
		rq.serverError(err.Error())
	case post:
		rq.redirect(http.StatusFound, rq.base+parentURL)
	default:
		rq.empty(http.StatusNoContent)
	}
}

var errGone = errors.New("no such item")

func (m *Master) deleteItem(it *item) (parentURL string, err error) {
	m.mu.Lock()
	if !live(it) {
		m.mu.Unlock()
		return "", errGone
	}
	var waits []chan struct{}
	it.walk(func(x *item) {
		x.deleting = true
		for len(x.queued) > 0 {
			q := x.queued[0]
			m.dequeue(q)
			m.leave(q, nil)
		}
		for _, b := range x.builds {
			if b.building {
				b.abort("Aborted: the job is being deleted")
				waits = append(waits, b.done)
			}
		}
	})
	m.schedule()
	m.mu.Unlock()
	m.saveQueue()
	timeout := time.After(deleteWait)
	for _, w := range waits {
		select {
		case <-w:
		case <-timeout:
			m.logf("local master: deleting %s: a build did not stop within %v; deleting anyway", it.fullName(), deleteWait)
		}
	}
	m.mu.Lock()
	defer func() {
		trash := m.takeTrash()
		m.mu.Unlock()
		m.emptyTrash(trash)
	}()
	if !live(it) {
		return "", errGone
	}
	parent := it.parent
	if err := m.moveToTrash(it.dir(m.home)); err != nil {
		it.walk(func(x *item) { x.deleting = false })
		return "", fmt.Errorf("unable to delete %s: %v", it.fullName(), err)
	}
	parent.removeChild(it)
	it.walk(func(x *item) { delete(m.timers, x) })
	m.renameInViews(parent, it.name, "")
	m.logf("local master: deleted %s", it.fullName())
	return parent.relURL(), nil
}

// renameInViews updates the ListViews of group g after an item was renamed
// (to "" for a deletion), as Jenkins' ListView listener does. m.mu must be
// held.
func (m *Master) renameInViews(g *item, old, new string) {
	for _, v := range g.views {
		if v.all {
			continue
		}
		changed := false
		var names []string
		for _, n := range v.jobNames {
			if strings.EqualFold(n, old) {
				changed = true
				if new != "" {
					names = append(names, new)
				}
				continue
			}
			names = append(names, n)
		}
		if changed {
			setJobNames(v, names)
			if err := m.saveView(v); err != nil {
				m.logf("local master: saving view %s: %v", v.name, err)
			}
		}
	}
}

// rename serves doRename?newName=: 302 to the renamed item.
func (rq *request) rename(it *item) {
	m := rq.m
	newName, ok := rq.param("newName")
	if !ok {
		rq.fail(http.StatusBadRequest, "Query parameter 'newName' is required")
		return
	}
	if msg := checkName(newName); msg != "" {
		rq.fail(http.StatusBadRequest, msg)
		return
	}
	newName = strings.TrimSpace(newName)
	m.mu.Lock()
	if !live(it) || it.deleting {
		m.mu.Unlock()
		rq.notFound()
		return
	}
	if newName != it.name {
		if c := it.parent.child(newName); c != nil && c != it {
			m.mu.Unlock()
			rq.fail(http.StatusBadRequest, fmt.Sprintf("A job already exists with the name ‘%s’", newName))
			return
		}
		busy := false
		it.walk(func(x *item) { busy = busy || x.runningBuild() != nil })
		if busy {
			m.mu.Unlock()
			rq.fail(http.StatusBadRequest, "Unable to rename a job while it is building.")
			return
		}
		oldDir := it.dir(m.home)
		newDir := filepath.Join(it.parent.childDir(m.home), newName)
		if err := os.Rename(oldDir, newDir); err != nil {
			m.mu.Unlock()
			rq.serverError("Unable to rename " + it.name + ": " + err.Error())
			return
		}
		old := it.name
		parent := it.parent
		parent.removeChild(it)
		it.name = newName
		parent.addChild(it)
		m.renameInViews(parent, old, newName)
		it.walk(func(x *item) {
			if x.isJob() {
				m.setTimer(x)
			}
		})
		m.queueVer++
		m.logf("local master: renamed %s to %s", old, it.fullName())
	}
	loc := rq.base + it.relURL()
	m.mu.Unlock()
	m.saveQueue()
	rq.redirect(http.StatusFound, loc)
}

// setDisabled serves enable and disable: the job's config gets
// <disabled>, as in Jenkins; 302 to the job.
func (rq *request) setDisabled(it *item, disabled bool) {
	m := rq.m
	m.mu.Lock()
	if !live(it) || it.deleting {
		m.mu.Unlock()
		rq.notFound()
		return
	}
	path := filepath.Join(it.dir(m.home), "config.xml")
	data, err := os.ReadFile(path)
	var root *xnode
	if err == nil {
		root, _, err = parseXML(data)
	}
	if err == nil {
		before := "blockBuildWhenDownstreamBuilding"
		if it.kind == kindPipeline {
			before = "definition"
		}
		root.setChildText("disabled", fmt.Sprint(disabled), before)
		err = m.saveConfig(it, root.render())
	}
	if err != nil {
		m.mu.Unlock()
		rq.serverError("Unable to change " + it.name + ": " + err.Error())
		return
	}
	it.cfg.disabled = disabled
	m.schedule()
	loc := rq.base + it.relURL()
	m.mu.Unlock()
	m.saveQueue()
	rq.redirect(http.StatusFound, loc)
}
