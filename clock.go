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

type reading struct {
	ticks uint64
	mono  time.Duration // since procEpoch
}

var lastReading atomic.Pointer[reading]

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
	t := cputicks()
	if r := lastReading.Load(); r != nil && t-r.ticks < freshTicks {
		return r.mono - g.epochOff
	}
	m := time.Since(procEpoch)
	lastReading.Store(&reading{ticks: t, mono: m})
	return m - g.epochOff
}
