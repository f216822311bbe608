package waitgroup_test

// Benchmarks of Map, MapSeq and Results, each beside the hand-written
// fan-out it replaces: go statements, a sync.WaitGroup and a preallocated
// results slice (a channel as semaphore for a limit). The comparison with
// errgroup and conc is in ./bench.

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/gowaitgroup/waitgroup"
)

func double(_ context.Context, i int) (int, error) { return 2 * i, nil }

// mapSync is the baseline fan-out: one goroutine per item, at most limit at
// once if limit >= 0.
func mapSync(items []int, limit int) []int {
	out := make([]int, len(items))
	var wg sync.WaitGroup
	var sem chan struct{}
	if limit >= 0 {
		sem = make(chan struct{}, limit)
	}
	ctx := context.Background()
	for i, item := range items {
		if sem != nil {
			sem <- struct{}{}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], _ = double(ctx, item)
			if sem != nil {
				<-sem
			}
		}()
	}
	wg.Wait()
	return out
}

func benchItems(n int) []int {
	items := make([]int, n)
	for i := range items {
		items[i] = i
	}
	return items
}

func reportPerItem(b *testing.B, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/item")
}

// BenchmarkMap maps n items, every item at once or limit=4 at a time.
func BenchmarkMap(b *testing.B) {
	for _, c := range []struct{ n, limit int }{{100, -1}, {10_000, -1}, {10_000, 4}, {100_000, 4}} {
		items := benchItems(c.n)
		b.Run(fmt.Sprintf("n=%d/limit=%d/impl=sync", c.n, c.limit), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				mapSync(items, c.limit)
			}
			reportPerItem(b, c.n)
		})
		b.Run(fmt.Sprintf("n=%d/limit=%d/impl=waitgroup", c.n, c.limit), func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			for b.Loop() {
				if _, err := waitgroup.Map(ctx, items, double, waitgroup.Limit(c.limit)); err != nil {
					b.Fatal(err)
				}
			}
			reportPerItem(b, c.n)
		})
	}
}

// BenchmarkMapSeq streams n items 4 at a time; the baseline maps them into
// a slice first (and so holds every result), then goes through it.
func BenchmarkMapSeq(b *testing.B) {
	const n, limit = 10_000, 4
	items := benchItems(n)
	b.Run("impl=sync", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sum := 0
			for _, v := range mapSync(items, limit) {
				sum += v
			}
		}
		reportPerItem(b, n)
	})
	b.Run("impl=waitgroup", func(b *testing.B) {
		b.ReportAllocs()
		ctx := context.Background()
		for b.Loop() {
			sum := 0
			for v, err := range waitgroup.MapSeq(ctx, slices.Values(items), double, waitgroup.Limit(limit)) {
				if err != nil {
					b.Fatal(err)
				}
				sum += v
			}
		}
		reportPerItem(b, n)
	})
}

// BenchmarkResults starts n tasks through a Results and waits for their
// values.
func BenchmarkResults(b *testing.B) {
	const n = 10_000
	items := benchItems(n)
	b.Run("impl=sync", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			mapSync(items, -1)
		}
		reportPerItem(b, n)
	})
	b.Run("impl=waitgroup", func(b *testing.B) {
		b.ReportAllocs()
		ctx := context.Background()
		for b.Loop() {
			var r waitgroup.Results[int]
			for _, item := range items {
				r.Go(func(ctx context.Context) (int, error) { return double(ctx, item) })
			}
			if _, err := r.Wait(ctx); err != nil {
				b.Fatal(err)
			}
		}
		reportPerItem(b, n)
	})
}
