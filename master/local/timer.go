package local

import (
	"time"
)

// Timer triggers: one goroutine checks every second whether a new minute
// has begun and starts the jobs whose cron specs fire in it, with H hashed
// by the job's full name as Jenkins does. Minutes missed while the master
// was down or asleep are not made up for.

type timerState struct {
	next time.Time // the next minute the job's specs fire
}

// setTimer (re)computes a job's next fire time; it forgets jobs without
// timers. m.mu must be held.
func (m *Master) setTimer(job *item) {
	if !job.isJob() || len(job.cfg.timers) == 0 {
		delete(m.timers, job)
		return
	}
	st := &timerState{next: m.nextFire(job, m.now())}
	m.timers[job] = st
}

func (m *Master) nextFire(job *item, after time.Time) time.Time {
	var next time.Time
	for _, spec := range job.cfg.timers {
		if t, ok := spec.Next(after, job.fullName()); ok && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	return next
}

// resetTimers computes every job's next fire time. m.mu must be held.
func (m *Master) resetTimers() {
	m.timers = map[*item]*timerState{}
	m.root.walk(func(it *item) {
		if it.isJob() {
			m.setTimer(it)
		}
	})
}

func (m *Master) timerLoop() {
	defer m.loops.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.fireTimers(m.now())
		}
	}
}

// fireTimers queues a build of every job whose next fire time is in the
// minute now is in. A fire time more than a minute in the past was missed
// (the master was not running, or the machine slept): it is skipped.
func (m *Master) fireTimers(now time.Time) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	fired := false
	for job, st := range m.timers {
		if st.next.IsZero() || now.Before(st.next) {
			continue
		}
		due := now.Sub(st.next) < time.Minute
		st.next = m.nextFire(job, now)
		if !due || job.deleting || job.cfg.disabled {
			continue
		}
		params := make([]paramValue, 0, len(job.cfg.params))
		for _, p := range job.cfg.params {
			params = append(params, p.defaultValue())
		}
		m.enqueue(job, params, []cause{timerCause()}, m.quietPeriod(job))
		m.logf("local master: timer started %s", job.fullName())
		fired = true
	}
	m.mu.Unlock()
	if fired {
		m.saveQueue()
	}
}
