package waitgroup

import (
	"runtime"
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
