// Package cron parses Jenkins cron specs (the <spec> of a
// hudson.triggers.TimerTrigger) and computes when they fire.
//
// It follows Jenkins core's hudson.scheduler.CronTabList, CronTab, BaseParser
// and Hash:
//
//   - A spec is one or more lines. Surrounding whitespace is ignored, blank
//     lines and lines starting with # are skipped, and the very first line may
//     be TZ=Area/City to evaluate every entry in that time zone.
//   - An entry has five fields, minute (0-59), hour (0-23), day-of-month
//     (1-31), month (1-12) and day-of-week (0-7, 0 and 7 are Sunday),
//     separated by spaces or tabs, or is one of the aliases @yearly,
//     @annually, @monthly, @weekly, @daily, @midnight and @hourly.
//   - A field is a comma-separated list of terms: a number, a range a-b, a
//     stepped range a-b/n, * or */n, or a hashed term H, H/n, H(a-b) or
//     H(a-b)/n. Month and day names are not accepted (Jenkins rejects them).
//   - H picks a value that is stable for a job: Jenkins seeds a
//     java.util.Random from the MD5 of the job's full name and draws one
//     number per H term, left to right, line by line. Bare H and H/n use
//     1-28 for day-of-month and 0-6 for day-of-week. H/1 is the same as H
//     (one value, not every value).
//   - An entry fires when minute, hour, day-of-month, month and day-of-week
//     all match. Unlike Vixie cron, a restricted day-of-month and a restricted
//     day-of-week must both match. A spec fires when any entry fires.
//
// Where this package knowingly differs from Jenkins:
//
//   - Jenkins ignores the rest of a line after an alias when the character
//     right after the alias starts a valid token ("@daily 5", "@yearly5");
//     Parse rejects such lines.
//   - Jenkins drops the TZ= zone for alias lines (CronTab re-parses the
//     expansion without it); Next applies it to every line.
//   - TZ= names are checked against the system's time zone database rather
//     than Java's list, so Java-only IDs such as PST or SystemV/EST5 are
//     rejected.
//   - A step so large that start+step overflows a Java int (as in
//     59-59/2147483647) makes Jenkins' range loop wrap around and select
//     stray values; here it selects only the start.
package cron

import (
	"fmt"
	"time"
)

// Spec is a parsed Jenkins cron spec. It is immutable and safe for
// concurrent use.
type Spec struct {
	loc     *time.Location // from a TZ= line; nil means the caller's location
	entries []entry
}

// entry is one line of a spec: five fields, each a list of terms.
type entry struct {
	fields [numFields][]term
}

// term is one element of a field's comma-separated list.
//
// A plain term (hash false) selects lo, lo+step, ... up to hi; a single
// number is lo == hi with step 1. A hashed term (hash true) with step 1
// selects the single value lo + rand(hi-lo+1); with a larger step it selects
// lo + rand(step), then every step-th value up to hi.
type term struct {
	hash   bool
	lo, hi int
	step   int64
}

// SyntaxError reports a problem in a spec: bad syntax, a value out of range,
// a reversed range, a bad step or an unknown time zone.
type SyntaxError struct {
	Line int    // 1-based line within the spec
	Col  int    // 1-based column, in characters, within that line
	Msg  string // what is wrong, e.g. "minute 75 is out of range 0-59"
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Col, e.Msg)
}

// Field indices, in the order they appear in an entry.
const (
	fieldMinute = iota
	fieldHour
	fieldDayOfMonth
	fieldMonth
	fieldDayOfWeek
	numFields
)

var (
	fieldNames = [numFields]string{"minute", "hour", "day-of-month", "month", "day-of-week"}
	lowerBound = [numFields]int{0, 0, 1, 1, 0}
	upperBound = [numFields]int{59, 23, 31, 12, 7}
	// hashUpper is the upper bound of a bare H or H/n. Jenkins uses 28 for
	// day-of-month so the value exists in every month, and 6 for day-of-week
	// so Sunday is not picked twice as often as other days.
	hashUpper = [numFields]int{59, 23, 28, 12, 6}
)

// schedule is an entry with its H terms resolved for one job: bit i of a
// mask is set when value i matches. Day-of-week 7 is folded into 0.
type schedule struct {
	masks [numFields]uint64
}

// resolve computes the bit masks of every entry for the job whose H terms
// are seeded by hashKey. The draws are shared by all entries in order, as
// Jenkins uses one Hash for the whole CronTabList.
func (s *Spec) resolve(hashKey string) []schedule {
	if len(s.entries) == 0 {
		return nil
	}
	rnd := jenkinsHash(hashKey)
	out := make([]schedule, len(s.entries))
	for i, e := range s.entries {
		for f, terms := range e.fields {
			var m uint64
			for _, t := range terms {
				m |= t.bits(rnd)
			}
			out[i].masks[f] = m
		}
		if dow := &out[i].masks[fieldDayOfWeek]; *dow&(1<<7) != 0 {
			*dow = *dow&^(1<<7) | 1
		}
	}
	return out
}

func (t term) bits(rnd *javaRandom) uint64 {
	start := t.lo
	if t.hash {
		if t.step <= 1 {
			return 1 << (t.lo + int(rnd.nextInt(int32(t.hi-t.lo+1))))
		}
		start += int(rnd.nextInt(int32(t.step)))
	}
	var m uint64
	for i := int64(start); i <= int64(t.hi); i += t.step {
		m |= 1 << i
	}
	return m
}
