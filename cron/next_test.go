package cron

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("time zone database needed: %v", err)
	}
	return loc
}

func mustParse(t testing.TB, spec string) *Spec {
	t.Helper()
	s, err := Parse(spec)
	if err != nil {
		t.Fatalf("Parse(%q) = %v", spec, err)
	}
	return s
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestNext(t *testing.T) {
	newYork := mustLoad(t, "America/New_York")
	tokyo := mustLoad(t, "Asia/Tokyo")
	kolkata := mustLoad(t, "Asia/Kolkata")
	tests := []struct {
		name    string
		spec    string
		hashKey string
		from    time.Time
		want    time.Time // zero when the spec never fires
	}{
		{name: "every minute", spec: "* * * * *", from: utc("2026-01-01T10:00:30Z"), want: utc("2026-01-01T10:01:00Z")},
		{name: "strictly after", spec: "0 10 * * *", from: utc("2026-01-01T10:00:00Z"), want: utc("2026-01-02T10:00:00Z")},
		{name: "seconds are truncated", spec: "1 10 * * *", from: utc("2026-01-01T10:00:59.999Z"), want: utc("2026-01-01T10:01:00Z")},
		{name: "later this hour", spec: "*/15 * * * *", from: utc("2026-01-01T10:16:00Z"), want: utc("2026-01-01T10:30:00Z")},
		{name: "next hour", spec: "5 * * * *", from: utc("2026-01-01T10:05:00Z"), want: utc("2026-01-01T11:05:00Z")},
		{name: "year rollover", spec: "0 0 1 1 *", from: utc("2026-06-15T12:00:00Z"), want: utc("2027-01-01T00:00:00Z")},
		{name: "month end", spec: "0 0 31 * *", from: utc("2026-01-31T00:00:00Z"), want: utc("2026-03-31T00:00:00Z")},
		{name: "leap day", spec: "0 0 29 2 *", from: utc("2025-03-01T00:00:00Z"), want: utc("2028-02-29T00:00:00Z")},
		{name: "no leap day in 2100", spec: "0 0 29 2 *", from: utc("2096-03-01T00:00:00Z"), want: utc("2104-02-29T00:00:00Z")},
		{name: "before 1970", spec: "0 0 * * *", from: utc("1969-12-31T23:59:30Z"), want: utc("1970-01-01T00:00:00Z")},
		{name: "sunday as 7", spec: "0 12 * * 7", from: utc("2026-01-01T00:00:00Z"), want: utc("2026-01-04T12:00:00Z")},
		{name: "sunday as 0", spec: "0 12 * * 0", from: utc("2026-01-01T00:00:00Z"), want: utc("2026-01-04T12:00:00Z")},
		{name: "weekdays", spec: "0 9 * * 1-5", from: utc("2026-01-02T09:00:00Z"), want: utc("2026-01-05T09:00:00Z")},
		// Jenkins ANDs day-of-month and day-of-week: Friday the 13th, not
		// every Friday and every 13th as Vixie cron would.
		{name: "day-of-month and day-of-week both match", spec: "0 0 13 * 5", from: utc("2026-01-01T00:00:00Z"), want: utc("2026-02-13T00:00:00Z")},
		{name: "first of the month on a Monday", spec: "0 0 1 * 1", from: utc("2026-01-01T00:00:00Z"), want: utc("2026-06-01T00:00:00Z")},
		// Jenkins' own ceil() gives up after two years, but its minute
		// check still fires on such days.
		{name: "rare leap day on a Monday", spec: "0 0 29 2 1", from: utc("2026-01-01T00:00:00Z"), want: utc("2044-02-29T00:00:00Z")},
		{name: "february 30 never", spec: "0 0 30 2 *", from: utc("2026-01-01T00:00:00Z")},
		{name: "day 31 of short months never", spec: "0 0 31 4,6,9,11 *", from: utc("2026-01-01T00:00:00Z")},
		{name: "no entries never", spec: "# nothing", from: utc("2026-01-01T00:00:00Z")},
		{name: "time zone only never", spec: "TZ=UTC", from: utc("2026-01-01T00:00:00Z")},
		{name: "earliest line wins", spec: "0 12 * * *\n30 6 * * *\n0 18 * * *", from: utc("2026-01-01T07:00:00Z"), want: utc("2026-01-01T12:00:00Z")},
		{name: "line with impossible date ignored", spec: "0 0 30 2 *\n0 0 * * 0", from: utc("2026-01-01T00:00:00Z"), want: utc("2026-01-04T00:00:00Z")},

		// Location: t's, unless the spec has a TZ line.
		{name: "caller location", spec: "0 9 * * *", from: time.Date(2026, 1, 1, 10, 0, 0, 0, newYork), want: time.Date(2026, 1, 2, 9, 0, 0, 0, newYork)},
		{name: "spec time zone", spec: "TZ=Asia/Tokyo\n0 9 * * *", from: utc("2025-12-31T23:00:00Z"), want: time.Date(2026, 1, 1, 9, 0, 0, 0, tokyo)},
		{name: "spec time zone for aliases too", spec: "TZ=Asia/Tokyo\n@midnight", hashKey: "myjob", from: utc("2026-01-01T00:00:00Z"), want: time.Date(2026, 1, 2, 0, 18, 0, 0, tokyo)},
		{name: "half-hour offset", spec: "0 0 * * *", from: time.Date(2026, 1, 1, 12, 0, 0, 0, kolkata), want: time.Date(2026, 1, 2, 0, 0, 0, 0, kolkata)},
		// Daylight saving, as Jenkins' per-minute check behaves: a time in
		// the spring-forward gap is skipped, a time in the fall-back
		// overlap fires twice.
		{name: "spring forward skips the gap", spec: "TZ=America/New_York\n30 2 * * *", from: time.Date(2026, 3, 7, 3, 0, 0, 0, newYork), want: time.Date(2026, 3, 9, 2, 30, 0, 0, newYork)},
		{name: "spring forward hourly", spec: "TZ=America/New_York\n0 * * * *", from: time.Date(2026, 3, 8, 1, 0, 0, 0, newYork), want: time.Date(2026, 3, 8, 3, 0, 0, 0, newYork)},
		{name: "rare date in a zone with daylight saving", spec: "TZ=America/New_York\n0 0 29 2 1", from: utc("2026-01-01T00:00:00Z"), want: time.Date(2044, 2, 29, 0, 0, 0, 0, newYork)},
		// Beyond its transition table Go's ZoneBounds can report a zone
		// end that does not advance (the last day of 2040 here).
		{name: "end of a leap year far ahead", spec: "0 12 1 1 *", from: time.Date(2040, 12, 30, 18, 0, 0, 0, newYork), want: time.Date(2041, 1, 1, 12, 0, 0, 0, newYork)},
		{name: "fall back fires again", spec: "TZ=America/New_York\n30 1 * * *", from: utc("2026-11-01T05:30:00Z"), want: utc("2026-11-01T06:30:00Z").In(newYork)},
		{name: "fall back then next day", spec: "TZ=America/New_York\n30 1 * * *", from: utc("2026-11-01T06:30:00Z"), want: utc("2026-11-02T06:30:00Z").In(newYork)},

		// H values from Jenkins itself: CronTabList.ceil for these specs
		// and job names under OpenJDK 17, from 2026-01-01T00:00Z.
		{name: "H daily", spec: "H H * * *", hashKey: "myjob", from: utc("2026-01-01T00:00:00Z"), want: utc("2026-01-01T09:18:00Z")},
		{name: "H every 15 minutes", spec: "H/15 * * * *", hashKey: "myjob", from: utc("2026-01-01T00:00:00Z"), want: utc("2026-01-01T00:03:00Z")},
		{name: "H ranges on weekdays", spec: "H(0-29)/10 H(9-17) * * 1-5", hashKey: "myjob", from: utc("2026-01-01T00:00:00Z"), want: utc("2026-01-01T15:08:00Z")},
		{name: "@weekly", spec: "@weekly", hashKey: "myjob", from: utc("2026-01-01T00:00:00Z"), want: utc("2026-01-03T09:18:00Z")},
		{name: "@midnight", spec: "@midnight", hashKey: "myjob", from: utc("2026-01-01T00:00:00Z"), want: utc("2026-01-01T00:18:00Z")},
		{name: "H yearly", spec: "H H H H *", hashKey: "myjob", from: utc("2026-01-01T00:00:00Z"), want: utc("2026-10-21T09:18:00Z")},
		{name: "H day-of-month step", spec: "H H(0-7) H/7 * *", hashKey: "myjob", from: utc("2026-01-01T00:00:00Z"), want: utc("2026-01-07T01:18:00Z")},
		{name: "other job daily", spec: "H H * * *", hashKey: "folder/sub job", from: utc("2026-01-01T00:00:00Z"), want: utc("2026-01-01T20:25:00Z")},
		{name: "other job weekly", spec: "@weekly", hashKey: "folder/sub job", from: utc("2026-01-01T00:00:00Z"), want: utc("2026-01-06T20:25:00Z")},
		{name: "other job yearly", spec: "H H H H *", hashKey: "folder/sub job", from: utc("2026-01-01T00:00:00Z"), want: utc("2026-06-17T20:25:00Z")},
		{name: "other job two lines", spec: "H H * * *\nH H * * *", hashKey: "folder/sub job", from: utc("2026-01-01T00:00:00Z"), want: utc("2026-01-01T17:52:00Z")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustParse(t, tt.spec)
			got, ok := s.Next(tt.from, tt.hashKey)
			if ok != !tt.want.IsZero() {
				t.Fatalf("Next(%v) = %v, %v; want ok %v", tt.from, got, ok, !tt.want.IsZero())
			}
			if !ok {
				return
			}
			if !got.Equal(tt.want) || got.Location().String() != tt.want.Location().String() {
				t.Errorf("Next(%v) = %v, want %v", tt.from, got, tt.want)
			}
		})
	}
}

func TestNextSequence(t *testing.T) {
	tests := []struct {
		name string
		spec string
		from time.Time
		want []string
	}{
		{
			name: "business hours every 20 minutes",
			spec: "*/20 9-10 * * 1-5",
			from: utc("2026-01-02T10:30:00Z"), // a Friday
			want: []string{
				"2026-01-02T10:40:00Z",
				"2026-01-05T09:00:00Z",
				"2026-01-05T09:20:00Z",
				"2026-01-05T09:40:00Z",
				"2026-01-05T10:00:00Z",
				"2026-01-05T10:20:00Z",
				"2026-01-05T10:40:00Z",
				"2026-01-06T09:00:00Z",
			},
		},
		{
			name: "1st and 15th except December",
			spec: "0 0 1,15 1-11 *",
			from: utc("2026-11-10T00:00:00Z"),
			want: []string{
				"2026-11-15T00:00:00Z",
				"2027-01-01T00:00:00Z",
				"2027-01-15T00:00:00Z",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustParse(t, tt.spec)
			var got []string
			at := tt.from
			for range tt.want {
				n, ok := s.Next(at, "")
				if !ok {
					break
				}
				got = append(got, n.Format(time.RFC3339))
				at = n
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("fire times mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
