package local

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// The build queue. Items wait out their quiet period (Waiting), wait for a
// running build of a job that forbids concurrent builds (Blocked), wait
// for an executor (Buildable), then leave the queue as a build (Left).
// Left and cancelled items stay visible for five minutes, as in Jenkins.

type qstate uint8

const (
	qWaiting qstate = iota
	qBlocked
	qBuildable
	qLeft
)

// leftItemTTL is how long a left item can still be read.
const leftItemTTL = 5 * time.Minute

type queueItem struct {
	id           int64
	job          *item
	params       []paramValue
	hasParams    bool
	causes       []cause
	inQueueSince time.Time
	due          time.Time // the end of the quiet period
	state        qstate
	why          string
	buildableAt  time.Time
	leftAt       time.Time
	cancelled    bool
	build        *build

	// What a left item still shows once its job or build is gone.
	taskFull, taskURL, taskClass string
	execNumber                   int
	execURL, execClass           string
}

func (q *queueItem) class() string {
	switch q.state {
	case qWaiting:
		return "hudson.model.Queue$WaitingItem"
	case qBlocked:
		return "hudson.model.Queue$BlockedItem"
	case qBuildable:
		return "hudson.model.Queue$BuildableItem"
	}
	return "hudson.model.Queue$LeftItem"
}

func (q *queueItem) relURL() string { return "queue/item/" + strconv.FormatInt(q.id, 10) + "/" }

// enqueue schedules a build of job, or returns the item already queued
// with the same parameters (existing true). m.mu must be held; the caller
// saves the queue after unlocking.
func (m *Master) enqueue(job *item, params []paramValue, causes []cause, delay time.Duration) (q *queueItem, existing bool) {
	now := m.now()
	due := now.Add(delay)
	for _, q := range job.queued {
		if sameParams(q.params, params) {
			if due.Before(q.due) {
				q.due = due
				m.schedule()
			}
			return q, true
		}
	}
	q = &queueItem{
		id:           m.nextQueue,
		job:          job,
		params:       params,
		hasParams:    len(job.cfg.params) > 0,
		causes:       causes,
		inQueueSince: now,
		due:          due,
	}
	m.nextQueue++
	m.queue = append(m.queue, q)
	m.items[q.id] = q
	job.queued = append(job.queued, q)
	m.queueVer++
	m.schedule()
	return q, false
}

func sameParams(a, b []paramValue) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// quietPeriod is how long a new build of job waits by default.
func (m *Master) quietPeriod(job *item) time.Duration {
	if job.cfg.quietPeriod >= 0 {
		return time.Duration(job.cfg.quietPeriod) * time.Second
	}
	return m.cfg.QuietPeriod
}

// schedule moves queue items along: it starts every build that can start
// and records why the others wait. m.mu must be held.
func (m *Master) schedule() {
	if m.closed || !m.serving {
		return
	}
	now := m.now()
	var earliest time.Time
	kept := m.queue[:0]
	for _, q := range m.queue {
		switch {
		case now.Before(q.due):
			q.state = qWaiting
			q.why = "In the quiet period. Expires in " + timeSpan(q.due.Sub(now))
			if earliest.IsZero() || q.due.Before(earliest) {
				earliest = q.due
			}
		case q.job.cfg.disabled:
			q.state, q.why = qBlocked, "Build disabled"
		case !q.job.cfg.concurrent && q.job.runningBuild() != nil:
			q.state = qBlocked
			q.why = fmt.Sprintf("Build #%d is already in progress (ETA: N/A)", q.job.runningBuild().number)
		case q.job.kind == kindPipeline:
			m.start(q, -1)
		default:
			exec := -1
			for i, b := range m.executors {
				if b == nil {
					exec = i
					break
				}
			}
			if exec < 0 {
				q.state, q.why = qBuildable, "Waiting for next available executor"
				if q.buildableAt.IsZero() {
					q.buildableAt = now
				}
				break
			}
			m.start(q, exec)
		}
		if q.state != qLeft {
			kept = append(kept, q)
		}
	}
	for i := len(kept); i < len(m.queue); i++ {
		m.queue[i] = nil
	}
	m.queue = kept
	if m.wake != nil {
		m.wake.Stop()
		m.wake = nil
	}
	if !earliest.IsZero() {
		m.wake = time.AfterFunc(earliest.Sub(now), m.kick)
	}
}

// kick reschedules from outside a request (the end of a quiet period).
func (m *Master) kick() {
	m.mu.Lock()
	m.schedule()
	m.mu.Unlock()
	m.saveQueue()
}

// leave takes an item out of the queue as a build or cancelled. m.mu
// must be held.
func (m *Master) leave(q *queueItem, b *build) {
	q.state = qLeft
	q.why = ""
	q.leftAt = m.now()
	q.build = b
	q.cancelled = b == nil
	q.taskFull, q.taskURL, q.taskClass = q.job.fullName(), q.job.relURL(), q.job.class()
	if b != nil {
		q.execNumber, q.execURL, q.execClass = b.number, b.relURL(), b.class()
	}
	for i, x := range q.job.queued {
		if x == q {
			q.job.queued = append(q.job.queued[:i], q.job.queued[i+1:]...)
			break
		}
	}
	m.queueVer++
}

// cancel cancels a queued item: 204, 404 (no such item), 422 (it has left
// the queue already).
func (m *Master) cancel(id int64) int {
	q := m.items[id]
	if q == nil || m.expired(q) {
		return 404
	}
	if q.state == qLeft {
		return 422
	}
	m.dequeue(q)
	m.leave(q, nil)
	m.schedule()
	return 204
}

// dequeue removes an item from the queue list. m.mu must be held.
func (m *Master) dequeue(q *queueItem) {
	for i, x := range m.queue {
		if x == q {
			m.queue = append(m.queue[:i], m.queue[i+1:]...)
			return
		}
	}
}

func (m *Master) expired(q *queueItem) bool {
	return q.state == qLeft && m.now().Sub(q.leftAt) > leftItemTTL
}

// expireLeft forgets left items older than five minutes. m.mu must be held.
func (m *Master) expireLeft() bool {
	changed := false
	for id, q := range m.items {
		if m.expired(q) {
			delete(m.items, id)
			changed = true
		}
	}
	return changed
}

// timeSpan formats a duration as Jenkins' Util.getTimeSpanString does.
func timeSpan(d time.Duration) string {
	ms := d.Milliseconds()
	switch {
	case ms < 1000:
		return fmt.Sprintf("%d ms", ms)
	case ms < 10_000:
		return fmt.Sprintf("%.1f sec", float64(ms)/1000)
	case ms < 60_000:
		return fmt.Sprintf("%d sec", ms/1000)
	case ms < 3_600_000:
		return fmt.Sprintf("%d min %d sec", ms/60_000, ms/1000%60)
	case ms < 86_400_000:
		return fmt.Sprintf("%d hr %d min", ms/3_600_000, ms/60_000%60)
	}
	return fmt.Sprintf("%d days %d hr", ms/86_400_000, ms/3_600_000%24)
}

// The queue on disk: queue.json.

type queueFile struct {
	NextID int64       `json:"nextId"`
	Items  []queueDisk `json:"items"`
}

type queueDisk struct {
	ID           int64         `json:"id"`
	Job          string        `json:"job"`
	Params       []paramOnDisk `json:"params,omitempty"`
	HasParams    bool          `json:"hasParams,omitempty"`
	Causes       []cause       `json:"causes"`
	InQueueSince int64         `json:"inQueueSince"`
	Due          int64         `json:"due"`
}

type paramOnDisk struct {
	Class string `json:"class"`
	Name  string `json:"name"`
	Value string `json:"value"`
}

func paramsToDisk(ps []paramValue) []paramOnDisk {
	out := make([]paramOnDisk, len(ps))
	for i, p := range ps {
		out[i] = paramOnDisk{p.class, p.name, p.value}
	}
	return out
}

func paramsFromDisk(ps []paramOnDisk) []paramValue {
	if len(ps) == 0 {
		return nil
	}
	out := make([]paramValue, len(ps))
	for i, p := range ps {
		out[i] = paramValue{p.Class, p.Name, p.Value}
	}
	return out
}

// saveQueue writes queue.json, the items in the queue and the next id,
// if they changed since it was last written. A caller that changed the
// queue calls it after unlocking m.mu: when it returns, the change is on
// disk (written by it or by a concurrent caller that took its snapshot
// later). Left items are not written, as Jenkins does not: after a
// restart, those of builds are made again from the builds' records.
func (m *Master) saveQueue() {
	m.saveMu.Lock()
	defer m.saveMu.Unlock()
	m.mu.RLock()
	ver := m.queueVer
	if ver == m.savedVer {
		m.mu.RUnlock()
		return
	}
	f := queueFile{NextID: m.nextQueue, Items: make([]queueDisk, 0, len(m.queue))}
	for _, q := range m.queue {
		f.Items = append(f.Items, queueDisk{
			ID: q.id, Job: q.job.fullName(), Params: paramsToDisk(q.params), HasParams: q.hasParams, Causes: q.causes,
			InQueueSince: q.inQueueSince.UnixMilli(), Due: q.due.UnixMilli(),
		})
	}
	m.mu.RUnlock()
	data, err := json.Marshal(f)
	if err == nil {
		err = rewriteFile(filepath.Join(m.home, "queue.json"), data)
	}
	if err != nil {
		m.logf("local master: saving the queue: %v", err)
		return
	}
	m.savedVer = ver
}

// loadQueue restores queue.json. m.mu must be held; jobs are loaded.
func (m *Master) loadQueue() error {
	data, err := os.ReadFile(filepath.Join(m.home, "queue.json"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var f queueFile
	if err := json.Unmarshal(data, &f); err != nil {
		m.logf("local master: queue.json is unreadable, starting with an empty queue: %v", err)
		return nil
	}
	if f.NextID > m.nextQueue {
		m.nextQueue = f.NextID
	}
	for _, d := range f.Items {
		if d.ID >= m.nextQueue {
			m.nextQueue = d.ID + 1
		}
		q := &queueItem{
			id: d.ID, params: paramsFromDisk(d.Params), hasParams: d.HasParams, causes: d.Causes,
			inQueueSince: time.UnixMilli(d.InQueueSince), due: time.UnixMilli(d.Due),
		}
		job := m.lookup(d.Job)
		if job == nil || !job.isJob() {
			m.logf("local master: dropping queue item %d: job %s no longer exists", d.ID, d.Job)
			continue
		}
		q.job = job
		m.queue = append(m.queue, q)
		m.items[q.id] = q
		job.queued = append(job.queued, q)
	}
	// The items that left the queue in the last five minutes, as builds.
	now := m.now()
	m.root.walk(func(job *item) {
		for i := len(job.builds) - 1; i >= 0; i-- {
			b := job.builds[i]
			if now.Sub(b.timestamp) > leftItemTTL {
				break
			}
			if b.queueID <= 0 || m.items[b.queueID] != nil {
				continue
			}
			q := &queueItem{
				id: b.queueID, job: job, params: b.params, hasParams: b.hasParams, causes: b.causes,
				inQueueSince: b.timestamp, due: b.timestamp,
			}
			m.items[q.id] = q
			m.leave(q, b)
			q.leftAt = b.timestamp
		}
	})
	return nil
}
