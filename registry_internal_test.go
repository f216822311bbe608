package waitgroup

import (
	"runtime"
	"slices"
	"testing"
)

// TestRegistryPrunesWithoutBeingListed checks that a program that makes and
// drops registered groups, and never lists them, keeps the registry's size
// in proportion to the groups alive, not to all ever registered.
func TestRegistryPrunesWithoutBeingListed(t *testing.T) {
	const rounds, perRound = 20, 100
	for range rounds {
		for range perRound {
			New(Registered())
		}
		runtime.GC()
	}
	registry.mu.Lock()
	n := len(registry.groups)
	registry.mu.Unlock()
	// After a prune the list holds the live groups (none of these) and at
	// most max(2*live, minRegistryPrune) entries before the next one.
	if limit := minRegistryPrune + perRound; n > limit {
		t.Fatalf("registry holds %d entries after %d groups were dropped, want at most %d", n, rounds*perRound, limit)
	}
}

// A group is listed only once all its options are set, whatever their
// order, so that a live view never reads a group whose options are still
// being written. (Registered used to list it at once: a GroupName after it
// was a data race with any reader of the list.)
func TestRegisteredAfterOptions(t *testing.T) {
	listedEarly := false
	probe := groupOption(func(g *Group) {
		// Between Registered and GroupName: not listed yet.
		listedEarly = slices.Contains(RegisteredGroups(), g)
	})
	g := New(Registered(), probe, GroupName("after-options"))
	if listedEarly {
		t.Error("the group was listed before its options were all applied")
	}
	if !slices.Contains(RegisteredGroups(), g) {
		t.Error("the group is not listed")
	}
}
