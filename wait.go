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
// (A cycle through a Link that is not a *Group cannot be seen here; if that
// Link passes on the context it is given, Wait finds it and reports an error
// matching [ErrCycle].) Linking a value already linked (the same
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
	// An uncomparable Link cannot be a map key, nor equal to another.
	if isGroup || reflect.ValueOf(other).Comparable() {
		if _, dup := g.linked[other]; dup {
			return
		}
		if g.linked == nil {
			g.linked = make(map[Link]struct{})
		}
		g.linked[other] = struct{}{}
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

// Sub returns a new group whose context derives from g's, linked to g so
// that g's Wait also waits for it. Use it for work that must be drained as a
// unit, such as the connections of a listener. Like any link it stays linked
// for g's life.
func (g *Group) Sub(opts ...Option) *Group {
	s := WithContext(g.Context(), opts...)
	g.Link(s)
	return s
}

// Wait blocks until every task of g is done and every linked group is done,
// and returns their errors, or gives up when ctx is done.
//
// Wait returns nil only when there was a moment at which all tasks, Add'ed
// IDs and linked groups were done and no task had failed. Otherwise it
// returns the errors of the tasks, g's own first, in the order they ended,
// then each linked group's, in the order of the links, joined with
// [errors.Join] so that [errors.Is] and [errors.As] find each one; a single
// error is returned as is. When a group's context was cancelled, the errors
// of its tasks that only echo that cancellation ([context.Canceled] or the
// cause itself) are left out if a real error exists. A group keeps at most
// [MaxErrors] errors a round; a round ends when a Wait returns its errors and
// new work is added.
//
// If the work is done, its result is returned even when ctx is already done.
// If ctx ends first, Wait returns a [*WaitError] that matches ctx.Err(),
// names every pending task, and carries the errors found so far; the work
// goes on, and later calls to Add, Go and Wait are still valid. Wait starts
// no goroutine: when it returns, g does nothing in the background.
//
// Any number of goroutines may Wait at once. Work added while a Wait is in
// progress, to g or to a *Group linked to it, is covered by that Wait, so a
// Wait that also covers work added after another Wait returned reports the
// new round. Each Wait that returns a round reports its errors, so waiting
// for a Sub directly and then through its parent reports the Sub's errors
// twice. Links that are not *Group are waited for in turn but cannot be
// watched for new work.
func (g *Group) Wait(ctx context.Context) error {
	if ctx == nil {
		panic("waitgroup: Wait with nil context")
	}
	o := g.wait(ctx)
	if o.gaveUp {
		return g.gaveUp(ctx, o.real)
	}
	// The round ends now that its result goes to a caller: in g, and in
	// every linked group that got no new task since this Wait saw it done
	// (one that did keeps its errors, to be reported again rather than lost).
	g.endRound(o.seq)
	for _, d := range o.linked {
		d.g.endRound(d.seq)
	}
	if len(o.real) == 0 {
		return o.noise
	}
	return join(o.real)
}

// An outcome is what the wait of one group found: a linked *Group hands it
// to its parent whole, so that the parent needs neither to guess whether an
// error means "gave up" nor to judge again which errors are echoes.
type outcome struct {
	gaveUp bool
	real   []error    // real errors: own first, then the links', in link order
	noise  error      // the first echo of a cancellation
	seq    uint64     // g's task sequence when it was seen done
	linked []groupSeq // the *Groups linked from g, each with the seq seen done
}

type groupSeq struct {
	g   *Group
	seq uint64
}

func (g *Group) wait(ctx context.Context) outcome {
	// A Link that is not a *Group is waited for once per Wait: it has no
	// version to check again, and calling it again on every pass would
	// both drop the errors it returned (a Group behind it ends its round)
	// and, if it is slow, keep the passes from ever ending under load.
	var st waitState
	for {
		// Everything is done at once if, after each group was seen done
		// in turn, the version of the tree is what it was before: versions
		// only grow, so no group got new work after it was seen done.
		v := g.version()
		clear(st.seen)
		o, changed := g.pass(ctx, &st)
		if o.gaveUp {
			return o
		}
		if changed || g.version() != v {
			continue // new work or links came; wait for them too
		}
		return o
	}
}

// pass waits once for g and, depth first, for each group linked from it that
// this pass has not seen yet, and collects their errors. changed reports that
// some group got a task after it was seen done.
func (g *Group) pass(ctx context.Context, st *waitState) (o outcome, changed bool) {
	if chain, _ := ctx.Value(waitChainKey{}).(*waitChain); chain.has(g) {
		err := fmt.Errorf("%w: group %s waits for itself through a Link that is not a *Group", ErrCycle, g.label())
		return outcome{real: []error{err}}, false
	}
	seq, ok := g.waitIdle(ctx)
	if !ok {
		return outcome{gaveUp: true, real: g.realErrs()}, false
	}
	o.seq = seq
	var linked []error
	links := g.linkSnapshot()
	if len(links) > 0 && st.seen == nil {
		st.seen = map[*Group]bool{}
	}
	if st.seen != nil {
		st.seen[g] = true
	}
	for i, l := range links {
		if lg, ok := l.(*Group); ok {
			if st.seen[lg] {
				continue // a diamond: waited, and its errors taken, once
			}
			lo, ch := lg.pass(ctx, st)
			linked = append(linked, lo.real...)
			if lo.gaveUp {
				return outcome{gaveUp: true, real: append(g.realErrs(), linked...)}, false
			}
			changed = changed || ch
			o.noise = cmp.Or(o.noise, lo.noise)
			o.linked = append(append(o.linked, groupSeq{lg, lo.seq}), lo.linked...)
			continue
		}
		key := linkKey{g, i}
		err, waited := st.foreign[key]
		if !waited {
			err = l.Wait(g.chainContext(ctx))
			if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				return outcome{gaveUp: true, real: append(g.realErrs(), linked...)}, false
			}
			if st.foreign == nil {
				st.foreign = map[linkKey]error{}
			}
			st.foreign[key] = err
		}
		switch {
		case err == nil:
		case isEcho(err, g.Context()):
			o.noise = cmp.Or(o.noise, err)
		default:
			linked = append(linked, err)
		}
	}
	g.mu.Lock()
	// The errors are those of the round seen done only if no task came
	// since: the first such task starts a new round, clearing them, when
	// another Wait has reported the old one meanwhile.
	changed = changed || g.tasks.seq != seq
	o.real = append(g.errs.realLocked(), linked...)
	o.noise = cmp.Or(g.errs.noise, o.noise)
	g.mu.Unlock()
	return o, changed
}

// waitState is what one Wait keeps across its passes.
type waitState struct {
	seen    map[*Group]bool   // groups waited for in this pass; nil until a link
	foreign map[linkKey]error // results of the Links that are not *Group
}

// A linkKey names the i-th link of a group.
type linkKey struct {
	g *Group
	i int
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

// endRound marks g's round as reported, unless g got a task since seq:
// that task's errors belong to the round and are yet to be reported.
func (g *Group) endRound(seq uint64) {
	g.mu.Lock()
	if g.tasks.seq == seq {
		g.reported = true
	}
	g.mu.Unlock()
}

// version grows whenever g, or a *Group linked from it, gets a task or a
// link.
func (g *Group) version() uint64 {
	return g.versionSeen(nil)
}

func (g *Group) versionSeen(seen map[*Group]bool) uint64 {
	g.lock()
	v := g.tasks.seq + uint64(len(g.links))
	links := g.links[:len(g.links):len(g.links)]
	g.mu.Unlock()
	if len(links) > 0 && seen == nil {
		seen = map[*Group]bool{}
	}
	if seen != nil {
		seen[g] = true
	}
	for _, l := range links {
		if lg, ok := l.(*Group); ok && !seen[lg] {
			v += lg.versionSeen(seen)
		}
	}
	return v
}

// realErrs returns the real errors of g's current round.
func (g *Group) realErrs() []error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.errs.realLocked()
}

// waitIdle blocks until g has no pending task and returns the task sequence
// seen then, or ok false if ctx ended first.
func (g *Group) waitIdle(ctx context.Context) (seq uint64, ok bool) {
	g.lock()
	defer g.mu.Unlock()
	for g.tasks.used > 0 {
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
		if g.tasks.used > 0 && ctx.Err() != nil {
			if g.waiters == 0 && g.idle == idle {
				// Nobody waits any more: drop the channel, so that a group
				// keeps no state of a Wait that gave up (and a channel made
				// in a synctest bubble does not outlive the bubble's Waits).
				g.idle = nil
			}
			return 0, false
		}
	}
	return g.tasks.seq, true
}

// gaveUp builds the error of a Wait whose ctx ended before the work, with
// the real errors found so far.
func (g *Group) gaveUp(ctx context.Context, errs []error) error {
	pending := g.Pending()
	slices.SortStableFunc(pending, func(a, b TaskInfo) int { return a.Since.Compare(b.Since) })
	we := &WaitError{
		Err:     ctx.Err(),
		Cause:   context.Cause(ctx),
		Total:   len(pending),
		At:      time.Now(),
		Pending: slices.Clip(pending[:min(len(pending), MaxListed)]),
	}
	if len(errs) > 0 {
		we.Errs = join(errs)
	}
	return we
}

// Pending returns a snapshot of the tasks of g, and of the groups linked to
// it, that are not done: g's own first, each group's in the order they were
// added, each group once however often it is linked. Links that are not
// *Group are included if they have a method Pending() []TaskInfo; such a
// method must not lead back to g, as there is no context to notice it.
func (g *Group) Pending() []TaskInfo {
	return g.collectPending(nil, map[*Group]bool{})
}

func (g *Group) collectPending(out []TaskInfo, seen map[*Group]bool) []TaskInfo {
	seen[g] = true
	g.lock()
	out = g.pendingLocked(out)
	links := g.links[:len(g.links):len(g.links)]
	g.mu.Unlock()
	for _, l := range links {
		switch l := l.(type) {
		case *Group:
			if !seen[l] {
				out = l.collectPending(out, seen)
			}
		case interface{ Pending() []TaskInfo }:
			out = append(out, l.Pending()...)
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
