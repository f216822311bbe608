package waitgroup

import (
	"cmp"
	"slices"
	"strings"
)

// A GroupSnapshot is what [Group.Snapshot] saw of one group: enough to show
// it, and to find the groups below it, in a live view.
type GroupSnapshot struct {
	Name string // as given with GroupName; "" if none
	// Path names the group and those above it, top first, separated by
	// "/": "main/http/conns". Above a group is the group that made it with
	// Sub or, for a group made otherwise, the first group that linked it;
	// an unnamed group is "(unnamed)" in a path.
	Path string
	// Pending counts the group's own tasks and IDs that are not done, not
	// those of the groups below it.
	Pending int
	// Errors are the task errors of the group's current round, those its
	// next Wait would report (without those of the groups below it): the
	// real errors, first first, or, if there are none, the first error that
	// only echoed the group's cancellation. nil if none.
	Errors []error
	// Tasks are the oldest of the pending tasks counted by Pending, oldest
	// first, as many as Snapshot was asked for; More counts the others.
	Tasks []TaskInfo
	More  int
	// Children are the groups linked to the group and its Subs that
	// matter to its Wait (busy, or with errors not yet reported), in the
	// order they were linked or made, as many as Snapshot was asked for;
	// MoreChildren counts the others.
	Children     []*Group
	MoreChildren int
}

// Snapshot describes g as it is now: its name and path, its own pending
// tasks, the n oldest of them in detail, the errors of its current round,
// and, up to n of them, the groups below it. A negative n means no bound.
//
// Snapshot is meant for live views of running services: it is safe to call
// at any time, from any goroutine, and does not stop g's work. It describes
// only the tasks it returns and holds each of g's locks only while it copies
// from what that lock guards; it does look at every pending task started by
// [Group.Go] (which are kept newest first), and at the IDs it returns. So
// its cost is in proportion to n plus the tasks started by Go that are
// pending, and a Snapshot of a group with a million pending IDs stays cheap.
// What it returns was read in a few steps, not at one moment: a task that
// ends meanwhile may be listed, one that starts meanwhile may be left out.
func (g *Group) Snapshot(n int) GroupSnapshot {
	g.init()
	s := GroupSnapshot{Name: g.Name(), Path: g.path()}

	h := newOldest(n, older)
	s.Pending = g.candidates(n, h.offer)
	s.Tasks = h.describe()
	s.More = max(s.Pending-len(s.Tasks), 0)

	type child struct {
		order uint64
		g     *Group
	}
	var cs []child
	g.mu.Lock()
	if x := g.x; x != nil {
		for _, l := range x.links {
			if l.g != nil {
				cs = append(cs, child{l.order, l.g})
			}
		}
		for sub, order := range x.subs {
			cs = append(cs, child{order, sub})
		}
		s.Errors = x.errs.appendReal(nil)
		if len(s.Errors) == 0 && x.errs.noise != nil {
			s.Errors = []error{x.errs.noise}
		}
	}
	g.mu.Unlock()
	if len(s.Errors) == 0 {
		s.Errors = nil
	}
	slices.SortFunc(cs, func(a, b child) int { return cmp.Compare(a.order, b.order) })
	if n >= 0 && len(cs) > n {
		s.MoreChildren = len(cs) - n
		cs = cs[:n]
	}
	for _, c := range cs {
		s.Children = append(s.Children, c.g)
	}
	return s
}

// older reports whether a was added before b, both candidates of one
// group: by start time, then, as the clock may not have moved between them,
// IDs before tasks started by Go, and each kind in the order added.
func older(a, b candidate) bool {
	if a.start != b.start {
		return a.start < b.start
	}
	if a.goTask != b.goTask {
		return b.goTask
	}
	return a.seq < b.seq
}

// path names g and the groups above it, top first: see GroupSnapshot.Path.
// A group that opted in to Registered or Labels caches it, which the labels
// of each of its tasks need; the cache holds while the group at the top has
// no parent of its own, since the parent of every other group on the path
// is fixed once it has one (a Sub's maker; a linked group's first parent).
func (g *Group) path() string {
	d := g.debug()
	if d != nil {
		if c := d.path.Load(); c != nil && !c.top.hasParents() {
			return c.path
		}
	}
	var names []string
	x := g
	for {
		name := x.Name()
		if name == "" {
			name = "(unnamed)"
		}
		names = append(names, name)
		p := x.parent()
		if p == nil {
			break
		}
		x = p
	}
	slices.Reverse(names)
	p := strings.Join(names, "/")
	if d != nil {
		d.path.Store(&pathCache{path: p, top: x})
	}
	return p
}

// A pathCache is a path as computed, and the group at its top.
type pathCache struct {
	path string
	top  *Group
}

// parent returns the group above g in its path, or nil.
func (g *Group) parent() *Group {
	if !g.hasParents() {
		return nil
	}
	// g.x was made before slowBit was set, and is never replaced; subOf is
	// set before a Sub is shared and never changed.
	if p := g.x.subOf; p != nil {
		return p
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.x.parents) == 0 {
		return nil
	}
	return g.x.parents[0]
}

// hasParents reports whether g was made by Sub or has been linked: slowBit
// is set then, for good (see count.go), after the parent is recorded.
func (g *Group) hasParents() bool { return g.state.Load()&slowBit != 0 }
