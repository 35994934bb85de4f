package cron

import (
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// masksString renders resolved entries as "min=… hour=… dom=… mon=… dow=…"
// with runs of values collapsed to ranges.
func masksString(scheds []schedule) []string {
	var out []string
	for _, sc := range scheds {
		var parts []string
		for f, name := range []string{"min", "hour", "dom", "mon", "dow"} {
			parts = append(parts, name+"="+maskString(sc.masks[f]))
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

func maskString(m uint64) string {
	var parts []string
	for m != 0 {
		lo := bits.TrailingZeros64(m)
		hi := lo
		for hi < 63 && m&(1<<(hi+1)) != 0 {
			hi++
		}
		if lo == hi {
			parts = append(parts, fmt.Sprint(lo))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", lo, hi))
		}
		m &^= (1<<(hi-lo+1) - 1) << lo
	}
	return strings.Join(parts, ",")
}

func TestParseValid(t *testing.T) {
	// The H expectations for hashKey "myjob" match the bits that Jenkins'
	// own CronTabList.create(spec, Hash.from("myjob")) produced when run
	// under OpenJDK 17.
	tests := []struct {
		name    string
		spec    string
		hashKey string
		want    []string
		wantTZ  string
	}{
		{name: "every minute", spec: "* * * * *", want: []string{"min=0-59 hour=0-23 dom=1-31 mon=1-12 dow=0-6"}},
		{name: "numbers", spec: "0 0 1 1 0", want: []string{"min=0 hour=0 dom=1 mon=1 dow=0"}},
		{name: "upper bounds", spec: "59 23 31 12 6", want: []string{"min=59 hour=23 dom=31 mon=12 dow=6"}},
		{name: "steps ranges lists", spec: "*/15 9-17/2 1,15 1-11 1-5", want: []string{"min=0,15,30,45 hour=9,11,13,15,17 dom=1,15 mon=1-11 dow=1-5"}},
		{name: "mixed list", spec: "5,10-12,50-59/3 * * * *", want: []string{"min=5,10-12,50,53,56,59 hour=0-23 dom=1-31 mon=1-12 dow=0-6"}},
		{name: "sunday as 7", spec: "* * * * 7", want: []string{"min=0-59 hour=0-23 dom=1-31 mon=1-12 dow=0"}},
		{name: "dow 0-7", spec: "* * * * 0-7", want: []string{"min=0-59 hour=0-23 dom=1-31 mon=1-12 dow=0-6"}},
		{name: "dow 5-7", spec: "* * * * 5-7", want: []string{"min=0-59 hour=0-23 dom=1-31 mon=1-12 dow=0,5-6"}},
		{name: "dow star step 7", spec: "* * * * */7", want: []string{"min=0-59 hour=0-23 dom=1-31 mon=1-12 dow=0"}},
		{name: "leading zeros", spec: "01 002 * * *", want: []string{"min=1 hour=2 dom=1-31 mon=1-12 dow=0-6"}},
		{name: "star step beyond range", spec: "*/60 * * * *", want: []string{"min=0 hour=0-23 dom=1-31 mon=1-12 dow=0-6"}},
		{name: "range step beyond range", spec: "1-5/100 * * * *", want: []string{"min=1 hour=0-23 dom=1-31 mon=1-12 dow=0-6"}},
		// Jenkins overflows here and selects stray minutes; see the package doc.
		{name: "largest step", spec: "59-59/2147483647 * * * *", want: []string{"min=59 hour=0-23 dom=1-31 mon=1-12 dow=0-6"}},
		{name: "tabs and padding", spec: "\t 1\t2 3  4 5 \r", want: []string{"min=1 hour=2 dom=3 mon=4 dow=5"}},
		{name: "comments blank lines crlf", spec: "# nightly\r\n\r\n  # indented comment\n0 0 * * *\n\n", want: []string{"min=0 hour=0 dom=1-31 mon=1-12 dow=0-6"}},
		{name: "several lines", spec: "0 0 * * *\n30 12 * * 1-5", want: []string{"min=0 hour=0 dom=1-31 mon=1-12 dow=0-6", "min=30 hour=12 dom=1-31 mon=1-12 dow=1-5"}},
		{name: "empty", spec: "", want: nil},
		{name: "only comments", spec: "# nothing\n", want: nil},
		{name: "time zone", spec: "TZ=Europe/London\n0 9 * * 1-5", want: []string{"min=0 hour=9 dom=1-31 mon=1-12 dow=1-5"}, wantTZ: "Europe/London"},
		{name: "time zone padded", spec: "  TZ=UTC  \n* * * * *", want: []string{"min=0-59 hour=0-23 dom=1-31 mon=1-12 dow=0-6"}, wantTZ: "UTC"},
		{name: "time zone only", spec: "TZ=Asia/Tokyo", want: nil, wantTZ: "Asia/Tokyo"},
		// Jenkins strips every "TZ=" from the line, not just the prefix.
		{name: "time zone repeated prefix", spec: "TZ=Europe/TZ=London\n* * * * *", want: []string{"min=0-59 hour=0-23 dom=1-31 mon=1-12 dow=0-6"}, wantTZ: "Europe/London"},

		{name: "H", spec: "H H * * *", hashKey: "myjob", want: []string{"min=18 hour=9 dom=1-31 mon=1-12 dow=0-6"}},
		{name: "H step", spec: "H/15 * * * *", hashKey: "myjob", want: []string{"min=3,18,33,48 hour=0-23 dom=1-31 mon=1-12 dow=0-6"}},
		{name: "H range step", spec: "H(0-29)/10 H(9-17) * * 1-5", hashKey: "myjob", want: []string{"min=8,18,28 hour=15 dom=1-31 mon=1-12 dow=1-5"}},
		{name: "H day-of-month step uses 1-28", spec: "H H(0-7) H/7 * *", hashKey: "myjob", want: []string{"min=18 hour=1 dom=7,14,21,28 mon=1-12 dow=0-6"}},
		{name: "H/1 is one value", spec: "H/1 * * * *", hashKey: "myjob", want: []string{"min=18 hour=0-23 dom=1-31 mon=1-12 dow=0-6"}},
		{name: "H range of one", spec: "H(3-3) * * * *", hashKey: "myjob", want: []string{"min=3 hour=0-23 dom=1-31 mon=1-12 dow=0-6"}},
		{name: "H list", spec: "H,H * * * *", hashKey: "myjob", want: []string{"min=9,18 hour=0-23 dom=1-31 mon=1-12 dow=0-6"}},
		{name: "H dow 0-7", spec: "* * * * H(0-7)", hashKey: "myjob", want: []string{"min=0-59 hour=0-23 dom=1-31 mon=1-12 dow=3"}},
		{name: "H H step of full range", spec: "H/60 * * * *", hashKey: "myjob", want: []string{"min=18 hour=0-23 dom=1-31 mon=1-12 dow=0-6"}},
		{name: "H draws continue across lines", spec: "H H * * *\nH H * * *", hashKey: "myjob", want: []string{"min=18 hour=9 dom=1-31 mon=1-12 dow=0-6", "min=52 hour=21 dom=1-31 mon=1-12 dow=0-6"}},
		{name: "@yearly", spec: "@yearly", hashKey: "myjob", want: []string{"min=18 hour=9 dom=21 mon=10 dow=0-6"}},
		{name: "@annually", spec: "@annually", hashKey: "myjob", want: []string{"min=18 hour=9 dom=21 mon=10 dow=0-6"}},
		{name: "@monthly", spec: "@monthly", hashKey: "myjob", want: []string{"min=18 hour=9 dom=21 mon=1-12 dow=0-6"}},
		{name: "@weekly", spec: "@weekly", hashKey: "myjob", want: []string{"min=18 hour=9 dom=1-31 mon=1-12 dow=6"}},
		{name: "@daily", spec: "@daily", hashKey: "myjob", want: []string{"min=18 hour=9 dom=1-31 mon=1-12 dow=0-6"}},
		{name: "@midnight", spec: "@midnight", hashKey: "myjob", want: []string{"min=18 hour=0 dom=1-31 mon=1-12 dow=0-6"}},
		{name: "@hourly", spec: "  @hourly  ", hashKey: "myjob", want: []string{"min=18 hour=0-23 dom=1-31 mon=1-12 dow=0-6"}},
		{name: "other job", spec: "H H * * *", hashKey: "folder/sub job", want: []string{"min=25 hour=20 dom=1-31 mon=1-12 dow=0-6"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(tt.spec)
			if err != nil {
				t.Fatalf("Parse(%q) = %v", tt.spec, err)
			}
			if diff := cmp.Diff(tt.want, masksString(s.resolve(tt.hashKey))); diff != "" {
				t.Errorf("Parse(%q) fields mismatch (-want +got):\n%s", tt.spec, diff)
			}
			gotTZ := ""
			if s.loc != nil {
				gotTZ = s.loc.String()
			}
			if gotTZ != tt.wantTZ {
				t.Errorf("Parse(%q) time zone = %q, want %q", tt.spec, gotTZ, tt.wantTZ)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	const fields = "expected 5 fields (minute hour day-of-month month day-of-week)"
	tests := []struct {
		name string
		spec string
		want SyntaxError
	}{
		{name: "minute too large", spec: "75 * * * *", want: SyntaxError{Line: 1, Col: 1, Msg: "minute 75 is out of range 0-59"}},
		{name: "hour too large", spec: "0 24 * * *", want: SyntaxError{Line: 1, Col: 3, Msg: "hour 24 is out of range 0-23"}},
		{name: "day-of-month zero", spec: "0 0 0 * *", want: SyntaxError{Line: 1, Col: 5, Msg: "day-of-month 0 is out of range 1-31"}},
		{name: "day-of-month 32", spec: "0 0 32 * *", want: SyntaxError{Line: 1, Col: 5, Msg: "day-of-month 32 is out of range 1-31"}},
		{name: "month zero", spec: "0 0 * 0 *", want: SyntaxError{Line: 1, Col: 7, Msg: "month 0 is out of range 1-12"}},
		{name: "month 13", spec: "0 0 * 13 *", want: SyntaxError{Line: 1, Col: 7, Msg: "month 13 is out of range 1-12"}},
		{name: "day-of-week 8", spec: "0 0 * * 8", want: SyntaxError{Line: 1, Col: 9, Msg: "day-of-week 8 is out of range 0-7"}},
		{name: "range end too large", spec: "0 0 * * 1-9", want: SyntaxError{Line: 1, Col: 11, Msg: "day-of-week 9 is out of range 0-7"}},
		{name: "number too large", spec: "99999999999 * * * *", want: SyntaxError{Line: 1, Col: 1, Msg: "minute 99999999999 is out of range 0-59"}},
		{name: "in a list", spec: "0,15,60 * * * *", want: SyntaxError{Line: 1, Col: 6, Msg: "minute 60 is out of range 0-59"}},
		{name: "reversed range", spec: "5-1 * * * *", want: SyntaxError{Line: 1, Col: 1, Msg: "minute range 5-1 is reversed (did you mean 1-5?)"}},
		{name: "step zero", spec: "*/0 * * * *", want: SyntaxError{Line: 1, Col: 3, Msg: "minute step must be at least 1, found 0"}},
		{name: "range step zero", spec: "* 1-5/0 * * *", want: SyntaxError{Line: 1, Col: 7, Msg: "hour step must be at least 1, found 0"}},
		{name: "step too large to read", spec: "*/2147483648 * * * *", want: SyntaxError{Line: 1, Col: 3, Msg: "minute step 2147483648 is too large"}},
		{name: "H step too large", spec: "H/61 * * * *", want: SyntaxError{Line: 1, Col: 3, Msg: "minute step 61 is out of range 1-60 for H"}},
		{name: "H day-of-month step uses 1-28", spec: "* * H/29 * *", want: SyntaxError{Line: 1, Col: 7, Msg: "day-of-month step 29 is out of range 1-28 for H"}},
		{name: "H day-of-week step uses 0-6", spec: "* * * * H/8", want: SyntaxError{Line: 1, Col: 11, Msg: "day-of-week step 8 is out of range 1-7 for H"}},
		{name: "H range step too large", spec: "H(10-20)/15 * * * *", want: SyntaxError{Line: 1, Col: 10, Msg: "minute step 15 is out of range 1-11 for H"}},
		{name: "H step zero", spec: "H(0-59)/0 * * * *", want: SyntaxError{Line: 1, Col: 9, Msg: "minute step must be at least 1, found 0"}},
		{name: "H reversed", spec: "H(5-3) * * * *", want: SyntaxError{Line: 1, Col: 3, Msg: "minute range H(5-3) is reversed (did you mean H(3-5)?)"}},
		{name: "H range out of range", spec: "0 H(0-24) * * *", want: SyntaxError{Line: 1, Col: 7, Msg: "hour 24 is out of range 0-23"}},
		{name: "four fields", spec: "0 0 * *", want: SyntaxError{Line: 1, Col: 8, Msg: fields + ", found 4"}},
		{name: "one field", spec: "*", want: SyntaxError{Line: 1, Col: 2, Msg: fields + ", found 1"}},
		{name: "six fields", spec: "0 0 * * * 2026", want: SyntaxError{Line: 1, Col: 11, Msg: fields + ", found 6"}},
		{name: "seven fields", spec: "0 0 1 * * * *", want: SyntaxError{Line: 1, Col: 11, Msg: fields + ", found 7"}},
		{name: "trailing comment", spec: "0 0 * * * # nightly", want: SyntaxError{Line: 1, Col: 11, Msg: `unexpected "#" (comments must be on a line of their own)`}},
		{name: "step on a number", spec: "5/15 * * * *", want: SyntaxError{Line: 1, Col: 2, Msg: `unexpected "/" after 5 (a step needs a range, e.g. "*/15" or "0-30/15")`}},
		{name: "negative", spec: "-1 * * * *", want: SyntaxError{Line: 1, Col: 1, Msg: `expected a number, "*" or "H" in the minute field, found "-"`}},
		{name: "dangling comma", spec: "1, 2 * * * *", want: SyntaxError{Line: 1, Col: 3, Msg: `expected a number, "*" or "H" in the minute field, found a space`}},
		{name: "leading comma", spec: ",1 * * * *", want: SyntaxError{Line: 1, Col: 1, Msg: `expected a number, "*" or "H" in the minute field, found ","`}},
		{name: "comma at end", spec: "* * * * 1,", want: SyntaxError{Line: 1, Col: 11, Msg: `expected a number, "*" or "H" in the day-of-week field, found end of line`}},
		{name: "double range", spec: "1-2-3 * * * *", want: SyntaxError{Line: 1, Col: 4, Msg: `expected ",", a space or end of line in the minute field, found "-"`}},
		{name: "missing range end", spec: "1- * * * *", want: SyntaxError{Line: 1, Col: 3, Msg: `expected a number after "-", found a space`}},
		{name: "star range", spec: "*-5 * * * *", want: SyntaxError{Line: 1, Col: 2, Msg: `expected ",", a space or end of line in the minute field, found "-"`}},
		{name: "missing step", spec: "*/ * * * *", want: SyntaxError{Line: 1, Col: 3, Msg: `expected a number after "/", found a space`}},
		{name: "H step H", spec: "*/H * * * *", want: SyntaxError{Line: 1, Col: 3, Msg: `expected a number after "/", found "H"`}},
		{name: "no separator", spec: "** * * *", want: SyntaxError{Line: 1, Col: 2, Msg: `expected ",", a space or end of line in the minute field, found "*"`}},
		{name: "HH", spec: "HH * * * *", want: SyntaxError{Line: 1, Col: 1, Msg: `expected a number, "*" or "H" in the minute field, found "HH"`}},
		{name: "lower-case h", spec: "h * * * *", want: SyntaxError{Line: 1, Col: 1, Msg: `expected a number, "*" or "H" in the minute field, found "h" (did you mean "H"?)`}},
		{name: "day name", spec: "0 0 * * MON", want: SyntaxError{Line: 1, Col: 9, Msg: `expected a number, "*" or "H" in the day-of-week field, found "MON" (day and month names are not supported, use numbers)`}},
		{name: "month name", spec: "0 0 1 jan *", want: SyntaxError{Line: 1, Col: 7, Msg: `expected a number, "*" or "H" in the month field, found "jan" (day and month names are not supported, use numbers)`}},
		{name: "quartz question mark", spec: "0 0 ? * *", want: SyntaxError{Line: 1, Col: 5, Msg: `expected a number, "*" or "H" in the day-of-month field, found "?" (use "*" instead)`}},
		{name: "garbage character", spec: "0 0 * * 1%2", want: SyntaxError{Line: 1, Col: 10, Msg: `expected ",", a space or end of line in the day-of-week field, found "%"`}},
		{name: "non-breaking space", spec: "0 0 * * *\u00a0", want: SyntaxError{Line: 1, Col: 10, Msg: `expected ",", a space or end of line in the day-of-week field, found "\u00a0"`}},
		{name: "column counts characters", spec: "  0 0 * * é", want: SyntaxError{Line: 1, Col: 11, Msg: `expected a number, "*" or "H" in the day-of-week field, found "é"`}},
		{name: "H without range", spec: "H(1) * * * *", want: SyntaxError{Line: 1, Col: 4, Msg: `expected "-" in "H(1-…)", found ")"`}},
		{name: "H missing paren", spec: "H(1-2 * * * *", want: SyntaxError{Line: 1, Col: 6, Msg: `expected ")" after "H(1-2", found a space`}},
		{name: "H empty parens", spec: "H() * * * *", want: SyntaxError{Line: 1, Col: 3, Msg: `expected a number after "H(", found ")"`}},
		{name: "H number", spec: "H5 * * * *", want: SyntaxError{Line: 1, Col: 2, Msg: `expected ",", a space or end of line in the minute field, found "5"`}},
		{name: "parenthesised range", spec: "(1-2) * * * *", want: SyntaxError{Line: 1, Col: 1, Msg: `expected a number, "*" or "H" in the minute field, found "("`}},
		{name: "unknown alias", spec: "@often", want: SyntaxError{Line: 1, Col: 1, Msg: `unknown alias "@often" (use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)`}},
		{name: "alias is case-sensitive", spec: "@Daily", want: SyntaxError{Line: 1, Col: 1, Msg: `unknown alias "@Daily" (use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)`}},
		{name: "bare at", spec: "@", want: SyntaxError{Line: 1, Col: 2, Msg: `expected @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly after "@", found end of line`}},
		{name: "space after at", spec: "@ daily", want: SyntaxError{Line: 1, Col: 2, Msg: `expected @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly after "@", found a space`}},
		{name: "text after alias", spec: "@daily 5", want: SyntaxError{Line: 1, Col: 7, Msg: `expected end of line after "@daily", found a space`}},
		{name: "alias glued to number", spec: "@yearly5", want: SyntaxError{Line: 1, Col: 8, Msg: `expected end of line after "@yearly", found "5"`}},
		{name: "at in a field", spec: "0 @daily * * *", want: SyntaxError{Line: 1, Col: 3, Msg: `expected a number, "*" or "H" in the hour field, found "@"`}},
		{name: "error on a later line", spec: "# comment\n0 0 * * *\n\n  0 0 * * * *", want: SyntaxError{Line: 4, Col: 13, Msg: fields + ", found 6"}},
		{name: "unknown time zone", spec: "TZ=Mars/Olympus\n* * * * *", want: SyntaxError{Line: 1, Col: 4, Msg: `unknown time zone "Mars/Olympus"`}},
		{name: "empty time zone", spec: "TZ=\n* * * * *", want: SyntaxError{Line: 1, Col: 4, Msg: `missing time zone name after "TZ="`}},
		{name: "Go-only time zone name", spec: "TZ=Local\n* * * * *", want: SyntaxError{Line: 1, Col: 4, Msg: `unknown time zone "Local"`}},
		{name: "time zone padded", spec: "  TZ=Nowhere\n* * * * *", want: SyntaxError{Line: 1, Col: 6, Msg: `unknown time zone "Nowhere"`}},
		{name: "time zone not on first line", spec: "\nTZ=UTC\n* * * * *", want: SyntaxError{Line: 2, Col: 1, Msg: `expected a number, "*" or "H" in the minute field, found "TZ"`}},
		{name: "second time zone", spec: "TZ=UTC\nTZ=UTC", want: SyntaxError{Line: 2, Col: 1, Msg: `expected a number, "*" or "H" in the minute field, found "TZ"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(tt.spec)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error", tt.spec, s)
			}
			var got *SyntaxError
			if !errors.As(err, &got) {
				t.Fatalf("Parse(%q) error %v (%T) is not a *SyntaxError", tt.spec, err, err)
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("Parse(%q) error mismatch (-want +got):\n%s", tt.spec, diff)
			}
		})
	}
}

func TestParseReportsEveryLine(t *testing.T) {
	_, err := Parse("75 * * * *\n0 0 * * *\n0 0 * *")
	var got []SyntaxError
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var se *SyntaxError
		if !errors.As(e, &se) {
			t.Fatalf("error %v (%T) is not a *SyntaxError", e, e)
		}
		got = append(got, *se)
	}
	want := []SyntaxError{
		{Line: 1, Col: 1, Msg: "minute 75 is out of range 0-59"},
		{Line: 3, Col: 8, Msg: "expected 5 fields (minute hour day-of-month month day-of-week), found 4"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors mismatch (-want +got):\n%s", diff)
	}
}

func TestSyntaxErrorMessage(t *testing.T) {
	_, err := Parse("0 0 * * *\n75 * * * *")
	if got, want := err.Error(), "line 2, column 1: minute 75 is out of range 0-59"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestParseWithoutTimeZoneDatabase(t *testing.T) {
	saved := haveTZData
	t.Cleanup(func() { haveTZData = saved })
	haveTZData = func() bool { return false }

	_, err := Parse("TZ=Mars/Olympus\n* * * * *")
	var got *SyntaxError
	if !errors.As(err, &got) {
		t.Fatalf("Parse error %v (%T) is not a *SyntaxError", err, err)
	}
	want := SyntaxError{Line: 1, Col: 4, Msg: `cannot load time zone "Mars/Olympus": no time zone database on this system (install tzdata or set ZONEINFO)`}
	if diff := cmp.Diff(want, *got); diff != "" {
		t.Errorf("error mismatch (-want +got):\n%s", diff)
	}
}
