package waitgroup

import (
	"context"
	"fmt"
	"runtime"
	"time"
)

// Wait blocks until every task of g is done and every linked group is done,
// and returns their errors, or gives up when ctx is done.
//
// Wait returns nil only when there was a moment at which all tasks, Add'ed
// IDs and linked groups were done, and no task had failed. Otherwise it
// returns the errors of the tasks, g's own first, in the order they ended,
// then each linked group's, in the order of the links, joined with
// [errors.Join] so that [errors.Is] and [errors.As] find each one; a single
// error is returned as is. When a group's context was cancelled, the errors
// of its tasks that only echo that cancellation ([context.Canceled], or the
// cause, or an error that wraps either) are left out if a real error exists.
// A group keeps at most [MaxErrors] errors a round; a round ends when a Wait
// returns its errors and new work is added.
//
// If the work is done, its result is returned even when ctx is already done.
// If ctx ends first, Wait returns a [*WaitError] that matches ctx.Err(),
// names the oldest pending tasks, and carries the errors found so far; the
// work goes on, and later calls to Add, Go and Wait are still valid. Wait
// starts no goroutine: when it returns, g does nothing in the background.
//
// Any number of goroutines may Wait at once. Work added while a Wait is in
// progress, to g or to a group linked to it, is covered by that Wait if it
// is added before the moment the whole tree is done. Each Wait that returns
// a round reports its errors, so waiting for a Sub directly and then through
// its parent reports the Sub's errors twice. Links that are not groups are
// waited for once the groups are done, each once per Wait.
func (g *Group) Wait(ctx context.Context) error {
	if ctx == nil {
		panic("waitgroup: Wait with nil context")
	}
	g.init()
	if g.state.Load()&(countMask|errBit|linkBit) == 0 {
		return nil // idle, no errors, nothing linked
	}
	if chain, _ := ctx.Value(waitChainKey{}).(*waitChain); chain.has(g) {
		return fmt.Errorf("%w: %s waits for itself through a Link that is not a *Group", ErrCycle, g.label())
	}
	// Wait for the groups, then walk the tree for the errors, waiting once
	// for each Link that is not a group on the way; if those Waits let new
	// work in, wait for the groups and walk again.
	var foreign map[linkKey]error
	if g.state.Load()&linkBit != 0 {
		foreign = map[linkKey]error{}
	}
	var c collected
	for {
		round, s, ok := g.waitIdle(ctx)
		if !ok {
			return g.gaveUp(ctx)
		}
		if s&(errBit|linkBit) == 0 {
			// Done with no error and nothing linked: no round to end.
			return nil
		}
		c = g.collect(ctx, foreign, round)
		if c.gaveUp {
			return g.gaveUp(ctx)
		}
		if !c.waited || count(g.state.Load()) == 0 {
			break
		}
	}
	// The round ends now that its result goes to a caller, in each group
	// that got no new task since this Wait saw it.
	c.root.endRound()
	for _, v := range c.seen {
		v.endRound()
	}
	if len(c.real) == 0 {
		return c.noise
	}
	return join(c.real)
}

// An idler is what the Waits parked on a group wait on.
type idler struct {
	ch      chan struct{} // closed when the group's count crosses zero
	waiters int           // Waits still parked on ch; the last to give up drops it
	round   uint64        // the group's round when ch was closed
	s       uint64        // and its state
}

// waitIdle blocks until g's count is zero, which means that g and every
// group linked to it are done, and returns g's error round and state at
// that moment, or ok false if ctx ended first.
func (g *Group) waitIdle(ctx context.Context) (round, state uint64, ok bool) {
	if count(g.state.Load()) != 0 {
		// A task just started may be about to end on this very processor:
		// let it run before paying for a channel.
		runtime.Gosched()
	}
	g.mu.Lock()
	for {
		s := g.state.Load()
		if count(s) == 0 {
			round = g.roundLocked()
			g.mu.Unlock()
			return round, s, true
		}
		// The waitBit makes the crossing to zero take g.mu, so that it
		// wakes exactly the Waits parked before it.
		if s&waitBit != 0 || g.state.CompareAndSwap(s, s|waitBit) {
			break
		}
	}
	if g.idle == nil {
		g.idle = &idler{ch: make(chan struct{})}
	}
	w := g.idle
	w.waiters++
	g.mu.Unlock()
	if g.reportsWaits() { // StillWaitingAfter (events.go)
		if g.parkReporting(ctx, w.ch) {
			return w.round, w.s, true
		}
	} else {
		select {
		case <-w.ch:
			return w.round, w.s, true
		case <-ctx.Done():
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-w.ch:
		return w.round, w.s, true // done at the same time: the result wins
	default:
	}
	w.waiters--
	if w.waiters == 0 && g.idle == w {
		// Nobody waits any more: drop the channel, so that a group keeps
		// no state of a Wait that gave up (and a channel made in a
		// synctest bubble does not outlive the bubble's Waits).
		g.idle = nil
		g.state.And(^uint64(waitBit))
	}
	return 0, 0, false
}

// wakeLocked closes the channel of the parked Waits; the caller holds g.mu
// and has seen g's count at zero.
func (g *Group) wakeLocked() {
	g.idle.round = g.roundLocked()
	g.idle.s = g.state.Load()
	close(g.idle.ch)
	g.idle = nil
	g.state.And(^uint64(waitBit))
}

func (g *Group) currentRound() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.roundLocked()
}

// gaveUp builds the error of a Wait whose ctx ended before the work. It
// describes only the tasks it lists, so its cost does not grow with the
// number pending, and holds each lock for one group's share at most.
func (g *Group) gaveUp(ctx context.Context) error {
	pending, total := g.OldestPending(MaxListed)
	we := &WaitError{
		Err:     ctx.Err(),
		Cause:   context.Cause(ctx),
		Total:   total,
		At:      time.Now(),
		Pending: pending,
	}
	if c := g.collect(ctx, nil, g.currentRound()); len(c.real) > 0 {
		we.Errs = join(c.real)
	}
	return we
}
