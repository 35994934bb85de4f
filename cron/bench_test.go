package cron

import (
	"testing"
	"time"
)

func BenchmarkParse(b *testing.B) {
	const spec = "TZ=Europe/London\n# nightly and business hours\nH H(0-3) * * *\nH/15 9-17 * * 1-5\n@weekly"
	for b.Loop() {
		if _, err := Parse(spec); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNext(b *testing.B) {
	benchmarks := []struct {
		name string
		spec string
	}{
		{name: "every minute", spec: "* * * * *"},
		{name: "hashed daily", spec: "H H * * *"},
		{name: "several lines in a time zone", spec: "TZ=America/New_York\nH H(0-3) * * *\nH/15 9-17 * * 1-5\n@weekly"},
		{name: "rare", spec: "0 0 29 2 1"},
		{name: "never", spec: "0 0 31 2,4,6,9,11 *"},
	}
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			s, err := Parse(bm.spec)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				s.Next(from, "folder/job")
			}
		})
	}
}
