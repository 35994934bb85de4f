package cron

import (
	"math/bits"
	"time"
)

// searchYears bounds the search of Next. The Gregorian calendar, weekdays
// included, repeats every 400 years, so a spec that has not fired within
// that span never will.
const searchYears = 400

// Next returns the first fire time strictly after t (truncated to the
// minute), in t's location (or the spec's TZ when given), for a job whose H
// fields are hashed from hashKey (the job's full name, as Jenkins does). ok
// is false if the spec never fires (e.g. Feb 30).
//
// The search covers 400 years, a full cycle of the Gregorian calendar, so
// it finds rare dates such as a Monday February 29 that Jenkins' own
// preview gives up on after two years.
//
// Like Jenkins, which checks every minute against the wall clock, Next skips
// wall-clock times that a daylight-saving change leaves out and fires twice
// at times that it repeats.
func (s *Spec) Next(t time.Time, hashKey string) (next time.Time, ok bool) {
	loc := t.Location()
	if s.loc != nil {
		loc = s.loc
	}
	start := t.Truncate(time.Minute).Add(time.Minute).In(loc)
	limit := start.AddDate(searchYears, 0, 0)
	for _, sc := range s.resolve(hashKey) {
		if n, found := sc.next(start, limit); found {
			next, ok, limit = n, true, n
		}
	}
	return next, ok
}

// next returns the first instant at or after x, no later than limit, whose
// wall clock in x's location matches. x must be at a whole minute.
//
// It jumps from x straight to the next matching wall-clock time, which is
// exact while the UTC offset stays the same; a jump that would cross a zone
// transition stops at the transition and looks again from there.
func (sc *schedule) next(x, limit time.Time) (time.Time, bool) {
	if !sc.possible() {
		return time.Time{}, false
	}
	loc := x.Location()
	for !x.After(limit) {
		y, mo, d := x.Date()
		h, mi, _ := x.Clock()
		cur := wall{y, int(mo), d, h, mi}
		w, ok := sc.nextWall(cur)
		if !ok {
			return time.Time{}, false
		}
		if w == cur {
			return x, true
		}
		nx := time.Unix(x.Unix()+(w.minutes()-cur.minutes())*60, 0).In(loc)
		switch _, end := x.ZoneBounds(); {
		case end.IsZero(): // no transitions ahead
		case end.After(x):
			if end.Before(nx) {
				nx = ceilMinute(end).In(loc)
			}
		default:
			// Go can report a zone end that is not after x (seen on the
			// last day of leap years beyond the zone's transition table).
			// Move at most an hour and find any transition ourselves.
			if hourLater := x.Add(time.Hour); hourLater.Before(nx) {
				nx = hourLater
			}
			nx = firstOffsetChange(x, nx)
		}
		x = nx
	}
	return time.Time{}, false
}

// firstOffsetChange returns the first whole minute in (x, y] whose UTC
// offset differs from x's, or y if there is none. It assumes at most one
// transition between x and y.
func firstOffsetChange(x, y time.Time) time.Time {
	_, off := x.Zone()
	if _, o := y.Zone(); o == off {
		return y
	}
	lo, hi := x.Unix()/60, y.Unix()/60 // offset at lo is off, at hi it is not
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if _, o := time.Unix(mid*60, 0).In(x.Location()).Zone(); o == off {
			lo = mid
		} else {
			hi = mid
		}
	}
	return time.Unix(hi*60, 0).In(x.Location())
}

// ceilMinute rounds t up to a whole minute.
func ceilMinute(t time.Time) time.Time {
	sec := t.Unix()
	if t.Nanosecond() > 0 {
		sec++
	}
	if r := sec % 60; r > 0 {
		sec += 60 - r
	} else if r < 0 {
		sec -= r
	}
	return time.Unix(sec, 0)
}

// wall is a wall-clock time to the minute; m is 1-12.
type wall struct {
	y, m, d, h, min int
}

func (w wall) minutes() int64 {
	return daysFromCivil(w.y, w.m, w.d)*24*60 + int64(w.h*60+w.min)
}

// nextWall returns the first wall-clock time at or after w that matches,
// looking at most searchYears ahead.
func (sc *schedule) nextWall(w wall) (wall, bool) {
	minutes, hours := sc.masks[fieldMinute], sc.masks[fieldHour]
	if sc.dayMatches(w.y, w.m, w.d, weekday(w.y, w.m, w.d)) {
		if hours&(1<<w.h) != 0 {
			if m, ok := nextBit(minutes, w.min); ok {
				return wall{w.y, w.m, w.d, w.h, m}, true
			}
		}
		if h, ok := nextBit(hours, w.h+1); ok {
			return wall{w.y, w.m, w.d, h, firstBit(minutes)}, true
		}
	}
	y, m, d := w.y, w.m, w.d+1
	for y <= w.y+searchYears {
		if sc.masks[fieldMonth]&(1<<m) != 0 {
			n := daysIn(y, m)
			for wd := weekday(y, m, d); d <= n; d++ {
				if sc.dayMatches(y, m, d, wd) {
					return wall{y, m, d, firstBit(hours), firstBit(minutes)}, true
				}
				wd = (wd + 1) % 7
			}
		}
		m, d = m+1, 1
		if m > 12 {
			y, m = y+1, 1
		}
	}
	return wall{}, false
}

// possible reports whether some month has one of the days of the month,
// which rules out dates like February 30 without searching.
func (sc *schedule) possible() bool {
	for m := 1; m <= 12; m++ {
		if sc.masks[fieldMonth]&(1<<m) != 0 && sc.masks[fieldDayOfMonth]&(1<<(daysIn(2000, m)+1)-1) != 0 {
			return true
		}
	}
	return false
}

// dayMatches reports whether month, day-of-month and day-of-week (wd,
// 0 = Sunday) all match: Jenkins requires both day fields to match.
func (sc *schedule) dayMatches(y, m, d, wd int) bool {
	return sc.masks[fieldMonth]&(1<<m) != 0 &&
		sc.masks[fieldDayOfMonth]&(1<<d) != 0 &&
		sc.masks[fieldDayOfWeek]&(1<<wd) != 0
}

// nextBit returns the lowest set bit of mask at or above from.
func nextBit(mask uint64, from int) (int, bool) {
	if from >= 64 {
		return 0, false
	}
	mask &^= 1<<from - 1
	if mask == 0 {
		return 0, false
	}
	return bits.TrailingZeros64(mask), true
}

func firstBit(mask uint64) int { return bits.TrailingZeros64(mask) }

// daysFromCivil returns the number of days from 1970-01-01 to the given
// proleptic Gregorian date (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	yy := int64(y)
	if m <= 2 {
		yy--
	}
	era := yy
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := yy - era*400
	mp := int64(m + 9)
	if m > 2 {
		mp = int64(m - 3)
	}
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// weekday returns the day of the week of a date, 0 = Sunday.
func weekday(y, m, d int) int {
	wd := (daysFromCivil(y, m, d) + 4) % 7 // 1970-01-01 was a Thursday
	if wd < 0 {
		wd += 7
	}
	return int(wd)
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
