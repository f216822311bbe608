package waitgroup

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"
)

// A Link is anything a Group can wait for after its own tasks: another
// [*Group], or any type with a Wait method of this form. Wait must return
// once ctx is done.
type Link interface {
	Wait(ctx context.Context) error
}

// linkMu serializes Link calls between Groups, so that two concurrent calls
// cannot each miss the cycle the other one closes.
var linkMu sync.Mutex

// Link makes g's Wait also wait for other, after g's own tasks; links are
// waited for one after the other, in the order they were added, with the
// context passed to Wait. Errors of linked groups are reported with g's own.
//
// Link panics if other is nil, is a nil *Group, is g, or is a *Group from
// which g can be reached through links: such a Wait could never return.
// (A cycle through a Link that is not a *Group cannot be seen; it makes Wait
// wait until its context ends.) Linking a value already linked (the same
// *Group, or an equal Link) does nothing. Links are never removed, so link
// the parts of a service, not each request: track requests as tasks.
func (g *Group) Link(other Link) {
	if other == nil {
		panic("waitgroup: Link(nil)")
	}
	og, isGroup := other.(*Group)
	if isGroup && og == nil {
		panic("waitgroup: Link with a nil *Group")
	}
	if isGroup {
		if og == g {
			panic("waitgroup: Link of a group to itself")
		}
		linkMu.Lock()
		defer linkMu.Unlock()
		if og.reaches(g, map[*Group]bool{}) {
			panic(fmt.Sprintf("waitgroup: Link would make a cycle: group %s already waits for group %s", og.label(), g.label()))
		}
	}
	g.lock()
	defer g.mu.Unlock()
	for _, l := range g.links {
		if sameLink(l, other) {
			return
		}
	}
	g.links = append(g.links, other)
}

// reaches reports whether target is g or is linked from g, directly or not.
// The caller holds linkMu, so the link graph cannot change meanwhile; seen
// keeps a graph with shared subtrees linear to walk.
func (g *Group) reaches(target *Group, seen map[*Group]bool) bool {
	if g == target {
		return true
	}
	seen[g] = true
	for _, l := range g.linkSnapshot() {
		if lg, ok := l.(*Group); ok && !seen[lg] && lg.reaches(target, seen) {
			return true
		}
	}
	return false
}

func (g *Group) linkSnapshot() []Link {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.links[:len(g.links):len(g.links)]
}

func (g *Group) label() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.name != "" {
		return fmt.Sprintf("%q", g.name)
	}
	return fmt.Sprintf("%p", g)
}

// sameLink reports whether a and b are the same link, without the panic that
// == causes on uncomparable dynamic types.
func sameLink(a, b Link) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.Type() != vb.Type() || !va.Comparable() || !vb.Comparable() {
		return false
	}
	return a == b
}

// Sub returns a new group whose context derives from g's, linked to g so
// that g's Wait also waits for it. Use it for work that must be drained as a
// unit, such as the connections of a listener. Like any link it stays linked
// for g's life.
func (g *Group) Sub(opts ...Option) *Group {
	s := WithContext(g.Context(), opts...)
	g.Link(s)
	return s
}

// Wait blocks until every task of g is done, then waits for every linked
// group in order, and returns their errors (see below) or gives up when ctx
// is done.
//
// Wait returns nil only when all tasks, Add'ed IDs and linked groups are
// done. Otherwise it returns the errors of the tasks and of the linked
// groups, joined with [errors.Join] in the order they happened (own tasks
// first), so that [errors.Is] and [errors.As] find each one; a single error
// is returned as is. When g's context was cancelled, errors that only echo
// that cancellation ([context.Canceled] or the cause itself) are left out if
// a real error exists. A round's errors are kept, at most [MaxErrors] of
// them, until a Wait has returned them and new work is added.
//
// If the work is done, its result is returned even when ctx is already done.
// If ctx ends first, Wait returns a [*WaitError] that matches ctx.Err() and
// names every pending task; the work goes on, and later calls to Add, Go and
// Wait are still valid. Wait starts no goroutine: when it returns, g does
// nothing in the background.
//
// Any number of goroutines may Wait at once; work added while a Wait is in
// progress is covered by that Wait. Each Wait that finds the work done
// reports the round's errors, so waiting for a Sub directly and then through
// its parent reports the Sub's errors twice.
func (g *Group) Wait(ctx context.Context) error {
	if ctx == nil {
		panic("waitgroup: Wait with nil context")
	}
	for {
		// Wait for g's own tasks, then for the links added so far. If new
		// work or links came meanwhile, go round again.
		seq, nlinks, ok := g.waitIdle(ctx)
		if !ok {
			return g.gaveUp(ctx)
		}
		links := g.linkSnapshot()[:nlinks]
		var linkErrs []error
		for _, l := range links {
			err := l.Wait(ctx)
			if err == nil {
				continue
			}
			if isGiveUp(err, ctx) {
				return g.gaveUp(ctx)
			}
			linkErrs = append(linkErrs, err)
		}
		g.mu.Lock()
		if g.pending == 0 && g.tasks.seq == seq && len(g.links) == nlinks {
			g.reported = true
			err := g.resultLocked(linkErrs)
			g.mu.Unlock()
			return err
		}
		g.mu.Unlock()
	}
}

// isGiveUp reports whether err, from a link's Wait, means that the link gave
// up because ctx is done, rather than that its work failed.
func isGiveUp(err error, ctx context.Context) bool {
	var we *WaitError
	if errors.As(err, &we) {
		return true
	}
	return ctx.Err() != nil && errors.Is(err, ctx.Err())
}

// waitIdle blocks until g has no pending task and returns the task sequence
// and link count seen then, or ok false if ctx ended first.
func (g *Group) waitIdle(ctx context.Context) (seq uint64, nlinks int, ok bool) {
	g.lock()
	defer g.mu.Unlock()
	for g.pending > 0 {
		if g.idle == nil {
			g.idle = make(chan struct{})
		}
		idle := g.idle
		g.waiters++
		g.mu.Unlock()
		select {
		case <-idle:
		case <-ctx.Done():
		}
		g.mu.Lock()
		g.waiters--
		if g.pending > 0 && ctx.Err() != nil {
			if g.waiters == 0 && g.idle == idle {
				// Nobody waits any more: drop the channel, so that a group
				// keeps no state of a Wait that gave up (and a channel made
				// in a synctest bubble does not outlive the bubble's Waits).
				g.idle = nil
			}
			return 0, 0, false
		}
	}
	return g.tasks.seq, len(g.links), true
}

// resultLocked is the result of a Wait that saw all work done: the round's
// errors with the real errors of the links after them.
func (g *Group) resultLocked(linkErrs []error) error {
	var real []error
	var echo error
	for _, lerr := range linkErrs {
		// A linked group's result is usually a join; judge each error in it.
		parts := []error{lerr}
		if j, ok := lerr.(interface{ Unwrap() []error }); ok {
			parts = j.Unwrap()
		}
		for _, err := range parts {
			if isEcho(err, g.ctx) {
				echo = cmp.Or(echo, err)
				continue
			}
			real = append(real, err)
		}
	}
	if err := g.errs.result(real); err != nil {
		return err
	}
	return echo
}

// gaveUp builds the error of a Wait whose ctx ended before the work.
func (g *Group) gaveUp(ctx context.Context) error {
	pending := g.Pending()
	slices.SortStableFunc(pending, func(a, b TaskInfo) int { return a.Since.Compare(b.Since) })
	we := &WaitError{
		Err:   ctx.Err(),
		Cause: context.Cause(ctx),
		Total: len(pending),
		At:    time.Now(),
	}
	we.Pending = slices.Clip(pending[:min(len(pending), MaxListed)])
	g.mu.Lock()
	if len(g.errs.errs) > 0 { // echoes of a cancellation are no news here
		we.Errs = g.errs.result(nil)
	}
	g.mu.Unlock()
	return we
}

// Pending returns a snapshot of the tasks of g, and of the groups linked to
// it, that are not done, g's own first, each group's in the order they were
// added. Links that are not *Group are included if they have a method
// Pending() []TaskInfo.
func (g *Group) Pending() []TaskInfo {
	g.lock()
	out := g.pendingLocked(nil)
	links := g.links[:len(g.links):len(g.links)]
	g.mu.Unlock()
	for _, l := range links {
		if p, ok := l.(interface{ Pending() []TaskInfo }); ok {
			out = append(out, p.Pending()...)
		}
	}
	return out
}

func (g *Group) pendingLocked(out []TaskInfo) []TaskInfo {
	start := len(out)
	g.tasks.all(func(idx uint32, t *task) {
		info := TaskInfo{
			ID:    ID{g: g, seq: t.seq, idx: idx},
			Name:  t.name,
			Group: g.name,
			Since: g.epoch.Add(t.since),
		}
		if t.kind() == kindGo {
			info.Where = describeFunc(t.pc)
		} else if t.pc != 0 {
			info.Where = describeCaller(t.pc)
		}
		out = append(out, info)
	})
	slices.SortFunc(out[start:], func(a, b TaskInfo) int { return cmp.Compare(a.ID.seq, b.ID.seq) })
	return out
}
