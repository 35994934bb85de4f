package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// writeFile writes data to path atomically: a temporary file in the same
// directory, renamed into place. It does not fsync (see the package
// documentation for what survives what).
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

// rewriteFile replaces path's content atomically, as writeFile does, but
// without allocating an inode once it has done so once: the new content
// goes to a spare file beside it (.spare-NAME), which is renamed over
// path, and the replaced file, kept by a hard link made before the rename,
// becomes the next spare. On some disks allocating an inode costs a
// millisecond and these writes are on every build's path. Since a spare
// is overwritten later, it is only for files the master reads at start
// and never while it runs (build.json, nextBuildNumber, queue.json); and
// writes of one path must be serialised by the caller.
func rewriteFile(path string, data []byte) error {
	dir, base := filepath.Split(path)
	spare := filepath.Join(dir, ".spare-"+base)
	old := filepath.Join(dir, ".old-"+base)
	f, err := os.OpenFile(spare, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return writeFile(path, data)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	err = os.Link(path, old)
	if errors.Is(err, fs.ErrExist) { // left by a crash
		os.Remove(old)
		err = os.Link(path, old)
	}
	kept := err == nil
	if err := os.Rename(spare, path); err != nil {
		if kept {
			os.Remove(old)
		}
		return err
	}
	if kept {
		os.Rename(old, spare)
	}
	return nil
}

// moveToTrash moves a directory aside, atomically, for emptyTrash to
// remove outside the lock. m.mu must be held.
func (m *Master) moveToTrash(dir string) error {
	t, err := os.MkdirTemp(filepath.Join(m.home, "trash"), "d-")
	if err != nil {
		return err
	}
	dest := filepath.Join(t, "x")
	if err := os.Rename(dir, dest); err != nil {
		os.Remove(t)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	m.trash = append(m.trash, t)
	return nil
}

// stageItem assembles a new item's directory under tmp/, outside the
// lock; placeItem renames it into place under the lock, so that a listed
// item always has a readable config. The caller removes the staged
// directory if it is not placed.
func (m *Master) stageItem(doc []byte, kind itemKind, views []*view) (string, error) {
	stage, err := m.stagingDir()
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(stage, "config.xml"), doc, 0o600); err != nil { // made with the directory
		return stage, err
	}
	// A job's nextBuildNumber is written before its first build; until
	// then its absence means 1.
	if kind == kindFolder {
		if err := os.Mkdir(filepath.Join(stage, "jobs"), 0o700); err != nil {
			return stage, err
		}
		if err := os.Mkdir(filepath.Join(stage, "views"), 0o700); err != nil {
			return stage, err
		}
		for _, v := range views {
			if err := os.WriteFile(filepath.Join(stage, "views", v.name+".xml"), v.doc.render(), 0o600); err != nil {
				return stage, err
			}
		}
	}
	return stage, nil
}

// placeItem renames a staged directory to the item's. m.mu must be held.
func (m *Master) placeItem(stage string, parent *item, name string) error {
	dest := filepath.Join(parent.childDir(m.home), name)
	if _, err := os.Lstat(dest); err == nil {
		return fmt.Errorf("%s exists on disk but is not a job this master loaded; move it away", dest)
	}
	return os.Rename(stage, dest)
}

// stagedDirs are how many directories each pool keeps ready. On some
// disks making a directory or a file costs a millisecond, when writing an
// existing file costs a few microseconds: made ahead, outside the lock, a
// job's directory and empty config.xml cost a createItem request nothing,
// and a build's directory with its empty log and build.json spare cost
// starting a build nothing.
const stagedDirs = 8

// dirPool keeps directories made by its make function ready.
type dirPool struct {
	ready chan string
	mk    func() (string, error)
}

func newDirPool(mk func() (string, error)) *dirPool {
	return &dirPool{ready: make(chan string, stagedDirs), mk: mk}
}

// get returns a ready directory, or makes one.
func (p *dirPool) get() (string, error) {
	select {
	case d := <-p.ready:
		return d, nil
	default:
		return p.mk()
	}
}

// fill keeps the pool full until stop is closed, then removes what it
// holds.
func (p *dirPool) fill(stop <-chan struct{}, done func()) {
	defer done()
	for {
		d, err := p.mk()
		if err != nil {
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
				continue
			}
		}
		select {
		case p.ready <- d:
		case <-stop:
			os.RemoveAll(d)
			for {
				select {
				case d := <-p.ready:
					os.RemoveAll(d)
				default:
					return
				}
			}
		}
	}
}

// makeStaged makes a directory under tmp/ holding empty files.
func (m *Master) makeStaged(prefix string, files ...string) (string, error) {
	d, err := os.MkdirTemp(filepath.Join(m.home, "tmp"), prefix)
	if err != nil {
		return "", err
	}
	for _, name := range files {
		f, err := os.OpenFile(filepath.Join(d, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			os.RemoveAll(d)
			return "", err
		}
		f.Close()
	}
	return d, nil
}

// stagingDir returns a new directory under tmp/ holding an empty
// config.xml.
func (m *Master) stagingDir() (string, error) { return m.itemPool.get() }

// buildDisk is a build's record, builds/<n>/build.json.
type buildDisk struct {
	Number    int           `json:"number"`
	QueueID   int64         `json:"queueId"`
	Timestamp int64         `json:"timestamp"`
	Duration  int64         `json:"duration"`
	Building  bool          `json:"building"`
	Result    string        `json:"result,omitempty"`
	HasParams bool          `json:"hasParams,omitempty"`
	Params    []paramOnDisk `json:"params,omitempty"`
	Causes    []cause       `json:"causes"`
	Artifacts []string      `json:"artifacts,omitempty"`
	KeepLog   bool          `json:"keepLog,omitempty"`
	Git       *gitRevision  `json:"git,omitempty"`
}

// makeBuildDir makes a starting build's directory, with its record, from
// one made ahead: the build never appears without a record. m.mu must be
// held.
func (m *Master) makeBuildDir(b *build) error {
	dir := b.job.buildDir(m.home, b.number)
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return err
	}
	stage, err := m.buildPool.get()
	if err == nil {
		if err = m.writeBuild(b, filepath.Join(stage, "build.json")); err == nil {
			err = os.Rename(stage, dir)
		}
		if err == nil {
			return nil
		}
		os.RemoveAll(stage)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return m.saveBuild(b)
}

// saveBuild writes a build's record. m.mu must be held (it reads the
// build).
func (m *Master) saveBuild(b *build) error {
	return m.writeBuild(b, filepath.Join(b.job.buildDir(m.home, b.number), "build.json"))
}

func (m *Master) writeBuild(b *build, path string) error {
	d := buildDisk{
		Number: b.number, QueueID: b.queueID, Timestamp: b.timestamp.UnixMilli(), Duration: b.duration.Milliseconds(),
		Building: b.building, Result: b.result, HasParams: b.hasParams, Params: paramsToDisk(b.params),
		Causes: b.causes, Artifacts: b.artifacts, KeepLog: b.keepLog, Git: b.git,
	}
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return rewriteFile(path, data)
}

// saveNextBuild writes a job's nextBuildNumber. m.mu must be held.
func (m *Master) saveNextBuild(job *item) error {
	return rewriteFile(filepath.Join(job.dir(m.home), "nextBuildNumber"), []byte(strconv.Itoa(job.nextBuild)+"\n"))
}

// saveConfig replaces an item's config.xml. m.mu must be held.
func (m *Master) saveConfig(it *item, doc []byte) error {
	return writeFile(filepath.Join(it.dir(m.home), "config.xml"), doc)
}

func (m *Master) saveView(v *view) error {
	dir := v.owner.viewDir(m.home)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, v.name+".xml"), v.doc.render())
}

// load reads the home folder: jobs, views, builds and the queue.
func (m *Master) load() error {
	for _, d := range []string{"", "jobs", "views", "tmp", "trash", "workspace"} {
		if err := os.MkdirAll(filepath.Join(m.home, d), 0o700); err != nil {
			return fmt.Errorf("local master: %w", err)
		}
	}
	for _, d := range []string{"tmp", "trash"} {
		ents, _ := os.ReadDir(filepath.Join(m.home, d))
		for _, e := range ents {
			os.RemoveAll(filepath.Join(m.home, d, e.Name()))
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	start := time.Now()
	n := m.loadGroup(m.root)
	if err := m.loadQueue(); err != nil {
		return fmt.Errorf("local master: reading the queue: %w", err)
	}
	m.logf("local master: loaded %d items from %s in %v", n, m.home, time.Since(start).Round(time.Millisecond))
	return nil
}

// loadGroup loads a group's views and children, recursively; it returns
// how many items it loaded.
func (m *Master) loadGroup(g *item) int {
	if ents, err := os.ReadDir(g.viewDir(m.home)); err == nil {
		for _, e := range ents {
			name, ok := strings.CutSuffix(e.Name(), ".xml")
			if !ok || strings.HasPrefix(name, ".tmp-") || checkName(name) != "" || g.view(name) != nil {
				continue
			}
			data, err := os.ReadFile(filepath.Join(g.viewDir(m.home), e.Name()))
			if err != nil {
				m.logf("local master: skipping view %s: %v", name, err)
				continue
			}
			root, _, err := parseXML(data)
			if err != nil {
				m.logf("local master: skipping view %s: %v", name, err)
				continue
			}
			g.addView(newView(name, root))
		}
	}
	if g.isFolder() {
		if len(g.views) == 0 {
			for _, v := range g.cfg.views {
				g.addView(v)
			}
		}
		if len(g.views) == 0 {
			g.addView(defaultFolderView())
		}
		g.primaryView = g.cfg.primaryView
		if g.view(g.primaryView) == nil {
			g.primaryView = g.views[0].name
		}
	}
	ents, err := os.ReadDir(g.childDir(m.home))
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			m.logf("local master: reading %s: %v", g.childDir(m.home), err)
		}
		return 0
	}
	n := 0
	for _, e := range ents {
		if !e.IsDir() || checkName(e.Name()) != "" || g.child(e.Name()) != nil {
			continue
		}
		dir := filepath.Join(g.childDir(m.home), e.Name())
		data, err := os.ReadFile(filepath.Join(dir, "config.xml"))
		if err != nil {
			m.logf("local master: skipping %s: %v", dir, err)
			continue
		}
		kind, _, _, cfg, err := readConfig(data)
		if err != nil {
			m.logf("local master: skipping %s: config.xml: %v", dir, err)
			continue
		}
		it := &item{kind: kind, name: e.Name(), cfg: cfg}
		g.addChild(it)
		n++
		if kind == kindFolder {
			it.children = map[string]*item{}
			n += m.loadGroup(it)
		} else {
			m.loadBuilds(it)
		}
	}
	return n
}

func defaultFolderView() *view {
	root, _, _ := parseXML([]byte(`<hudson.model.AllView><name>All</name><filterExecutors>false</filterExecutors><filterQueue>false</filterQueue><properties class="hudson.model.View$PropertyList"/></hudson.model.AllView>`))
	return newView("All", root)
}

// loadBuilds reads a job's builds. A build still marked building was
// running when the master stopped without closing: it is marked ABORTED,
// with a console line saying so.
func (m *Master) loadBuilds(job *item) {
	dir := job.dir(m.home)
	job.nextBuild = 1
	if data, err := os.ReadFile(filepath.Join(dir, "nextBuildNumber")); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && n > 0 {
			job.nextBuild = n
		}
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "builds"))
	maxN := 0
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil || n <= 0 || !e.IsDir() {
			continue
		}
		bdir := filepath.Join(dir, "builds", e.Name())
		maxN = max(maxN, n) // even unrecorded, a number stays used
		data, err := os.ReadFile(filepath.Join(bdir, "build.json"))
		if err != nil {
			continue
		}
		var d buildDisk
		if err := json.Unmarshal(data, &d); err != nil || d.Number != n {
			m.logf("local master: skipping %s: unreadable build.json", bdir)
			continue
		}
		b := &build{
			job: job, number: n, queueID: d.QueueID, timestamp: time.UnixMilli(d.Timestamp),
			duration: time.Duration(d.Duration) * time.Millisecond, building: d.Building, result: d.Result,
			hasParams: d.HasParams, params: paramsFromDisk(d.Params), causes: d.Causes, artifacts: d.Artifacts,
			executor: -1, keepLog: d.KeepLog, git: d.Git, done: make(chan struct{}),
		}
		close(b.done)
		if b.building {
			m.recoverBuild(b, bdir)
		}
		job.builds = append(job.builds, b)
	}
	sort.Slice(job.builds, func(i, j int) bool { return job.builds[i].number < job.builds[j].number })
	if job.nextBuild <= maxN {
		job.nextBuild = maxN + 1
		if err := m.saveNextBuild(job); err != nil {
			m.logf("local master: %v", err)
		}
	}
}

// recoverBuild ends a build that was running when the master died.
func (m *Master) recoverBuild(b *build, dir string) {
	logPath := filepath.Join(dir, "log")
	end := m.now()
	if fi, err := os.Stat(logPath); err == nil {
		end = fi.ModTime()
	}
	b.building = false
	b.result = "ABORTED"
	if d := end.Sub(b.timestamp); d > 0 {
		b.duration = d
	}
	if f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err == nil {
		fmt.Fprintf(f, "\nThe master stopped while this build was running; it was marked as aborted when the master started again.\nFinished: ABORTED\n")
		f.Close()
	}
	if err := m.saveBuild(b); err != nil {
		m.logf("local master: %v", err)
	}
	m.logf("local master: %s #%d was running when the master stopped: marked ABORTED", b.job.fullName(), b.number)
}

// lookup finds an item by full name. m.mu must be held.
func (m *Master) lookup(fullName string) *item {
	it := m.root
	for _, part := range strings.Split(fullName, "/") {
		if it == nil || !it.isGroup() {
			return nil
		}
		it = it.child(part)
	}
	if it == m.root {
		return nil
	}
	return it
}
