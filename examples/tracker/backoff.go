package main

import (
	"math/rand/v2"
	"time"
)

// backoff is the pause before the k-th retry of a failed write: base
// doubled k-1 times, at most max, plus a random part of up to half that,
// so that writers sharing a disk do not retry in step. A retry never comes
// sooner than the doubled base.
type backoff struct {
	base, max time.Duration
	rng       *rand.Rand
}

func newBackoff(base, maxDelay time.Duration, seed uint64) backoff {
	if base <= 0 {
		base = 10 * time.Millisecond
	}
	if maxDelay <= 0 {
		maxDelay = time.Second
	}
	return backoff{base: base, max: max(maxDelay, base), rng: rand.New(rand.NewPCG(seed, 0x6261636b6f6666))}
}

func (b backoff) delay(k int) time.Duration {
	d := b.max
	if k <= 30 && b.base<<(k-1) < b.max {
		d = b.base << (k - 1)
	}
	return d + time.Duration(b.rng.Int64N(int64(d)/2+1))
}
