package cron

import (
	"crypto/md5"
	"encoding/binary"
)

// jenkinsHash reproduces hudson.scheduler.Hash.from(seed): the MD5 digest of
// the UTF-8 seed, bytes 8..15 folded into 0..7 with XOR, read as a big-endian
// long that seeds a java.util.Random. Each H term draws one nextInt in parse
// order.
func jenkinsHash(seed string) *javaRandom {
	d := md5.Sum([]byte(seed))
	for i := 8; i < len(d); i++ {
		d[i%8] ^= d[i]
	}
	return newJavaRandom(int64(binary.BigEndian.Uint64(d[:8])))
}

// javaRandom is java.util.Random: a 48-bit linear congruential generator.
type javaRandom struct {
	seed int64
}

const (
	randMultiplier = 0x5DEECE66D
	randAddend     = 0xB
	randMask       = 1<<48 - 1
)

func newJavaRandom(seed int64) *javaRandom {
	return &javaRandom{seed: (seed ^ randMultiplier) & randMask}
}

// next returns the next pseudo-random value of the given number of bits,
// as Random.next(int) does.
func (r *javaRandom) next(bits uint) int32 {
	r.seed = (r.seed*randMultiplier + randAddend) & randMask
	return int32(r.seed >> (48 - bits))
}

// nextInt returns a value in [0, bound) exactly as Random.nextInt(int) does,
// including the power-of-two fast path and the rejection loop that avoids
// modulo bias. bound must be positive.
func (r *javaRandom) nextInt(bound int32) int32 {
	if bound <= 0 {
		panic("cron: nextInt bound must be positive")
	}
	v := r.next(31)
	m := bound - 1
	if bound&m == 0 {
		return int32((int64(bound) * int64(v)) >> 31)
	}
	// int32 arithmetic wraps in Go as it does in Java; u-v+m < 0 detects the
	// overflow that marks a biased draw.
	for u := v; ; u = r.next(31) {
		v = u % bound
		if u-v+m >= 0 {
			return v
		}
	}
}
