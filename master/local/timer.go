package local

import (
	"time"

	"github.com/jobctl/jobctl/cron"
)

// Timer triggers: one goroutine checks every second whether a new minute
// has begun and starts the jobs whose cron specs fire in it, with H hashed
// by the job's full name as Jenkins does. Minutes missed while the master
// was down or asleep are not made up for.

type timerState struct {
	next time.Time // the next minute the job's timer specs fire
	poll time.Time // the next minute its SCM trigger's specs fire
}

// setTimer (re)computes a job's next fire and poll times; it forgets jobs
// without timer or SCM triggers. m.mu must be held.
func (m *Master) setTimer(job *item) {
	if !job.isJob() || len(job.cfg.timers) == 0 && len(job.cfg.polls) == 0 {
		delete(m.timers, job)
		return
	}
	now := m.now()
	st := &timerState{next: m.nextFire(job, now), poll: m.nextPoll(job, now)}
	m.timers[job] = st
}

func (m *Master) nextFire(job *item, after time.Time) time.Time {
	return nextOf(job.cfg.timers, job, after)
}

// nextPoll is when a job's SCM trigger polls next; its specs are hashed
// by the job's full name as a timer's are.
func (m *Master) nextPoll(job *item, after time.Time) time.Time {
	return nextOf(job.cfg.polls, job, after)
}

func nextOf(specs []*cron.Spec, job *item, after time.Time) time.Time {
	var next time.Time
	for _, spec := range specs {
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
	var polls []*item
	for job, st := range m.timers {
		if !st.poll.IsZero() && !now.Before(st.poll) {
			due := now.Sub(st.poll) < time.Minute
			st.poll = m.nextPoll(job, now)
			if due && !job.deleting && !job.cfg.disabled {
				polls = append(polls, job)
			}
		}
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
	for _, job := range polls {
		m.schedulePoll(job)
	}
}
