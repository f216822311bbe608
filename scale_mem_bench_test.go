package waitgroup_test

// Benchmarks of issue 8's memory targets: a finished, unreferenced Sub whose
// errors were reported keeps at most 64 B, a burst of Adds is freed even if
// an ID added after it stays pending (Must hold 3), and a pending ID holds
// at most 64 B (Must hold 5). Each reports live heap after collection, so
// the figures are exact on any machine; ns/op means little here.
// BenchmarkPendingHeap (bench_test.go) reports the heap per pending ID too,
// named and not, under the name B/pendingID.

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"

	"github.com/gowaitgroup/waitgroup"
)

// scaleLiveHeap returns the live heap after two full collections.
func scaleLiveHeap() int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// BenchmarkIDHeap adds a million IDs to a fresh group (B/pending: the live
// heap per pending ID, target at most 64), then ends all but the first and
// the last (kept-B: the live heap the group still holds, in bytes, against
// the start; target: a few segments, not the burst). The baseline,
// sync.WaitGroup, holds a counter.
func BenchmarkIDHeap(b *testing.B) {
	n := scaleSize(1_000_000)
	b.Run("impl=sync", func(b *testing.B) {
		b.ReportAllocs()
		var pending, kept float64
		for b.Loop() {
			var wg sync.WaitGroup
			before := scaleLiveHeap()
			for range n {
				wg.Add(1)
			}
			pending = float64(scaleLiveHeap()-before) / float64(n)
			wg.Add(2 - n)
			kept = float64(scaleLiveHeap() - before)
			wg.Add(-2)
			wg.Wait()
		}
		b.ReportMetric(pending, "B/pending")
		b.ReportMetric(kept, "kept-B")
	})
	b.Run("impl=waitgroup", func(b *testing.B) {
		b.ReportAllocs()
		ids := make([]waitgroup.ID, n)
		var pending, kept float64
		for b.Loop() {
			g := waitgroup.New()
			before := scaleLiveHeap()
			for i := range ids {
				ids[i] = g.Add()
			}
			pending = float64(scaleLiveHeap()-before) / float64(n)
			for i, id := range ids[1 : n-1] {
				if err := g.Done(id); err != nil {
					b.Fatal(err)
				}
				ids[1+i] = waitgroup.ID{} // an ID pins its slot's storage
			}
			kept = float64(scaleLiveHeap() - before)
			for _, id := range []waitgroup.ID{ids[0], ids[n-1]} {
				if err := g.Done(id); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(pending, "B/pending")
		b.ReportMetric(kept, "kept-B")
	})
}

// BenchmarkSubHeap makes 10 000 Subs of a long-lived group, as a server
// makes one per connection: each runs a task that waits for its context,
// is cancelled and waited for, and is dropped; then the parent's Wait
// reports them. B/sub is the live heap each finished Sub still holds
// (target: at most 64). With errors=reported, every task failed, so the
// Subs' errors were reported, by their own Wait and by the parent's.
func BenchmarkSubHeap(b *testing.B) {
	const n = 10_000
	ctx := context.Background()
	for _, fail := range []bool{false, true} {
		name := "errors=none"
		var want error
		if fail {
			name, want = "errors=reported", errScaleSub
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var perSub float64
			for b.Loop() {
				g := waitgroup.New()
				before := scaleLiveHeap()
				for range n {
					s := g.Sub(waitgroup.GroupName("conn"))
					s.Go(func(ctx context.Context) error {
						<-ctx.Done()
						return want
					})
					s.Cancel(nil)
					if err := s.Wait(ctx); err != want {
						b.Fatalf("Sub's Wait = %v, want %v", err, want)
					}
				}
				if err := g.Wait(ctx); !errors.Is(err, want) {
					b.Fatalf("parent's Wait = %.200v, want %v", err, want)
				}
				perSub = float64(scaleLiveHeap()-before) / n
				runtime.KeepAlive(g)
			}
			b.ReportMetric(perSub, "B/sub")
		})
	}
}
