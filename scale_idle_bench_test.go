package waitgroup_test

// Benchmarks of issue 8's Must hold 2: Wait is linear in the size of the
// tree. Each times the Wait of a tree in which every group is done, after
// the tree has had work and a Wait has reported it, as in a service
// between two bursts. The targets: a 10 000-deep chain at most 10 ms, a
// 100 000-deep one at most 100 ms, 10 000 wide at most 5 ms, and a group
// without links at most 3 times an idle sync.WaitGroup.Wait.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/gowaitgroup/waitgroup"
)

// errScaleSub is what the failing tasks of the wideSubFailed tree return.
var errScaleSub = errors.New("sub failed")

// A scaleTree builds a tree of root and n other groups and runs some work
// in it; the returned value keeps what must stay referenced.
type scaleTree struct {
	shape   string
	build   func(root *waitgroup.Group, n int) any
	wantErr error // what every Wait of the idle tree returns
}

var scaleTrees = []scaleTree{
	// chainLink: root → g1 → … → gn, each linked to the one before it
	// with Link; a task ran in gn.
	{shape: "chainLink", build: func(root *waitgroup.Group, n int) any {
		last := root
		for range n {
			next := waitgroup.New()
			last.Link(next)
			last = next
		}
		_ = last.Done(last.Add())
		return nil
	}},
	// chainSub: the same chain made with Sub; the Subs are held, as a
	// server holds its live connections.
	{shape: "chainSub", build: func(root *waitgroup.Group, n int) any {
		subs := make([]*waitgroup.Group, n)
		last := root
		for i := range subs {
			last = last.Sub()
			subs[i] = last
		}
		_ = last.Done(last.Add())
		return subs
	}},
	// wideLink: root links n groups, in each of which a task ran.
	{shape: "wideLink", build: func(root *waitgroup.Group, n int) any {
		for range n {
			g := waitgroup.New()
			root.Link(g)
			_ = g.Done(g.Add())
		}
		return nil
	}},
	// wideSub: root has n Subs, held, in each of which a task ran.
	{shape: "wideSub", build: func(root *waitgroup.Group, n int) any {
		subs := make([]*waitgroup.Group, n)
		for i := range subs {
			subs[i] = root.Sub()
			_ = subs[i].Done(subs[i].Add())
		}
		return subs
	}},
	// wideSubFailed: root has n Subs, held, in each of which a task failed;
	// the errors were reported, and each Wait reports them again until
	// the Subs start new work, so each Wait joins n errors.
	{shape: "wideSubFailed", wantErr: errScaleSub, build: func(root *waitgroup.Group, n int) any {
		subs := make([]*waitgroup.Group, n)
		for i := range subs {
			subs[i] = root.Sub()
			subs[i].Go(func(context.Context) error { return errScaleSub })
		}
		return subs
	}},
}

// BenchmarkIdleWait times the Wait of an idle tree of each shape and size
// (n groups besides the root); ns/group is ns/op over n, flat in n if Wait
// is linear. On the core before issue 8, the 100 000-deep chains took a
// minute an op: bench/compare.sh can skip them (SKIP='IdleWait//n=100000').
func BenchmarkIdleWait(b *testing.B) {
	ctx := context.Background()
	for _, t := range scaleTrees {
		sizes := []int{10_000}
		if t.shape == "chainLink" || t.shape == "chainSub" {
			sizes = append(sizes, 100_000)
		}
		for _, n := range sizes {
			n = scaleSize(n)
			b.Run(fmt.Sprintf("shape=%s/n=%d", t.shape, n), func(b *testing.B) {
				b.ReportAllocs()
				root := waitgroup.New()
				keep := t.build(root, n)
				if t.wantErr != nil {
					// The first Wait reports the errors; the others find
					// them reported, with nothing new. (Without errors,
					// the first Wait is like the others: not run twice, as
					// on the core before issue 8 a Wait of a 100 000-deep
					// chain took a minute.)
					if err := root.Wait(ctx); !errors.Is(err, t.wantErr) {
						b.Fatalf("first Wait = %.200v, want %v", err, t.wantErr)
					}
				}
				for b.Loop() {
					if err := root.Wait(ctx); (err == nil) != (t.wantErr == nil) {
						b.Fatalf("Wait = %.200v, want %v", err, t.wantErr)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/group")
				runtime.KeepAlive(keep)
			})
		}
	}
}

// BenchmarkIdleWaitFlat is the Wait of an idle group without links, which
// has had work, beside an idle sync.WaitGroup's Wait (target: at most 3x).
func BenchmarkIdleWaitFlat(b *testing.B) {
	b.Run("impl=sync", func(b *testing.B) {
		b.ReportAllocs()
		var wg sync.WaitGroup
		wg.Add(1)
		wg.Done()
		for b.Loop() {
			wg.Wait()
		}
	})
	b.Run("impl=waitgroup", func(b *testing.B) {
		b.ReportAllocs()
		ctx := context.Background()
		var g waitgroup.Group
		if err := g.Done(g.Add()); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if err := g.Wait(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
