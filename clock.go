package waitgroup

import (
	"sync/atomic"
	"time"
)

// Every task records when it started, for the age a stuck-task report
// gives. Reading the monotonic clock costs about as much as the rest of an
// Add and Done together, so on amd64 a task takes the last reading of any
// group if the time-stamp counter says it is fresh: less than freshTicks
// old, under a millisecond at any clock rate from 1 GHz. Ages are reported
// in milliseconds, so nothing a person reads changes.
//
// A group made in a testing/synctest bubble reads the clock every time: the
// bubble's fake clock jumps while the counter does not move. Its epoch is
// the fake clock's, in the year 2000, before procEpoch.
const freshTicks = 1 << 20

// procEpoch is the origin of the shared readings.
var procEpoch = time.Now()

// The last reading, under a sequence lock: seq is odd while a writer
// stores, and a reader that sees it change reads the clock itself. Its
// writers take turns with a compare-and-swap and never wait.
var lastReading struct {
	seq   atomic.Uint64
	ticks atomic.Uint64
	mono  atomic.Int64 // since procEpoch
}

// initClockLocked sets g's epoch; the caller is g's init.
func (g *Group) initClockLocked() {
	g.epoch = time.Now()
	g.epochOff = g.epoch.Sub(procEpoch)
	g.exactClock = !haveTicks || g.epoch.Before(procEpoch)
}

// now returns the time since g's epoch, the start time of a new task.
func (g *Group) now() time.Duration {
	if g.exactClock {
		return time.Since(g.epoch)
	}
	r := &lastReading
	t := cputicks()
	if s := r.seq.Load(); s&1 == 0 && s != 0 {
		ticks, mono := r.ticks.Load(), r.mono.Load()
		if r.seq.Load() == s && t-ticks < freshTicks {
			return time.Duration(mono) - g.epochOff
		}
	}
	m := time.Since(procEpoch)
	if s := r.seq.Load(); s&1 == 0 && r.seq.CompareAndSwap(s, s+1) {
		r.ticks.Store(t)
		r.mono.Store(int64(m))
		r.seq.Store(s + 2)
	}
	return m - g.epochOff
}
