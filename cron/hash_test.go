package cron

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The expected values below were produced by OpenJDK 17 with a throwaway
// program that repeats hudson.scheduler.Hash.from(seed) (MD5 of the UTF-8
// seed, bytes 8..15 XOR-folded into 0..7, read big-endian into a long that
// seeds java.util.Random) and prints nextInt for each bound in order.
// 1073741825 = 2^30+1 makes Random.nextInt reject about half of its draws,
// so the rejection loop is exercised; powers of two take the fast path.
func TestJenkinsHash(t *testing.T) {
	bounds := []int32{60, 24, 28, 12, 7, 1, 2, 3, 5, 10, 16, 32, 64, 100, 1000, 2147483647, 1073741825, 1073741825, 1073741825}
	tests := []struct {
		seed  string
		long  int64
		draws []int32
	}{
		{seed: "myjob", long: -21011449083435153, draws: []int32{18, 9, 20, 9, 4, 0, 1, 2, 1, 2, 6, 9, 56, 37, 348, 461606569, 854996182, 182472491, 781055825}},
		{seed: "folder/sub job", long: 5170924781627599874, draws: []int32{25, 20, 16, 5, 6, 0, 0, 0, 0, 6, 1, 24, 34, 76, 245, 1808205763, 986386854, 974843540, 576842789}},
		{seed: "", long: 4439851323553804410, draws: []int32{57, 11, 24, 4, 5, 0, 1, 0, 1, 2, 5, 20, 57, 70, 44, 358682457, 383479046, 667437818, 1059802097}},
		{seed: "日本語/ジョブ", long: 1211190329697792842, draws: []int32{39, 4, 12, 7, 5, 0, 1, 0, 0, 0, 1, 17, 19, 99, 910, 1963922867, 1015939715, 44724464, 304352453}},
		{seed: "a", long: 4396336064697372873, draws: []int32{37, 5, 4, 2, 2, 0, 0, 0, 2, 4, 15, 17, 50, 9, 293, 1232657827, 532820971, 630314337, 388967432}},
	}
	for _, tt := range tests {
		t.Run(tt.seed, func(t *testing.T) {
			if got, want := jenkinsHash(tt.seed).seed, newJavaRandom(tt.long).seed; got != want {
				t.Errorf("jenkinsHash(%q) seeds Random with scrambled %#x, want %#x (from long %d)", tt.seed, got, want, tt.long)
			}
			rnd := jenkinsHash(tt.seed)
			var got []int32
			for _, b := range bounds {
				got = append(got, rnd.nextInt(b))
			}
			if diff := cmp.Diff(tt.draws, got); diff != "" {
				t.Errorf("draws for %q mismatch (-want +got):\n%s", tt.seed, diff)
			}
		})
	}
}

// TestJavaRandom checks java.util.Random directly; expected values from
// OpenJDK 17 (new Random(42) and new Random(-1)).
func TestJavaRandom(t *testing.T) {
	tests := []struct {
		name   string
		seed   int64
		bounds []int32
		want   []int32
	}{
		{
			name:   "seed 42",
			seed:   42,
			bounds: []int32{1073741825, 8, 100, 1073741825, 8, 100, 1073741825, 8, 100, 1073741825, 8, 100, 1073741825, 8, 100},
			want:   []int32{117392763, 5, 84, 662969970, 7, 5, 196118093, 7, 2, 791955276, 3, 76, 995688456, 6, 43},
		},
		{
			name:   "negative seed",
			seed:   -1,
			bounds: []int32{7, 1 << 30, 2147483647},
			want:   []int32{3, 471976112, 26349579},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newJavaRandom(tt.seed)
			var got []int32
			for _, b := range tt.bounds {
				got = append(got, r.nextInt(b))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("nextInt mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
