package local

import (
	"path/filepath"
	"time"
)

// rotate applies a job's LogRotator after a build, as Jenkins does: it
// deletes the builds beyond numToKeep and those older than daysToKeep,
// and the artifacts beyond artifactNumToKeep and artifactDaysToKeep,
// never touching a running build, a build kept forever, the last
// successful build or the last stable build. m.mu must be held.
func (m *Master) rotate(job *item) {
	r := job.cfg.rotator
	if !r.enabled() || len(job.builds) == 0 {
		return
	}
	lsb, _ := job.permalink("lastSuccessfulBuild")
	lstb, _ := job.permalink("lastStableBuild")
	keep := func(b *build) bool { return b.building || b.keepLog || b == lsb || b == lstb }
	now := m.now()
	doomed := func(num, days int) map[*build]bool {
		out := map[*build]bool{}
		if num >= 0 {
			for i := len(job.builds) - 1 - num; i >= 0; i-- {
				if b := job.builds[i]; !keep(b) {
					out[b] = true
				}
			}
		}
		if days > 0 {
			cutoff := now.Add(-time.Duration(days) * 24 * time.Hour)
			for _, b := range job.builds {
				if !b.timestamp.Before(cutoff) {
					break
				}
				if !keep(b) {
					out[b] = true
				}
			}
		}
		return out
	}
	for b := range doomed(r.artifactNumToKeep, r.artifactDaysToKeep) {
		if len(b.artifacts) > 0 {
			b.artifacts = nil
			m.moveToTrash(filepath.Join(job.buildDir(m.home, b.number), "archive"))
			m.saveBuild(b)
		}
	}
	for b := range doomed(r.numToKeep, r.daysToKeep) {
		job.removeBuild(b)
		if err := m.moveToTrash(job.buildDir(m.home, b.number)); err != nil {
			m.logf("local master: discarding %s #%d: %v", job.fullName(), b.number, err)
		}
	}
}

// deleteBuild deletes one build (not a running one). m.mu must be held.
func (m *Master) deleteBuild(b *build) error {
	b.job.removeBuild(b)
	if err := m.moveToTrash(b.job.buildDir(m.home, b.number)); err != nil {
		return err
	}
	return nil
}
