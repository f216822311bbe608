package waitgroup

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// Walks of a tree of groups: depth first, in link order, each group once,
// in a loop (a chain of any depth recurses nowhere), holding one group's
// lock at a time.

type walkAction int

const (
	walkOn   walkAction = iota
	walkSkip            // do not go into this group's links
	walkStop
)

// A walk is the state of one eachGroup.
type walk struct {
	seen map[*Group]bool
}

// Pending methods of Links that are not groups may lead back into the tree
// (a wrapper of a group that links the walker): while a walk calls one,
// walks nested in it on the same goroutine share its seen groups, so that
// each group is listed once and the recursion ends.
var (
	foreignCalls atomic.Int32
	nestedWalks  sync.Map // goroutine id → *walk
)

// foreign calls f, the call of a foreign Pending method.
func (w *walk) foreign(f func()) {
	id := goid()
	prev, had := nestedWalks.Swap(id, w)
	foreignCalls.Add(1)
	defer func() {
		foreignCalls.Add(-1)
		if had {
			nestedWalks.Store(id, prev)
		} else {
			nestedWalks.Delete(id)
		}
	}()
	f()
}

// goid returns the id of the calling goroutine, read from its stack header.
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	var id uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}

// eachGroup calls f with g and each group linked to it, depth first in link
// order, each once, and with each Link that is not a group (x nil, st.l the
// Link). It holds one group's lock at a time, and no recursion limits the
// depth.
func (g *Group) eachGroup(f func(x *Group, st step, w *walk) walkAction) {
	w := &walk{}
	if foreignCalls.Load() > 0 {
		if outer, ok := nestedWalks.Load(goid()); ok {
			w = outer.(*walk)
		}
	}
	if w.seen == nil {
		w.seen = map[*Group]bool{}
	}
	stack := []step{{g: g}}
	for len(stack) > 0 {
		st := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if st.dep != nil {
			continue
		}
		if st.g == nil {
			if f(nil, st, w) == walkStop {
				return
			}
			continue
		}
		x := st.g
		if w.seen[x] {
			continue
		}
		w.seen[x] = true
		x.init()
		switch f(x, st, w) {
		case walkStop:
			return
		case walkSkip:
			continue
		}
		if x.state.Load()&linkBit == 0 {
			continue // links nothing: no lock to take
		}
		x.mu.Lock()
		n := len(stack)
		stack = x.appendLinksLocked(stack)
		x.mu.Unlock()
		slices.Reverse(stack[n:])
	}
}

// collected is what a walk of a tree of groups found.
type collected struct {
	real   []error     // real errors: each group's own, then its links', in order
	gaveUp bool        // ctx ended while a Link that is not a group was waited for
	waited bool        // a Link that is not a group was waited for
	noise  error       // the first echo of a cancellation
	root   seenGroup   // the walked group, when its errors were read
	seen   []seenGroup // the others
}

// A linkKey names a link by the group that made it and its position.
type linkKey struct {
	g     *Group
	order uint64
}

type seenGroup struct {
	g       *Group
	s       uint64 // its state when its errors were read
	depNext uint64 // its deposits then were those with lower ids
}

// A step of a walk: a group, or a Link that is not one, with its parent.
type step struct {
	g      *Group
	l      Link
	parent *Group
	order  uint64
	dep    *deposit // an error a freed Sub left with its parent
}

// collect walks g and the groups linked to it, depth first in link order,
// each once, and takes their errors. With foreign not nil it waits, in its
// place in that order, for each Link that is not a group and whose result
// foreign does not hold yet, stores the result there, and says in waited
// that it did; a Link's result comes from foreign either way. round is g's
// error round when the tree was seen done: if another Wait reported it and
// new work started the next meanwhile, that round's errors are still the
// ones to report. It holds one group's lock at a time, and no recursion
// limits the depth.
func (g *Group) collect(ctx context.Context, foreign map[linkKey]error, round uint64) (c collected) {
	var seen map[*Group]bool // only groups with several parents go in
	chain, _ := ctx.Value(waitChainKey{}).(*waitChain)
	stack := []step{{g: g}}
	for len(stack) > 0 {
		st := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if d := st.dep; d != nil {
			if d.noise {
				c.noise = cmp.Or(c.noise, d.err)
			} else {
				c.real = append(c.real, d.err)
			}
			continue
		}
		if st.g == nil {
			key := linkKey{st.parent, st.order}
			err, ok := foreign[key]
			if !ok && foreign != nil {
				err = st.l.Wait(st.parent.chainContext(ctx))
				if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
					c.gaveUp = true
					return c
				}
				foreign[key] = err
				c.waited = true
			}
			switch {
			case err == nil:
			case isEcho(err, &st.parent.c):
				c.noise = cmp.Or(c.noise, err)
			default:
				c.real = append(c.real, err)
			}
			continue
		}
		x := st.g
		s := x.state.Load()
		if s&shareBit != 0 {
			if seen[x] {
				continue // a diamond: its errors are taken once
			}
			if seen == nil {
				seen = map[*Group]bool{}
			}
			seen[x] = true
		}
		if x != g && chain.has(x) {
			c.real = append(c.real, fmt.Errorf("%w: %s waits for itself through a Link that is not a *Group", ErrCycle, x.label()))
			continue
		}
		if x != g && s&(errBit|linkBit) == 0 {
			// No errors and nothing linked: nothing to take, nothing to
			// end (a wide tree of idle groups costs no lock each).
			continue
		}
		x.mu.Lock()
		s = x.state.Load()
		v := seenGroup{g: x, s: s}
		if xx := x.x; xx != nil {
			v.depNext = xx.depNext
			errs := &xx.errs
			if x == g && xx.round != round {
				errs = &xx.prevErrs
			}
			c.real = errs.appendReal(c.real)
			c.noise = cmp.Or(c.noise, errs.noise)
		}
		if x == g {
			c.root = v
		} else {
			c.seen = append(c.seen, v)
		}
		n := len(stack)
		stack = x.appendLinksLocked(stack)
		x.mu.Unlock()
		slices.Reverse(stack[n:]) // the first link is taken first
	}
	return c
}

// appendLinksLocked appends what g links, its links and its attached Subs,
// in the order they were made.
func (g *Group) appendLinksLocked(stack []step) []step {
	x := g.x
	if x == nil {
		return stack
	}
	if len(x.subs) == 0 && len(x.deposits) == 0 && x.depOmitted == 0 {
		for _, l := range x.links {
			stack = append(stack, step{g: l.g, l: l.l, parent: g, order: l.order})
		}
		return stack
	}
	n := len(stack)
	for _, l := range x.links {
		stack = append(stack, step{g: l.g, l: l.l, parent: g, order: l.order})
	}
	for s, order := range x.subs {
		stack = append(stack, step{g: s, l: s, parent: g, order: order})
	}
	for _, d := range x.deposits {
		// A copy: x.deposits changes once g is unlocked.
		stack = append(stack, step{parent: g, order: d.order, dep: &d})
	}
	if x.depOmitted > 0 {
		stack = append(stack, step{parent: g, order: ^uint64(0), dep: &deposit{
			err: fmt.Errorf("%w: %d more left out by dropped Subs (a group keeps %d)", ErrTooManyErrors, x.depOmitted, MaxErrors)}})
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
