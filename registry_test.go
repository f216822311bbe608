package waitgroup_test

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"testing/synctest"
	"weak"

	"github.com/gowaitgroup/waitgroup"
)

func TestRegisteredGroupsListsOnlyRegistered(t *testing.T) {
	plain := waitgroup.New(waitgroup.GroupName("plain"))
	reg := waitgroup.New(waitgroup.GroupName("reg"), waitgroup.Registered())
	twice := waitgroup.New(waitgroup.Registered(), waitgroup.GroupName("twice"), waitgroup.Registered())
	sub := reg.Sub(waitgroup.GroupName("sub"), waitgroup.Registered())
	plainSub := reg.Sub(waitgroup.GroupName("plainSub"))

	list := waitgroup.RegisteredGroups()
	count := func(g *waitgroup.Group) int {
		n := 0
		for _, x := range list {
			if x == g {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		name string
		g    *waitgroup.Group
		want int
	}{
		{"plain", plain, 0},
		{"plainSub", plainSub, 0},
		{"reg", reg, 1},
		{"twice", twice, 1},
		{"sub", sub, 1},
	} {
		if got := count(tc.g); got != tc.want {
			t.Errorf("%s is listed %d times, want %d", tc.name, got, tc.want)
		}
	}
	// In the order made.
	i, j, k := slices.Index(list, reg), slices.Index(list, twice), slices.Index(list, sub)
	if !(i < j && j < k) {
		t.Errorf("positions reg %d, twice %d, sub %d: not in the order made", i, j, k)
	}
	if got := reg.Name(); got != "reg" {
		t.Errorf("Name() = %q, want %q", got, "reg")
	}
	if got := new(waitgroup.Group).Name(); got != "" {
		t.Errorf("zero Group's Name() = %q, want empty", got)
	}
}

// newDropped makes a registered group, runs a task in it, and returns only
// a weak pointer to it, so that nothing but the registry could hold it.
//
//go:noinline
func newDropped(t *testing.T, name string) weak.Pointer[waitgroup.Group] {
	g := waitgroup.New(waitgroup.GroupName(name), waitgroup.Registered(), waitgroup.Labels())
	sub := g.Sub(waitgroup.GroupName("sub"), waitgroup.Registered())
	sub.Go(func(context.Context) error { return nil })
	g.Add()
	if !slices.Contains(waitgroup.RegisteredGroups(), g) {
		t.Fatalf("%s is not listed while alive", name)
	}
	_ = g.Snapshot(-1) // caches the path
	return weak.Make(g)
}

func TestRegisteredGroupDisappearsAfterGC(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newDropped(t, "dropped")
		// The task's goroutine has exited: it held the group until then.
		synctest.Wait()
		runtime.GC()
		if w.Value() != nil {
			t.Fatal("the dropped group is still alive after a GC: something holds it")
		}
		for _, g := range waitgroup.RegisteredGroups() {
			if g.Name() == "dropped" {
				t.Fatal("a garbage collected group is still listed")
			}
		}
	})
}
