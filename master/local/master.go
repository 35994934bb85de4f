// Package local is a local Jenkins-compatible master: an HTTP server that
// speaks the subset of the Jenkins REST API that jobctl, gojenkins,
// python-jenkins and Jenkins Job Builder use, answering as Jenkins 2.578
// does (status codes, headers, JSON shapes; see reference/jenkins-api.md),
// with a real queue, a fixed number of executors and its state kept on disk
// in a JENKINS_HOME-like folder, so that a restart loses nothing.
//
// Freestyle jobs (root element project) run their hudson.tasks.Shell steps
// on this machine, archive artifacts and discard old builds as their
// LogRotator says. Pipeline jobs (flow-definition with a
// CpsFlowDefinition) are handed to a PipelineRunner. Timer triggers fire
// on their cron specs. A freestyle job's GitSCM is checked out with the
// git command before its steps; SCMTrigger polls on its specs and when
// /git/notifyCommit names the repository; the parameterized-trigger
// BuildTrigger publisher queues downstream builds (see scm.go, trigger.go).
//
// # Storage
//
// Home is laid out like JENKINS_HOME:
//
//	jobs/<name>/config.xml             the job's config, as posted
//	jobs/<name>/nextBuildNumber        written before a build starts (absent: 1), so numbers never repeat
//	jobs/<name>/builds/<n>/build.json  the build's record: number, result, times, params, causes, artifacts
//	jobs/<name>/builds/<n>/log         its console
//	jobs/<name>/builds/<n>/archive/    its archived artifacts
//	jobs/<name>/scm-polling.log        what the job's last SCM poll found
//	caches/git-<hash>/                 bare clones SCM polling lists changed paths in
//	jobs/<F>/config.xml, jobs/<F>/jobs/<C>/...  a folder and its children
//	jobs/<F>/views/<V>.xml             a folder's views; views/<V>.xml for the root's
//	queue.json                         the items in the queue and the next queue id (left items come back from builds)
//	workspace/<full name, / as %2F>    the jobs' workspaces
//	tmp/, trash/                       directories made ahead, and deleted ones; emptied at start
//	.spare-NAME                        beside build.json, nextBuildNumber, queue.json: see rewriteFile
//
// Every file is written to a temporary name in its directory and renamed
// into place; a job's directory is assembled under tmp/ and renamed into
// jobs/, so a listed job always has a readable config. Nothing is fsynced:
// if the process dies (SIGKILL, a crash), nothing it acknowledged is lost,
// since the kernel has the data and renames are atomic; after a power loss
// or a kernel crash the last seconds of changes may be lost, and a file
// written just before may be found empty (it is then skipped, as a job
// without a config is). Syncing would cost milliseconds per createItem on
// slow disks. A build that was running when the process died is marked
// ABORTED when the master starts again, with a console line saying so.
//
// # Executors and the queue
//
// Freestyle builds take one of Config.Executors executors. Pipeline builds
// do not: Jenkins runs a pipeline's flyweight task on the built-in node
// without an executor, and an orchestration waiting for the workers it
// started must never hold the executors those workers need (nor is the
// number of pipeline builds capped, for the same reason). Builds start
// once the master serves (Start, or the first request to Handler), when
// it knows the URL its builds call back to.
//
// # Security
//
// With Config.User and Config.Token, requests authenticate with HTTP Basic
// auth and the token, which exempts them from crumbs, as API tokens do in
// Jenkins; anonymous requests are refused (403) except /whoAmI. Without
// them the master is open and credentials are ignored; POSTs need the
// crumb of /crumbIssuer/api/json, sent with its session cookie.
//
// # Differences from Jenkins
//
// Labels are ignored: every build runs on the built-in node. There is no
// UI (HTML pages are stubs), no plugin loading, no SCM but git, no agents, no
// users; unsupported builders, publishers and build wrappers are skipped
// with a console line. Folder views come from the folder's config when it
// is created; replacing the folder's config.xml leaves them as they are.
package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a Master.
type Config struct {
	Home      string // JENKINS_HOME-like folder; created if missing
	Executors int    // executors for freestyle builds; 0: the default, 2; negative: none
	// User and Token secure the master: requests must authenticate with
	// HTTP Basic auth as User with Token (an API token). Both empty: the
	// master is open, like a fresh unsecured Jenkins (anonymous may do
	// anything, but POSTs still need a crumb).
	User, Token string
	Version     string   // X-Jenkins; default "2.578"
	Plugins     []Plugin // what pluginManager lists; default DefaultPlugins()
	// QuietPeriod is how long a triggered build waits in the queue before
	// it may start; default 0 (Jenkins' is 5s; a dev master should be
	// fast). A job's <quietPeriod> and a request's delay= override it.
	QuietPeriod time.Duration
	// Pipeline runs pipeline builds; nil: a pipeline build fails with a
	// console line saying it is not available.
	Pipeline PipelineRunner
	// URL is the master's root URL as builds should see it (JENKINS_URL,
	// BUILD_URL, PipelineBuild.MasterURL), ending with "/". Default: the
	// URL Start listens on; without Start, the root URL of the last request.
	URL  string
	Logf func(format string, args ...any) // server log; nil: silent
	Now  func() time.Time                 // for tests; default time.Now
}

// Plugin is one entry of the plugin manager's list.
type Plugin struct {
	ShortName, LongName, Version string
	Active, Enabled              bool
	// Dependencies are the plugins this one needs, by short name and
	// minimum version.
	Dependencies []PluginDependency
}

// PluginDependency is a plugin's dependency on another.
type PluginDependency struct {
	ShortName, Version string
	Optional           bool
}

// PipelineRunner runs one pipeline build: the script under groovy with a
// step library that calls back into this master.
type PipelineRunner interface {
	// Run runs the build and returns its result: SUCCESS, UNSTABLE,
	// FAILURE or ABORTED. ctx is cancelled when the build is aborted (a
	// stop request, the job's deletion, the master closing); its cause
	// (context.Cause) is the console line saying why, e.g. "Aborted by
	// anonymous", which the runner prints where the abort reaches the
	// script. The master writes the console's first lines ("Started by
	// ...") and its last ("Finished: RESULT").
	Run(ctx context.Context, b PipelineBuild) (result string)
}

// PipelineBuild is what a PipelineRunner needs to run one build.
type PipelineBuild struct {
	Job          string            // full name, e.g. "modelshop/process_upload-v3-abc"
	Number       int               // the build number
	Script       string            // the CpsFlowDefinition script
	Sandbox      bool              // the definition's <sandbox>
	Params       map[string]string // as text ("true"/"false" for booleans)
	ParamTypes   map[string]string // "boolean" for boolean params (params.X is a Boolean in Jenkins); others absent
	Env          map[string]string // BUILD_NUMBER, BUILD_URL, JOB_NAME, JENKINS_URL, WORKSPACE, ... and params
	Workspace    string            // a directory for this job
	ArtifactsDir string            // where archived artifacts go (builds/<n>/archive)
	Log          io.Writer         // the build's console (safe for concurrent writes)
	MasterURL    string            // for callbacks (build, copyArtifacts), e.g. http://127.0.0.1:8080/
	User, Token  string            // credentials for callbacks when the master is secured
}

// Master is a local Jenkins-compatible master.
type Master struct {
	cfg     Config
	home    string
	session string // X-Jenkins-Session
	secret  []byte // signs crumbs
	cookie  string // the session cookie's name, JSESSIONID.<random>
	now     func() time.Time
	logf    func(format string, args ...any)

	// mu guards the model: the item tree, views, queue, builds and
	// executors. Disk writes that must be ordered with the model (configs,
	// build records, nextBuildNumber) happen under it; they are small.
	mu        sync.RWMutex
	root      *item
	queue     []*queueItem          // waiting, blocked and buildable items, by id
	items     map[int64]*queueItem  // the above and left items, by id
	nextQueue int64                 // the next queue item id
	executors []*build              // freestyle builds by executor number; nil = idle
	running   map[*build]struct{}   // every running build, pipelines included
	wake      *time.Timer           // ends the earliest quiet period
	serving   bool                  // Start was called or a request came: builds may start
	closed    bool                  // Close has begun: nothing starts any more
	queueVer  uint64                // bumped on every queue change
	plugins   []Plugin              // what pluginManager lists
	trash     []string              // directories to remove outside the lock
	timers    map[*item]*timerState // jobs with timer or SCM triggers
	scm       scmState              // SCM polling (its own lock)

	saveMu    sync.Mutex // serialises queue.json writes
	savedVer  uint64     // the queue version last written
	lastURL   atomic.Value
	served    atomic.Bool // serving, read without the lock
	server    *http.Server
	listenURL string
	stop      chan struct{} // closed by Close: background loops end
	itemPool  *dirPool      // new items' directories, made ahead
	buildPool *dirPool      // new builds' directories, made ahead
	loops     sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// New opens (creating it if needed) the master's home and recovers its
// state: jobs, views, builds, the queue. Builds that were running when the
// process died are marked ABORTED. Queued builds start once the master
// serves (Start, or the first request to its Handler), when it knows the
// URL builds call back to.
func New(cfg Config) (*Master, error) {
	if cfg.Home == "" {
		return nil, errors.New("local master: no home folder")
	}
	home, err := filepath.Abs(cfg.Home)
	if err != nil {
		return nil, err
	}
	if cfg.Executors == 0 {
		cfg.Executors = 2
	}
	if cfg.Executors < 0 {
		cfg.Executors = 0
	}
	if cfg.Version == "" {
		cfg.Version = "2.578"
	}
	if cfg.Plugins == nil {
		cfg.Plugins = DefaultPlugins()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	m := &Master{
		cfg:       cfg,
		home:      home,
		session:   randomHex(4),
		secret:    []byte(randomHex(32)),
		cookie:    "JSESSIONID." + randomHex(4),
		now:       cfg.Now,
		logf:      cfg.Logf,
		items:     map[int64]*queueItem{},
		nextQueue: 1,
		executors: make([]*build, cfg.Executors),
		running:   map[*build]struct{}{},
		plugins:   cfg.Plugins,
		timers:    map[*item]*timerState{},
		stop:      make(chan struct{}),
	}
	m.itemPool = newDirPool(func() (string, error) { return m.makeStaged("item-", "config.xml") })
	// A build's directory holds its log, an empty build.json and a spare
	// for rewriteFile, so that writing its record twice makes no inode.
	m.buildPool = newDirPool(func() (string, error) { return m.makeStaged("build-", "log", "build.json", ".spare-build.json") })
	m.root = &item{kind: kindRoot, children: map[string]*item{}}
	m.root.views = []*view{{owner: m.root, name: "all", class: classAllView, all: true}}
	m.root.primaryView = "all"
	if err := m.load(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.resetTimers()
	trash := m.takeTrash()
	m.mu.Unlock()
	m.emptyTrash(trash)
	m.saveQueue()
	m.loops.Add(4)
	go m.timerLoop()
	go m.housekeeping()
	go m.itemPool.fill(m.stop, m.loops.Done)
	go m.buildPool.fill(m.stop, m.loops.Done)
	return m, nil
}

// Handler returns the master's HTTP handler.
func (m *Master) Handler() http.Handler { return http.HandlerFunc(m.serveHTTP) }

// Start listens on addr (default 127.0.0.1:8080; "127.0.0.1:0" picks a
// free port) and serves in the background. It returns the master's root
// URL, ending with "/".
func (m *Master) Start(addr string) (string, error) {
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	url := "http://" + ln.Addr().String() + "/"
	srv := &http.Server{
		Handler:           m.Handler(),
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          nil,
	}
	m.mu.Lock()
	m.server = srv
	m.listenURL = url
	m.mu.Unlock()
	m.serve()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.logf("local master: serving %s: %v", url, err)
		}
	}()
	m.logf("local master: serving %s (home %s, %d executors)", url, m.home, m.cfg.Executors)
	return url, nil
}

// Close stops accepting requests, aborts running builds (they end ABORTED,
// with a console line saying why), persists the queue and stops the
// master's background work. Queued items stay queued for the next start.
// It waits for builds to end until ctx is done.
func (m *Master) Close(ctx context.Context) error {
	m.closeOnce.Do(func() { m.closeErr = m.close(ctx) })
	return m.closeErr
}

func (m *Master) close(ctx context.Context) error {
	var errs []error
	m.mu.RLock()
	srv := m.server
	m.mu.RUnlock()
	if srv != nil {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
			srv.Close()
		}
	}
	m.mu.Lock()
	m.closed = true
	if m.wake != nil {
		m.wake.Stop()
	}
	var builds []*build
	for b := range m.running {
		builds = append(builds, b)
		b.abort("Aborted: the master is shutting down")
	}
	m.mu.Unlock()
	close(m.stop)
	for _, b := range builds {
		select {
		case <-b.done:
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("build %s #%d did not stop: %w", b.job.fullName(), b.number, ctx.Err()))
		}
	}
	m.loops.Wait()
	m.saveQueue()
	m.mu.Lock()
	trash := m.takeTrash()
	m.mu.Unlock()
	m.emptyTrash(trash)
	m.logf("local master: closed")
	return errors.Join(errs...)
}

// serve lets builds start: from now on the master knows its URL.
func (m *Master) serve() {
	if m.served.Load() {
		return
	}
	m.mu.Lock()
	if m.serving {
		m.mu.Unlock()
		return
	}
	m.serving = true
	m.served.Store(true)
	m.schedule()
	m.mu.Unlock()
	m.saveQueue()
}

// rootURL is the URL builds see as JENKINS_URL.
func (m *Master) rootURL() string {
	if m.cfg.URL != "" {
		return m.cfg.URL
	}
	if m.listenURL != "" {
		return m.listenURL
	}
	if u, ok := m.lastURL.Load().(string); ok {
		return u
	}
	return "http://127.0.0.1:8080/"
}

// secured reports whether requests must authenticate.
func (m *Master) secured() bool { return m.cfg.User != "" || m.cfg.Token != "" }

// housekeeping drops left queue items after five minutes and empties the
// trash, until the master closes.
func (m *Master) housekeeping() {
	defer m.loops.Done()
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
		}
		m.mu.Lock()
		changed := m.expireLeft()
		trash := m.takeTrash()
		m.mu.Unlock()
		m.emptyTrash(trash)
		if changed {
			m.saveQueue()
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// takeTrash returns the directories waiting to be removed. m.mu must be held.
func (m *Master) takeTrash() []string {
	t := m.trash
	m.trash = nil
	return t
}

// emptyTrash removes directories moved aside under the lock.
func (m *Master) emptyTrash(dirs []string) {
	for _, d := range dirs {
		if err := os.RemoveAll(d); err != nil {
			m.logf("local master: removing %s: %v", d, err)
		}
	}
}
