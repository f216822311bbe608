package waitgroup

import (
	"sync"
	"sync/atomic"
	"weak"
)

// The registry lists the groups made with [Registered], for operators'
// tools such as the debug package's live view. It holds weak pointers, so
// that a registered group is listed while it is alive and dropped once it
// is garbage: registering never keeps a group, its tasks' closures or its
// context alive. Groups that do not opt in cost nothing: the only trace of
// this file in a plain group is a nil pointer (Group.opt.dbg).
var registry struct {
	mu     sync.Mutex            // protects the fields below
	groups []weak.Pointer[Group] // in the order registered; some may be dead
	// pruneAt is the length at which register prunes dead entries: twice
	// the live ones after the last prune, so that pruning is amortized O(1)
	// per registration however many groups come and go.
	pruneAt int
}

const minRegistryPrune = 64

// debugInfo is what a group made with Registered or Labels carries; it is
// set while the options are applied, before the group is shared, and its
// plain fields are only read after.
type debugInfo struct {
	registered bool
	labels     bool
	// path caches g.path(), which labels each task (see snapshot.go); nil until
	// first used.
	path atomic.Pointer[pathCache]
	// lastLabels caches the labels of the last task labelled, which tasks
	// of the same name (connection handlers, workers) reuse as they are.
	lastLabels atomic.Pointer[taskLabels]
}

// optIn returns g's debugInfo, making it on first use. Only options call
// it, while g is not shared yet.
func (g *Group) optIn() *debugInfo {
	o := g.options()
	if o.dbg == nil {
		o.dbg = &debugInfo{}
	}
	return o.dbg
}

// Registered lists the group in [RegisteredGroups] while it is alive, so that
// operators' tools, such as the live view of the
// github.com/gowaitgroup/waitgroup/debug package, can show it with its pending
// tasks. The registry holds the group weakly: a registered group that is no
// longer referenced is garbage collected as usual and disappears from the
// list.
//
// Registering takes a process-wide lock once, when the group is made; a
// group that is not registered pays nothing. The tools also show the groups
// that a registered group links and its Subs, registered or not, so that
// registering the top of a tree, rather than a Sub per connection, is
// enough.
func Registered() Option {
	// apply registers the group once all its options are set: a live view
	// may read it from then on.
	return groupOption(func(g *Group) { g.optIn().registered = true })
}

func register(g *Group) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if len(registry.groups) >= max(registry.pruneAt, minRegistryPrune) {
		pruneLocked()
	}
	registry.groups = append(registry.groups, weak.Make(g))
}

// pruneLocked drops the entries of groups that are garbage.
func pruneLocked() {
	live := registry.groups[:0]
	for _, w := range registry.groups {
		if w.Value() != nil {
			live = append(live, w)
		}
	}
	clear(registry.groups[len(live):]) // let the dead entries' handles go
	registry.groups = live
	registry.pruneAt = 2 * len(live)
}

// RegisteredGroups returns the groups made with [Registered] that are still
// alive, in the order they were made. It is safe to call at any time, from
// any goroutine; it takes a process-wide lock for the time it takes to copy
// the list, and drops the entries of groups collected since the last call.
// The caller holds the returned groups alive until it drops the slice.
func RegisteredGroups() []*Group {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	out := make([]*Group, 0, len(registry.groups))
	for _, w := range registry.groups {
		if g := w.Value(); g != nil {
			out = append(out, g)
		}
	}
	if len(out) < len(registry.groups) {
		pruneLocked()
	}
	return out
}

// Name returns the name given with [GroupName], or "" if none was. It is
// safe for concurrent use.
func (g *Group) Name() string {
	if g.opt == nil {
		return ""
	}
	return g.opt.name
}
