package waitgroup

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
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
	// Wait for the groups, then once for each Link that is not a group,
	// then for the groups again if those Waits let new work in.
	var foreign map[linkKey]error
	var round uint64
	for {
		var ok bool
		if round, ok = g.waitIdle(ctx); !ok {
			return g.gaveUp(ctx)
		}
		if foreign != nil || g.state.Load()&linkBit == 0 {
			break
		}
		foreign = map[linkKey]error{}
		if !g.waitForeign(ctx, foreign) {
			return g.gaveUp(ctx)
		}
		if count(g.state.Load()) == 0 {
			break
		}
	}
	c := g.collect(ctx, foreign, round)
	// The round ends now that its result goes to a caller, in each group
	// that got no new task since this Wait saw it.
	for _, v := range c.seen {
		v.g.endRound(v.s, v.g != g)
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
}

// waitIdle blocks until g's count is zero, which means that g and every
// group linked to it are done, and returns g's error round at that moment,
// or ok false if ctx ended first.
func (g *Group) waitIdle(ctx context.Context) (round uint64, ok bool) {
	g.mu.Lock()
	for {
		s := g.state.Load()
		if count(s) == 0 {
			round = g.round
			g.mu.Unlock()
			return round, true
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
			return w.round, true
		}
	} else {
		select {
		case <-w.ch:
			return w.round, true
		case <-ctx.Done():
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-w.ch:
		return w.round, true // done at the same time: the result wins
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
	return 0, false
}

// wake closes the channel of the parked Waits; the caller holds g.mu and
// has seen g's count at zero.
func (g *Group) wakeLocked() {
	g.idle.round = g.round
	close(g.idle.ch)
	g.idle = nil
	g.state.And(^uint64(waitBit))
}

// collected is what a walk of a tree of groups found.
type collected struct {
	real  []error // real errors: each group's own, then its links', in order
	noise error   // the first echo of a cancellation
	seen  []seenGroup
}

// A linkKey names a link by the group that made it and its position.
type linkKey struct {
	g     *Group
	order uint64
}

type seenGroup struct {
	g *Group
	s uint64 // its state when its errors were read
}

// A step of a walk: a group, or a Link that is not one, with its parent.
type step struct {
	g      *Group
	l      Link
	parent *Group
	order  uint64
	dep    *errorList // the reported errors a freed Sub left with its parent
}

// waitForeign waits, in link order, for each Link that is not a group in
// the tree of g, and stores what each returned in results. It reports false
// if ctx ended first.
func (g *Group) waitForeign(ctx context.Context, results map[linkKey]error) bool {
	ok := true
	chain, _ := ctx.Value(waitChainKey{}).(*waitChain)
	g.eachGroup(func(x *Group, st step, _ *walk) walkAction {
		if x != nil {
			if x != g && chain.has(x) {
				return walkSkip // collect reports the cycle
			}
			return walkOn
		}
		err := st.l.Wait(st.parent.chainContext(ctx))
		if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			ok = false
			return walkStop
		}
		results[linkKey{st.parent, st.order}] = err
		return walkOn
	})
	return ok
}

// collect walks g and the groups linked to it, depth first in link order,
// each once, and takes their errors, with those that foreign gives for the
// Links that are not groups. round is g's error round when the tree was
// seen done: if another Wait reported it and new work started the next
// meanwhile, that round's errors are still the ones to report. It holds one
// group's lock at a time, and no recursion limits the depth.
func (g *Group) collect(ctx context.Context, foreign map[linkKey]error, round uint64) collected {
	var c collected
	var seen map[*Group]bool
	chain, _ := ctx.Value(waitChainKey{}).(*waitChain)
	stack := []step{{g: g}}
	for len(stack) > 0 {
		st := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if st.dep != nil {
			c.real = st.dep.appendReal(c.real)
			c.noise = cmp.Or(c.noise, st.dep.noise)
			continue
		}
		if st.g == nil {
			switch err := foreign[linkKey{st.parent, st.order}]; {
			case err == nil:
			case isEcho(err, &st.parent.c):
				c.noise = cmp.Or(c.noise, err)
			default:
				c.real = append(c.real, err)
			}
			continue
		}
		x := st.g
		if seen[x] {
			continue // a diamond: its errors are taken once
		}
		if x != g && chain.has(x) {
			c.real = append(c.real, fmt.Errorf("%w: %s waits for itself through a Link that is not a *Group", ErrCycle, x.label()))
			continue
		}
		x.mu.Lock()
		s := x.state.Load()
		c.seen = append(c.seen, seenGroup{x, s})
		errs := &x.errs
		if x == g && x.round != round {
			errs = &x.prevErrs
		}
		c.real = errs.appendReal(c.real)
		c.noise = cmp.Or(c.noise, errs.noise)
		n := len(stack)
		stack = x.appendLinksLocked(stack)
		x.mu.Unlock()
		if len(stack) > n && seen == nil {
			seen = map[*Group]bool{}
		}
		if seen != nil {
			seen[x] = true
		}
		slices.Reverse(stack[n:]) // the first link is taken first
	}
	return c
}

// appendLinksLocked appends what g links, its links and its attached Subs,
// in the order they were made.
func (g *Group) appendLinksLocked(stack []step) []step {
	if len(g.subs) == 0 && len(g.deposits) == 0 {
		for _, l := range g.links {
			stack = append(stack, step{g: l.g, l: l.l, parent: g, order: l.order})
		}
		return stack
	}
	n := len(stack)
	for _, l := range g.links {
		stack = append(stack, step{g: l.g, l: l.l, parent: g, order: l.order})
	}
	for s, order := range g.subs {
		stack = append(stack, step{g: s, l: s, parent: g, order: order})
	}
	for order, dep := range g.deposits {
		stack = append(stack, step{parent: g, order: order, dep: dep})
	}
	slices.SortFunc(stack[n:], func(a, b step) int { return cmp.Compare(a.order, b.order) })
	return stack
}

// A waitChain lists the groups whose Wait is calling a Link that is not a
// *Group, so that such a Link leading back to one of them (a cycle Link
// cannot see) ends in an error rather than in endless recursion.
type waitChain struct {
	g    *Group
	next *waitChain
}

type waitChainKey struct{}

func (c *waitChain) has(g *Group) bool {
	for ; c != nil; c = c.next {
		if c.g == g {
			return true
		}
	}
	return false
}

// chainContext returns ctx with g added to its wait chain.
func (g *Group) chainContext(ctx context.Context) context.Context {
	chain, _ := ctx.Value(waitChainKey{}).(*waitChain)
	return context.WithValue(ctx, waitChainKey{}, &waitChain{g, chain})
}

func (g *Group) currentRound() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.round
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
