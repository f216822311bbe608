package waitgroup

import (
	"context"
	"fmt"
	"reflect"
	"sync"
)

// A Link is anything a Group can wait for after its own tasks: another
// [*Group], or any type with a Wait method of this form. Wait must return
// once ctx is done.
type Link interface {
	Wait(ctx context.Context) error
}

// linkMu serializes Link calls between Groups, so that two concurrent calls
// cannot each miss the cycle the other one closes. Sub cannot close a cycle
// and does not take it.
var linkMu sync.Mutex

// embedsGroup is implemented, through the promoted method, by any type that
// embeds *Group: such a value is linked as its group, so that cycles through
// it are seen at Link rather than recursing at Wait.
type embedsGroup interface {
	waitgroupGroup() *Group
}

func (g *Group) waitgroupGroup() *Group { return g }

// Link makes g's Wait also wait for other; errors of linked groups are
// reported after g's own, in the order of the links. A *Group, or a value
// that embeds one (which is then linked as that group, its own Wait method
// unused), counts as busy in g while it has pending work, so Wait waits for
// the whole tree at once. Other Links are waited for one after the other,
// once the groups are done, with the context passed to Wait.
//
// Link panics if other is nil, is a nil *Group, is g, or is a group from
// which g can be reached through links: such a Wait could never return.
// (A cycle through a Link that is not a group cannot be seen here; if that
// Link passes on the context it is given, Wait finds it and reports an error
// matching [ErrCycle].) Linking a value already linked (the same group, or
// an equal Link) does nothing. Links made with Link are never removed, so
// link the parts of a service, not each request: track requests as tasks,
// or give them Subs.
func (g *Group) Link(other Link) {
	if other == nil {
		panic("waitgroup: Link(nil)")
	}
	var og *Group
	if e, ok := other.(embedsGroup); ok {
		if v := reflect.ValueOf(other); v.Kind() == reflect.Pointer && v.IsNil() {
			panic("waitgroup: Link with a nil *Group")
		}
		og = e.waitgroupGroup()
		if og == nil {
			panic(fmt.Sprintf("waitgroup: Link with a %T that embeds a nil *Group", other))
		}
		other = og
	}
	g.init()
	if og == nil {
		g.mu.Lock()
		defer g.mu.Unlock()
		if reflect.ValueOf(other).Comparable() {
			if _, dup := g.extraLocked().linked[other]; dup {
				return
			}
			g.markLinkedLocked(other)
		}
		g.addLinkLocked(link{l: other})
		return
	}
	if og == g {
		panic("waitgroup: Link of a group to itself")
	}
	og.init()
	linkMu.Lock()
	defer linkMu.Unlock()
	// A cycle needs a path from og down to g: og must link something.
	if og.state.Load()&linkBit != 0 && g.hasAncestor(og) {
		panic(fmt.Sprintf("waitgroup: Link would make a cycle: %s already waits for %s", og.label(), g.label()))
	}
	g.mu.Lock()
	if _, dup := g.extraLocked().linked[og]; dup {
		g.mu.Unlock()
		return
	}
	g.markLinkedLocked(og)
	g.addLinkLocked(link{l: og, g: og})
	g.mu.Unlock()

	og.mu.Lock()
	x := og.extraLocked()
	x.parents = append(x.parents, g)
	if len(x.parents) > 1 {
		og.state.Or(slowBit | shareBit)
	} else {
		og.state.Or(slowBit)
	}
	// From here on og's crossings take og.mu. If og is busy, g counts it:
	// at once if og's other parents do already, else by settling og, which
	// tells them all.
	var work []*Group
	if !x.notified {
		work = og.settleLocked(work)
	} else if count(g.state.Add(countUnit)) == 1 {
		work = append(work, g)
	}
	og.mu.Unlock()
	settleAll(work)
}

func (g *Group) markLinkedLocked(l Link) {
	x := g.extraLocked()
	if x.linked == nil {
		x.linked = make(map[Link]struct{})
	}
	x.linked[l] = struct{}{}
}

// addLinkLocked appends l to g's links; g then stays attached to its
// parent, whose Wait must reach l.
func (g *Group) addLinkLocked(l link) {
	x := g.extraLocked()
	l.order = x.order
	x.order++
	x.links = append(x.links, l)
	g.state.Or(linkBit)
	if !x.sticky {
		x.sticky = true
		g.attachLocked(count(g.state.Load()) > 0)
	}
}

// hasAncestor reports whether a is g or is linked, directly or not, to g.
// The caller holds linkMu, so no Link changes the graph meanwhile, and a
// concurrent Sub only adds groups that link nothing.
func (g *Group) hasAncestor(a *Group) bool {
	seen := map[*Group]bool{g: true}
	stack := []*Group{g}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if x == a {
			return true
		}
		x.mu.Lock()
		var parents []*Group
		if x.x != nil {
			parents = x.x.parents
		}
		for _, p := range parents {
			if !seen[p] {
				seen[p] = true
				stack = append(stack, p)
			}
		}
		x.mu.Unlock()
	}
	return false
}

// Sub returns a new group whose context derives from g's, linked to g so
// that g's Wait also waits for it. Use it for work that must be drained as a
// unit, such as the connections of a listener, or for each unit of such
// work: unlike a Link, a Sub is not held by g once it is idle, so a Sub per
// connection or per job costs nothing once finished and dropped. Its errors
// stay with g, which reports them until the Sub gets new work, keeping at
// most [MaxErrors] of those of Subs that left and counting the rest.
//
// The context of a Sub learns of g's cancellation at once while the Sub has
// work, or once its Context was asked for; that of an idle Sub whose tasks
// only got it as their argument learns of it when next asked (Err, Done).
func (g *Group) Sub(opts ...Option) *Group {
	g.init()
	s := &Group{}
	s.initLocked(&g.c) // s is not shared yet: no lock needed
	g.mu.Lock()
	gx := g.extraLocked()
	s.x = &groupExtra{parents: []*Group{g}, subOf: g, subOrder: gx.order}
	gx.order++
	g.state.Or(linkBit)
	g.mu.Unlock()
	s.state.Store(slowBit)
	// The options come last: Registered shares s.
	if ev := g.events(); ev != nil {
		s.options().ev = ev // inherited unless opts say otherwise (events.go)
	}
	s.apply(opts)
	return s
}

// attachLocked puts g in, or takes it out of, its parent's subs, as what
// the parent's Wait must reach requires, and so on up while a parent's own
// need changes with it. busy is whether g has pending work; the caller holds
// g.mu (and may hold g's children's). It climbs hand over hand, holding two
// locks at most, child then parent, and no recursion limits the depth.
func (g *Group) attachLocked(busy bool) {
	x := g
	defer func() {
		if x != g {
			x.mu.Unlock()
		}
	}()
	for {
		e := x.x
		if e == nil || e.subOf == nil {
			return
		}
		p := e.subOf
		hasErrs := x.state.Load()&errBit != 0
		want := busy || e.sticky || len(e.subs) > 0 || len(e.deposits) > 0 || e.depOmitted > 0
		if want == e.attached {
			return
		}
		e.attached = want
		p.mu.Lock()
		x.moveLocked(p, want, hasErrs)
		if x != g {
			x.mu.Unlock()
		}
		x = p
		busy = count(p.state.Load()) > 0
	}
}

// moveLocked puts g in its parent p's subs or takes it out; the caller
// holds both locks.
func (g *Group) moveLocked(p *Group, attach, hasErrs bool) {
	gx, px := g.x, p.extraLocked()
	if attach {
		if px.subs == nil {
			px.subs = make(map[*Group]uint64)
		}
		px.subs[g] = gx.subOrder
		if gx.deposited {
			// g is walked again: its errors are its own to report. If a
			// Wait through p reported them, g's round was reported: the
			// work that brings g back starts the next one, as it would
			// have had g stayed attached.
			if p.dropDepositsLocked(gx.subOrder) {
				gx.prevErrs = gx.errs
				gx.errs = errorList{}
				gx.round++
				g.state.And(^uint64(errBit | reportedBit))
			}
			gx.deposited = false
		}
		g.c.reattach()
		return
	}
	delete(px.subs, g)
	g.c.unregister()
	if hasErrs {
		// p reports g's errors until g starts a new round, as when g
		// was attached; p keeps them, not g, and at most MaxErrors of
		// them, counting the rest, so that failed Subs that are dropped
		// cost p a bounded amount.
		gx.deposited = true
		for _, err := range gx.errs.errs {
			p.depositLocked(deposit{order: gx.subOrder, err: err})
		}
		px.depOmitted += gx.errs.omitted
		if gx.errs.noise != nil {
			p.depositLocked(deposit{order: gx.subOrder, err: gx.errs.noise, noise: true})
		}
	}
}

// A deposit is an error of a Sub that went idle and left its parent: the
// parent reports it until the Sub starts a new round.
type deposit struct {
	order    uint64 // the Sub's position among the parent's links
	err      error
	noise    bool   // an echo of a cancellation, reported only if nothing else is
	id       uint64 // counts the parent's deposits, to tell which a Wait saw
	reported bool   // a Wait through the parent returned it
}

func (p *Group) depositLocked(d deposit) {
	x := p.x
	d.id = x.depNext
	x.depNext++
	if len(x.deposits) < MaxErrors {
		x.deposits = append(x.deposits, d)
		return
	}
	if !d.noise {
		x.depOmitted++
	}
}

// dropDepositsLocked drops the deposits of the Sub at position order and
// reports whether a Wait had returned them.
func (p *Group) dropDepositsLocked(order uint64) (reported bool) {
	x := p.x
	kept := x.deposits[:0]
	for _, d := range x.deposits {
		if d.order != order {
			kept = append(kept, d)
		} else if d.reported {
			reported = true
		}
	}
	clear(x.deposits[len(kept):])
	x.deposits = kept
	return reported
}
