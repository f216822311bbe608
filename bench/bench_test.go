package bench

// Every benchmark is named Benchmark<Workload>/.../peer=<peer>, so that
//
//	benchstat -filter .name:<Workload> -col /peer results.txt
//
// prints one column per peer with the ratio to the first, the baseline
// (plain go statements with a sync.WaitGroup). Peers that lack a feature use
// their nearest equivalent, named <peer>.<equivalent>; peers that cannot do
// a workload at all skip it with a message starting "cannot:".

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowaitgroup/waitgroup"
	"github.com/sourcegraph/conc"
	"github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"
	"gopkg.in/tomb.v2"
)

var sink atomic.Int64

func count() { sink.Add(1) }

var (
	okTask  = NewTask(count, nil)
	errTask = NewTask(count, ErrTask)
)

// BenchmarkGoWait starts n trivial tasks with each peer and waits for them,
// with a fresh group each time; ns/task is the cost per task.
func BenchmarkGoWait(b *testing.B) { benchGoWait(b, okTask, false) }

// BenchmarkGoWaitErr is BenchmarkGoWait with every task returning an error.
func BenchmarkGoWaitErr(b *testing.B) { benchGoWait(b, errTask, true) }

func benchGoWait(b *testing.B, t Task, wantErr bool) {
	for _, n := range []int{1, 100, 10000} {
		for _, p := range Peers {
			b.Run(fmt.Sprintf("n=%d/peer=%s", n, p.Name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := p.GoWait(n, t); (err != nil) != wantErr {
						b.Fatalf("GoWait: %v", err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/task")
			})
		}
	}
}

// The Add/Done benchmarks track one unit of work on a long-lived group.
// sync.WaitGroup has a counter but no IDs; errgroup, conc and tomb have no
// Add/Done at all, so their nearest equivalent is starting a trivial task
// (peer=<peer>.Go), waited for after the timed loop.

// BenchmarkAddDone is one Add and its Done, in one goroutine.
func BenchmarkAddDone(b *testing.B) {
	for _, p := range addDonePeers {
		b.Run("peer="+p.name, func(b *testing.B) {
			b.ReportAllocs()
			op, wait := p.setup()
			for b.Loop() {
				op()
			}
			b.StopTimer()
			wait()
		})
	}
}

// BenchmarkAddDoneParallel is BenchmarkAddDone from GOMAXPROCS goroutines
// sharing one group.
func BenchmarkAddDoneParallel(b *testing.B) {
	for _, p := range addDonePeers {
		b.Run("peer="+p.name, func(b *testing.B) {
			b.ReportAllocs()
			op, wait := p.setup()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					op()
				}
			})
			b.StopTimer()
			wait()
		})
	}
}

// An addDonePeer returns the operation to time and what to do after.
type addDonePeer struct {
	name  string
	setup func() (op, wait func())
}

func nop()                         {}
func nopErr() error                { return nil }
func nopCtx(context.Context) error { return nil }

var addDonePeers = []addDonePeer{
	{"sync", func() (func(), func()) {
		var wg sync.WaitGroup
		return func() { wg.Add(1); wg.Done() }, wg.Wait
	}},
	{"syncGo.Go", func() (func(), func()) {
		var wg sync.WaitGroup
		return func() { wg.Go(nop) }, wg.Wait
	}},
	{"errgroup.Go", func() (func(), func()) {
		var g errgroup.Group
		return func() { g.Go(nopErr) }, func() { _ = g.Wait() }
	}},
	{"concWG.Go", func() (func(), func()) {
		var wg conc.WaitGroup
		return func() { wg.Go(nop) }, wg.Wait
	}},
	{"concPool.Go", func() (func(), func()) {
		p := pool.New().WithErrors()
		return func() { p.Go(nopErr) }, func() { _ = p.Wait() }
	}},
	{"tomb.Go", func() (func(), func()) {
		// A tracked goroutine keeps the tomb alive: Go after all goroutines
		// ended panics.
		var t tomb.Tomb
		release := make(chan struct{})
		t.Go(func() error { <-release; return nil })
		return func() { t.Go(nopErr) }, func() { close(release); _ = t.Wait() }
	}},
	{"waitgroup", func() (func(), func()) {
		var g waitgroup.Group
		return func() { _ = g.Done(g.Add()) }, func() { mustWait(&g) }
	}},
	{"waitgroupNamed", func() (func(), func()) {
		var g waitgroup.Group
		return func() { _ = g.Done(g.Add(waitgroup.Name("x"))) }, func() { mustWait(&g) }
	}},
	{"waitgroup.Go", func() (func(), func()) {
		var g waitgroup.Group
		return func() { g.Go(nopCtx) }, func() { mustWait(&g) }
	}},
}

func mustWait(g *waitgroup.Group) {
	if err := g.Wait(context.Background()); err != nil {
		panic(err)
	}
}

// wakeSpin is how long the last task runs before it ends, so that the
// goroutine calling Wait is surely blocked by then.
const wakeSpin = 10 * time.Microsecond

// BenchmarkWake measures how soon Wait returns once the last task is done:
// ns/wake runs from just before the task returns (or calls Done) to just
// after Wait returns. ns/op includes starting the task and its wakeSpin.
func BenchmarkWake(b *testing.B) {
	bench := func(b *testing.B, run func(t Task) error) {
		b.ReportAllocs()
		var t0 time.Time
		stamp := func() {
			for start := time.Now(); time.Since(start) < wakeSpin; {
			}
			t0 = time.Now()
		}
		t := NewTask(stamp, nil)
		var total time.Duration
		for b.Loop() {
			if err := run(t); err != nil {
				b.Fatal(err)
			}
			total += time.Since(t0)
		}
		b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "ns/wake")
	}
	for _, p := range Peers {
		b.Run("peer="+p.Name, func(b *testing.B) {
			bench(b, func(t Task) error { return p.GoWait(1, t) })
		})
	}
	b.Run("peer=waitgroup.Add", func(b *testing.B) {
		var g waitgroup.Group
		ctx := context.Background()
		bench(b, func(t Task) error {
			id := g.Add(waitgroup.Name("x"))
			go func() {
				t.Plain()
				_ = g.Done(id)
			}()
			return g.Wait(ctx)
		})
	})
}

// timedOutWaits is how many Waits each op of BenchmarkTimedOutWait gives up.
const timedOutWaits = 1000

// BenchmarkTimedOutWait gives up timedOutWaits Waits, with a context already
// past its deadline, on a group with one pending task, and reports the
// goroutines still running afterwards (goroutines/op; want 0).
func BenchmarkTimedOutWait(b *testing.B) {
	for _, p := range Peers {
		b.Run("peer="+p.Name, func(b *testing.B) {
			tw := timedWaiters[p.Name]
			if tw == nil {
				b.Skipf("cannot: %s: Wait takes no context or deadline; a hand-written select around it leaves a goroutine per timed-out Wait, as peer=sync shows", p.Name)
			}
			b.ReportAllocs()
			ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
			defer cancel()
			var left int
			for b.Loop() {
				n, cleanup := timedOutWaitsLeft(ctx, tw, timedOutWaits)
				left += n
				b.StopTimer()
				cleanup()
				b.StartTimer()
			}
			b.ReportMetric(float64(left)/float64(b.N), "goroutines/op")
		})
	}
}

// A timedWaiter sets up a group with one pending task and returns a Wait
// that gives up when ctx ends, reporting whether the work was done, and the
// function that ends the pending task and waits for every goroutine started
// meanwhile to exit.
type timedWaiter func() (wait func(ctx context.Context) bool, finish func())

var timedWaiters = map[string]timedWaiter{
	// The hand-written timeout around sync.WaitGroup.Wait.
	"sync": func() (func(context.Context) bool, func()) {
		var wg sync.WaitGroup
		wg.Add(1)
		var left []chan struct{}
		return func(ctx context.Context) bool {
				done := make(chan struct{})
				go func() {
					wg.Wait()
					close(done)
				}()
				select {
				case <-done:
					return true
				case <-ctx.Done():
					left = append(left, done)
					return false
				}
			}, func() {
				wg.Done()
				for _, done := range left {
					<-done
				}
			}
	},
	"tomb": func() (func(context.Context) bool, func()) {
		var t tomb.Tomb
		release := make(chan struct{})
		t.Go(func() error { <-release; return nil })
		return func(ctx context.Context) bool {
			select {
			case <-t.Dead():
				return true
			case <-ctx.Done():
				return false
			}
		}, func() { close(release); _ = t.Wait() }
	},
	"waitgroup": func() (func(context.Context) bool, func()) {
		var g waitgroup.Group
		id := g.Add(waitgroup.Name("x"))
		return func(ctx context.Context) bool {
			return g.Wait(ctx) == nil
		}, func() { _ = g.Done(id) }
	},
}

func init() {
	// SetLimit does not change Wait.
	timedWaiters["waitgroupLimit"] = timedWaiters["waitgroup"]
}

// timedOutWaitsLeft gives up n Waits of tw with ctx and returns how many
// goroutines they left running, and a cleanup that ends the pending task and
// waits for those goroutines to exit.
func timedOutWaitsLeft(ctx context.Context, tw timedWaiter, n int) (int, func()) {
	wait, finish := tw()
	before := runtime.NumGoroutine()
	for range n {
		if wait(ctx) {
			panic("Wait reported the work done while a task is pending")
		}
	}
	return runtime.NumGoroutine() - before, finish
}

// pendingTasks is how many tasks BenchmarkPendingHeap keeps pending:
// $BENCH_PENDING (run.sh sets 1 000 000), else 100 000 so that a one-iteration
// run stays quick, or 10 000 with -short. Memory per task does not depend on
// it beyond noise.
func pendingTasks() int {
	if s := os.Getenv("BENCH_PENDING"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			panic("BENCH_PENDING must be a positive integer")
		}
		return n
	}
	if testing.Short() {
		return 10_000
	}
	return 100_000
}

// warmGoroutines starts and ends n goroutines once per process. The runtime
// keeps the descriptors of ended goroutines for reuse, so without this the
// first peer measured would pay for n descriptors and the others not.
var warmGoroutines = sync.OnceValue(func() int {
	n := pendingTasks()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range n {
		wg.Go(func() { <-stop })
	}
	close(stop)
	wg.Wait()
	return n
})

// BenchmarkPendingHeap keeps pendingTasks() tasks pending at once (a million
// in run.sh) and reports the memory held per pending task: heap-B/task (as runtime.MemStats.HeapAlloc
// counts it) and stack-B/task (goroutine stacks). A pending task is a blocked
// goroutine for peers that track only goroutines; sync.Add and waitgroup.Add
// are a pending Add, a counter for sync.WaitGroup and an ID for ours. Peers
// with a limit cannot have more pending tasks than their limit. Goroutine
// descriptors are reused from a warm-up (see warmGoroutines) and so are not
// counted.
func BenchmarkPendingHeap(b *testing.B) {
	n := warmGoroutines()
	for _, p := range Peers {
		b.Run("peer="+p.Name, func(b *testing.B) {
			if p.Name == "errgroupLimit" || p.Name == "waitgroupLimit" {
				b.Skipf("cannot: %s: at most Limit=%d tasks run at once and Go blocks, so no more can be pending", p.Name, Limit)
			}
			benchPending(b, n, func() (release func()) {
				var started atomic.Int64
				allStarted := make(chan struct{})
				stop := make(chan struct{})
				t := NewTask(func() {
					if started.Add(1) == int64(n) {
						close(allStarted)
					}
					<-stop
				}, nil)
				done := make(chan error)
				go func() { done <- p.GoWait(n, t) }()
				<-allStarted
				return func() {
					close(stop)
					if err := <-done; err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
	b.Run("peer=sync.Add", func(b *testing.B) {
		benchPending(b, n, func() func() {
			var wg sync.WaitGroup
			for range n {
				wg.Add(1)
			}
			return func() { wg.Add(-n); wg.Wait() }
		})
	})
	b.Run("peer=waitgroup.Add", func(b *testing.B) {
		ids := make([]waitgroup.ID, n)
		benchPending(b, n, func() func() {
			g := new(waitgroup.Group)
			for i := range ids {
				ids[i] = g.Add()
			}
			return func() {
				for _, id := range ids {
					_ = g.Done(id)
				}
				mustWait(g)
			}
		})
	})
}

// benchPending measures the memory that fill, which makes n tasks pending,
// holds until the release it returns is called.
func benchPending(b *testing.B, n int, fill func() (release func())) {
	var heap, stack float64
	for b.Loop() {
		h0, s0 := memInUse()
		release := fill()
		h1, s1 := memInUse()
		heap, stack = float64(h1-h0)/float64(n), float64(s1-s0)/float64(n)
		b.StopTimer()
		release()
		b.StartTimer()
	}
	b.ReportMetric(heap, "heap-B/task")
	b.ReportMetric(stack, "stack-B/task")
}

// memInUse returns the live heap and the goroutine stacks in use after a
// full collection.
func memInUse() (heap, stack int64) {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc), int64(m.StackInuse)
}
