package waitgroup

// The pending count of a group lives in one atomic word, as in
// sync.WaitGroup, so that starting and ending a task takes no lock. A group
// counts its own pending tasks and IDs plus one for each linked *Group that
// is busy; "g and everything it links are done" is then the single
// condition "g's count is 0", which Wait waits for once.
//
// A group tells its parents when it turns busy or idle. That crossing, and
// the wake-up of Waits, are the only steps that take the group's mutex, and
// only when they matter: when the group has parents, a Wait is parked, or a
// reported round must be cleared. Everything else is a compare-and-swap.
//
// Layout of state, from the low bits:
//
//	bit 0      waitBit: a Wait is parked on g.idle (set and cleared under g.mu)
//	bit 1      slowBit: g has parents; crossings go through g.mu
//	bit 2      reportedBit: a Wait reported the round; the next task clears it
//	bit 3      errBit: the round has errors
//	bit 4      linkBit: g links other groups or has Subs
//	bit 5      shareBit: g has more than one parent, so a walk may meet it twice
//	bits 6-37  the pending count
//	bits 38-63 gen, the number of tasks ever added (wraps), so that a Wait can
//	           tell whether work came after it saw the group done
const (
	waitBit     = 1 << 0
	slowBit     = 1 << 1
	reportedBit = 1 << 2
	errBit      = 1 << 3
	linkBit     = 1 << 4
	shareBit    = 1 << 5
	countShift  = 6
	countUnit   = 1 << countShift
	countMask   = (1<<32 - 1) << countShift
	genShift    = 38
	genUnit     = 1 << genShift
	minusCount  = ^uint64(countUnit - 1) // adds -1 to the count
)

func count(s uint64) uint64 { return (s & countMask) >> countShift }

func gen(s uint64) uint64 { return s >> genShift }

// begin counts one new pending task or ID of g itself and returns the new
// state.
func (g *Group) begin() uint64 {
	for {
		s := g.state.Load()
		// The first task after a reported round clears it, even when the
		// count is not zero: a busy linked group counts in it.
		if s&reportedBit != 0 || (count(s) == 0 && s&slowBit != 0) {
			return g.cross(countUnit + genUnit)
		}
		if g.state.CompareAndSwap(s, s+countUnit+genUnit) {
			return s + countUnit + genUnit
		}
	}
}

// end counts one pending task or ID of g as done.
func (g *Group) end() {
	for {
		s := g.state.Load()
		if count(s) == 1 && s&(slowBit|waitBit) != 0 {
			g.cross(minusCount)
			return
		}
		if g.state.CompareAndSwap(s, s-countUnit) {
			return
		}
	}
}

// cross applies delta to the state of g under g.mu, as a crossing of zero
// needs, then settles g and the ancestors whose own count crossed zero.
func (g *Group) cross(delta uint64) uint64 {
	g.mu.Lock()
	s := g.state.Add(delta)
	if delta&genUnit != 0 {
		g.newRoundLocked()
	}
	next := g.settleLocked(nil)
	g.mu.Unlock()
	settleAll(next)
	return s
}

// settleAll settles the groups in work, and those their settling adds, one
// at a time: a crossing climbs a chain of any depth with no recursion and
// no lock held across levels.
func settleAll(work []*Group) {
	for len(work) > 0 {
		p := work[len(work)-1]
		work = work[:len(work)-1]
		p.mu.Lock()
		work = p.settleLocked(work)
		p.mu.Unlock()
	}
}

// settleLocked makes what g's parents know of it agree with its count: a
// parent counts g once while g is busy. It wakes g's parked Waits if g is
// idle, and returns work with the parents whose own count crossed zero.
//
// Settling is idempotent and reads the count as it is now, so settles of
// the same group may run in any order; each change of a parent's count is
// made under g.mu, so a parent never sees g's -1 before its +1.
func (g *Group) settleLocked(work []*Group) []*Group {
	s := g.state.Load()
	busy := count(s) > 0
	if !busy && s&waitBit != 0 {
		g.wakeLocked()
	}
	x := g.x
	if x == nil || busy == x.notified {
		return work // no parents to tell (they are in x), or told already
	}
	x.notified = busy
	for _, p := range x.parents {
		if busy {
			if count(p.state.Add(countUnit)) == 1 {
				work = append(work, p)
			}
			continue
		}
		if p.adjustDown() {
			work = append(work, p)
		}
	}
	g.attachLocked(busy)
	return work
}

// adjustDown takes one busy child off p's count and reports whether p
// turned idle. A crossing to zero with a parked Wait is made under p.mu
// (the caller holds the child's mutex: the lock order is child, then
// parent), so that it wakes exactly the Waits parked before it.
func (p *Group) adjustDown() bool {
	for {
		s := p.state.Load()
		if count(s) == 1 && s&waitBit != 0 {
			p.mu.Lock()
			s = p.state.Add(minusCount)
			if count(s) == 0 && s&waitBit != 0 {
				p.wakeLocked()
			}
			p.mu.Unlock()
			return count(s) == 0
		}
		if p.state.CompareAndSwap(s, s-countUnit) {
			return count(s) == 1
		}
	}
}

// newRoundLocked starts a new error round if a Wait reported the last one:
// the first task of g added after that report is the first of the new
// round.
func (g *Group) newRoundLocked() {
	if g.state.Load()&reportedBit == 0 {
		return
	}
	g.state.And(^uint64(reportedBit | errBit))
	// A Wait that saw the old round done may not have read it yet: keep it
	// for that Wait until the next round starts. (The bit was set with
	// errors, so x exists.)
	x := g.x
	x.prevErrs = x.errs
	x.errs = errorList{}
	x.round++
	if x.deposited {
		x.deposited = false
		p := x.subOf
		p.mu.Lock()
		p.dropDepositsLocked(x.subOrder)
		p.mu.Unlock()
	}
}

// endRound marks the round of a group a Wait returned as reported, unless
// a task was added to it since its state was seen as v.s: that task's
// errors belong to the round and are yet to be reported. The errors its
// dropped Subs left with it that the Wait saw are marked as reported too.
func (v seenGroup) endRound() {
	g := v.g
	if g.state.Load()&(errBit|linkBit) == 0 {
		return // nothing to clear: the next task need not take the lock
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	x := g.x
	if x == nil {
		return // neither errors nor links yet: the bits were just set
	}
	for i := range x.deposits {
		if x.deposits[i].id < v.depNext {
			x.deposits[i].reported = true
		}
	}
	if gen(g.state.Load()) != gen(v.s) || x.errs.empty() {
		return
	}
	g.state.Or(reportedBit)
	if count(g.state.Load()) == 0 {
		g.attachLocked(false)
	}
}
