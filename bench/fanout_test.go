package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"testing"
)

// double is the fan-out's trivial work: the atomic increment of the other
// workloads, and a result.
func double(_ context.Context, i int) (int, error) {
	count()
	return 2 * i, nil
}

func numbers(n int) []int {
	items := make([]int, n)
	for i := range items {
		items[i] = i
	}
	return items
}

// BenchmarkMap maps n items with no limit, every item at once; ns/item is
// the cost per item.
func BenchmarkMap(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		benchMap(b, n, -1)
	}
}

// BenchmarkMapLimit maps n items at most FanOutLimit at once: the cost per
// item should not grow with n.
func BenchmarkMapLimit(b *testing.B) {
	for _, n := range []int{10_000, mapLimitItems()} {
		benchMap(b, n, FanOutLimit)
	}
}

// mapLimitItems is the large n of BenchmarkMapLimit: $BENCH_MAP_ITEMS
// (run.sh sets 1 000 000), else 100 000 so that a one-iteration run stays
// quick.
func mapLimitItems() int {
	return envInt("BENCH_MAP_ITEMS", 100_000)
}

func envInt(name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		panic(name + " must be a positive integer")
	}
	return n
}

func benchMap(b *testing.B, n, limit int) {
	items := numbers(n)
	for _, p := range Mappers {
		b.Run(fmt.Sprintf("n=%d/peer=%s", n, p.Name), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				out, err := p.Map(items, limit, double)
				if err != nil || out[n-1] != 2*(n-1) {
					b.Fatalf("Map: %v", err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/item")
		})
	}
}

// BenchmarkMapSeq streams n items, FanOutLimit at once, and consumes the
// results in order; ns/item is the cost per item.
func BenchmarkMapSeq(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		for _, p := range Streamers {
			b.Run(fmt.Sprintf("n=%d/peer=%s", n, p.Name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					next := 0
					if err := p.Stream(n, FanOutLimit, double, func(v int, err error) {
						if err != nil || v != 2*next {
							panic(fmt.Sprintf("result %d = %d, %v", next, v, err))
						}
						next++
					}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/item")
			})
		}
	}
}

// BenchmarkMapSeqHeap streams n items and reports live-B, the most live heap
// (after a full collection) above what was live before, sampled 8 times
// while results are consumed: flat in n for a stream, growing for a
// fan-out that keeps every result.
func BenchmarkMapSeqHeap(b *testing.B) {
	for _, n := range []int{10_000, mapLimitItems()} {
		for _, p := range Streamers {
			b.Run(fmt.Sprintf("n=%d/peer=%s", n, p.Name), func(b *testing.B) {
				var peak int64
				for b.Loop() {
					base, _ := memInUse()
					next := 0
					if err := p.Stream(n, FanOutLimit, double, func(v int, err error) {
						next++
						if next%(n/8) == 0 {
							h, _ := memInUse()
							peak = max(peak, h-base)
						}
					}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(peak), "live-B")
			})
		}
	}
}

var errEven = errors.New("even item")

// TestMappersMapEveryItem checks that each fan-out peer returns every
// result in item order, a failed item's included, and reports the failure.
func TestMappersMapEveryItem(t *testing.T) {
	f := func(_ context.Context, i int) (int, error) {
		if i%100 == 0 {
			return -i, errEven
		}
		return 2 * i, nil
	}
	for _, p := range Mappers {
		for _, limit := range []int{-1, FanOutLimit} {
			t.Run(fmt.Sprintf("%s/limit=%d", p.Name, limit), func(t *testing.T) {
				out, err := p.Map(numbers(1000), limit, f)
				for i, v := range out {
					want := 2 * i
					if i%100 == 0 {
						want = -i
					}
					if v != want {
						t.Fatalf("out[%d] = %d, want %d", i, v, want)
					}
				}
				if len(out) != 1000 || !errors.Is(err, errEven) {
					t.Errorf("%d results, error %v; want 1000 and errEven", len(out), err)
				}
			})
		}
	}
}

// TestStreamersInOrder checks that each streaming peer yields every result
// once, in item order.
func TestStreamersInOrder(t *testing.T) {
	for _, p := range Streamers {
		t.Run(p.Name, func(t *testing.T) {
			// each may run in a goroutine of the peer's: no t.Fatal there.
			next, wrong := 0, 0
			err := p.Stream(1000, FanOutLimit, double, func(v int, err error) {
				if (err != nil || v != 2*next) && wrong == 0 {
					wrong++
					t.Errorf("result %d = %d, %v", next, v, err)
				}
				next++
			})
			if err != nil || next != 1000 {
				t.Errorf("%d results, error %v; want 1000, nil", next, err)
			}
		})
	}
}
