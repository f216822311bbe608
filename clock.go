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
// bubble's fake clock jumps while the counter does not move. Its start times
// are the fake clock's, in the year 2000: before procEpoch, so negative.
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

// initClockLocked decides how g reads the clock; the caller is g's init.
// One reading tells a bubble: there time.Since reads the fake clock, which
// is before procEpoch.
func (g *Group) initClockLocked() {
	if !haveTicks || time.Since(procEpoch) < 0 {
		g.flags.Or(exactClockFlag)
	}
}

// now returns the time since procEpoch, the start time of a new task.
func (g *Group) now() time.Duration {
	if g.flags.Load()&exactClockFlag != 0 {
		return time.Since(procEpoch)
	}
	r := &lastReading
	t := cputicks()
	if s := r.seq.Load(); s&1 == 0 && s != 0 {
		ticks, mono := r.ticks.Load(), r.mono.Load()
		if r.seq.Load() == s && t-ticks < freshTicks {
			return time.Duration(mono)
		}
	}
	m := time.Since(procEpoch)
	if s := r.seq.Load(); s&1 == 0 && r.seq.CompareAndSwap(s, s+1) {
		r.ticks.Store(t)
		r.mono.Store(int64(m))
		r.seq.Store(s + 2)
	}
	return m
}

// procWall is procEpoch without its monotonic reading, the origin of the
// times of a group that reads the fake clock of a bubble.
var procWall = procEpoch.Round(0)

// startTime turns d, a start time from g.now, into a time.Time.
func (g *Group) startTime(d time.Duration) time.Time {
	if g.flags.Load()&exactClockFlag != 0 {
		return procWall.Add(d)
	}
	return procEpoch.Add(d)
}
