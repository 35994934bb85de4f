package cron

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"* * * * *",
		"H H * * *",
		"H/15 * * * *",
		"H(0-29)/10 H(9-17) * * 1-5",
		"*/5 1-5/2 1,15 1-11 0-7",
		"0 0 29 2 1",
		"0 0 30 2 *",
		"@daily",
		"@midnight\n@weekly",
		"TZ=America/New_York\n30 2 * * *",
		"TZ=Europe/London\n# comment\n\n0 1 * * 0",
		"75 * * * *",
		"5/15 * * * *",
		"0 0 * *",
		"H(5-3) * * * *",
		"\t 1\t2 3  4 5 \r\n",
		"0 0 * * * é",
	} {
		f.Add(s, "job")
	}
	from := time.Date(2026, 3, 7, 23, 59, 30, 0, time.UTC)
	f.Fuzz(func(t *testing.T, spec, hashKey string) {
		s, err := Parse(spec)
		if err != nil {
			checkSyntaxErrors(t, spec, err)
			return
		}
		for _, loc := range []*time.Location{time.UTC, fuzzLocation} {
			at := from.In(loc)
			next, ok := s.Next(at, hashKey)
			if !ok {
				continue
			}
			if !next.After(at) {
				t.Fatalf("Next(%v) = %v, not after", at, next)
			}
			if next.Second() != 0 && next.Location() == time.UTC {
				t.Fatalf("Next(%v) = %v, not at a whole minute", at, next)
			}
			// Nothing matches between at and next (checked for two days).
			scheds := s.resolve(hashKey)
			zone := at.Location()
			if s.loc != nil {
				zone = s.loc
			}
			stop := at.Add(48 * time.Hour)
			for m := at.Truncate(time.Minute).Add(time.Minute); m.Before(next) && m.Before(stop); m = m.Add(time.Minute) {
				if matchesAny(scheds, m.In(zone)) {
					t.Fatalf("Next(%v) = %v, but %v matches earlier", at, next, m.In(zone))
				}
			}
			if !matchesAny(scheds, next) {
				t.Fatalf("Next(%v) = %v, which does not match", at, next)
			}
		}
	})
}

// fuzzLocation has daylight saving, to exercise gaps and overlaps; UTC
// when there is no time zone database.
var fuzzLocation = func() *time.Location {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		return time.UTC
	}
	return loc
}()

func matchesAny(scheds []schedule, t time.Time) bool {
	y, m, d := t.Date()
	for _, sc := range scheds {
		if sc.dayMatches(y, int(m), d, int(t.Weekday())) &&
			sc.masks[fieldHour]&(1<<t.Hour()) != 0 && sc.masks[fieldMinute]&(1<<t.Minute()) != 0 {
			return true
		}
	}
	return false
}

// checkSyntaxErrors checks that err is made of *SyntaxError values that
// point inside spec.
func checkSyntaxErrors(t *testing.T, spec string, err error) {
	t.Helper()
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	lines := strings.Split(spec, "\n")
	for _, e := range errs {
		var se *SyntaxError
		if !errors.As(e, &se) {
			t.Fatalf("Parse(%q) error %v (%T) is not a *SyntaxError", spec, e, e)
		}
		if se.Line < 1 || se.Line > len(lines) {
			t.Fatalf("Parse(%q): line %d out of 1-%d: %v", spec, se.Line, len(lines), se)
		}
		if n := utf8.RuneCountInString(lines[se.Line-1]); se.Col < 1 || se.Col > n+1 {
			t.Fatalf("Parse(%q): column %d out of 1-%d: %v", spec, se.Col, n+1, se)
		}
		if se.Msg == "" {
			t.Fatalf("Parse(%q): empty message", spec)
		}
	}
}
