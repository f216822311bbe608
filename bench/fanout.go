package bench

// Fan-out peers: each maps a slice of items with a function into a slice of
// results in item order (Mappers), or streams results in item order while
// items are produced (Streamers). They are the ways one writes the fan-out
// of issue 13 with each library.

import (
	"context"
	"sync"

	"github.com/gowaitgroup/waitgroup"
	"github.com/sourcegraph/conc/iter"
	"github.com/sourcegraph/conc/pool"
	"github.com/sourcegraph/conc/stream"
	"golang.org/x/sync/errgroup"
)

// FanOutLimit is the limit of the limited fan-out workloads.
const FanOutLimit = 4

// A MapFunc is the function a fan-out applies to each item.
type MapFunc func(ctx context.Context, item int) (int, error)

// A Mapper calls f for every item, at most limit at once (no limit if limit
// < 0), and returns the results in item order, a failed item's result
// included, with the error(s) as the peer reports them.
type Mapper struct {
	Name string
	Map  func(items []int, limit int, f MapFunc) ([]int, error)
}

// Mappers lists the fan-out peers, the baseline first.
var Mappers = []Mapper{
	{"sync", mapSync},
	{"errgroup", mapErrgroup},
	{"concIter", mapConcIter},
	{"concResultPool", mapConcResultPool},
	{"waitgroup", mapOurs},
	{"waitgroupResults", mapOursResults},
}

// mapSync is the baseline: a go statement per item, a sync.WaitGroup, a
// preallocated slice, errors under a mutex, a channel as semaphore.
func mapSync(items []int, limit int, f MapFunc) ([]int, error) {
	out := make([]int, len(items))
	var wg sync.WaitGroup
	var errs errList
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
			var err error
			out[i], err = f(ctx, item)
			errs.add(err)
			if sem != nil {
				<-sem
			}
		}()
	}
	wg.Wait()
	return out, errs.err()
}

// mapErrgroup is errgroup as its documentation shows it: results[i] written
// by hand into a preallocated slice. It returns the first error only.
func mapErrgroup(items []int, limit int, f MapFunc) ([]int, error) {
	out := make([]int, len(items))
	var g errgroup.Group
	g.SetLimit(limit)
	ctx := context.Background()
	for i, item := range items {
		g.Go(func() error {
			var err error
			out[i], err = f(ctx, item)
			return err
		})
	}
	return out, g.Wait()
}

// mapConcIter is conc's iter.Mapper.MapErr; without a limit it gets one
// goroutine per item (its default is GOMAXPROCS).
func mapConcIter(items []int, limit int, f MapFunc) ([]int, error) {
	if limit < 0 {
		limit = len(items)
	}
	ctx := context.Background()
	return iter.Mapper[int, int]{MaxGoroutines: limit}.MapErr(items, func(item *int) (int, error) {
		return f(ctx, *item)
	})
}

// indexed is a result with its item's position: conc's result pool returns
// results in the order tasks end, so they are put back in item order after.
type indexed struct{ i, v int }

// mapConcResultPool is conc's ResultErrorPool keeping failed tasks' results
// (WithCollectErrored).
func mapConcResultPool(items []int, limit int, f MapFunc) ([]int, error) {
	p := pool.NewWithResults[indexed]().WithErrors().WithCollectErrored()
	if limit > 0 {
		p = p.WithMaxGoroutines(limit)
	}
	ctx := context.Background()
	for i, item := range items {
		p.Go(func() (indexed, error) {
			v, err := f(ctx, item)
			return indexed{i, v}, err
		})
	}
	res, err := p.Wait()
	out := make([]int, len(items))
	for _, r := range res {
		out[r.i] = r.v
	}
	return out, err
}

func mapOurs(items []int, limit int, f MapFunc) ([]int, error) {
	return waitgroup.Map(context.Background(), items, f, waitgroup.Limit(limit))
}

func mapOursResults(items []int, limit int, f MapFunc) ([]int, error) {
	r := waitgroup.NewResults[int](waitgroup.New(waitgroup.Limit(limit)))
	for _, item := range items {
		r.Go(func(ctx context.Context) (int, error) { return f(ctx, item) })
	}
	return r.Wait(context.Background())
}

// A Streamer calls f for the items 0, 1, ... n-1, produced one at a time, at
// most limit at once, and calls each with every result in item order, in
// one goroutine, as results become available.
type Streamer struct {
	Name   string
	Stream func(n, limit int, f MapFunc, each func(v int, err error)) error
}

// Streamers lists the streaming peers, the baseline first.
var Streamers = []Streamer{
	{"sync", streamSync},
	{"errgroup", streamErrgroup},
	{"concStream", streamConc},
	{"waitgroup", streamOurs},
}

// streamSync is the hand-written ordered stream: a producer queues one
// buffered channel per item, in order, and the consumer reads them in order.
func streamSync(n, limit int, f MapFunc, each func(int, error)) error {
	type result struct {
		v   int
		err error
	}
	queue := make(chan chan result, limit)
	sem := make(chan struct{}, limit)
	ctx := context.Background()
	go func() {
		for item := range n {
			ch := make(chan result, 1)
			queue <- ch
			sem <- struct{}{}
			go func() {
				v, err := f(ctx, item)
				<-sem
				ch <- result{v, err}
			}()
		}
		close(queue)
	}()
	for ch := range queue {
		r := <-ch
		each(r.v, r.err)
	}
	return nil
}

// streamErrgroup has no stream: it maps every item into a preallocated
// slice, then goes through it, so its memory grows with n.
func streamErrgroup(n, limit int, f MapFunc, each func(int, error)) error {
	items := make([]int, n)
	for i := range items {
		items[i] = i
	}
	out, err := mapErrgroup(items, limit, f)
	for _, v := range out {
		each(v, nil)
	}
	return err
}

// streamConc is conc's stream.Stream: tasks return callbacks, called in
// order.
func streamConc(n, limit int, f MapFunc, each func(int, error)) error {
	s := stream.New().WithMaxGoroutines(limit)
	ctx := context.Background()
	for item := range n {
		s.Go(func() stream.Callback {
			v, err := f(ctx, item)
			return func() { each(v, err) }
		})
	}
	s.Wait()
	return nil
}

func streamOurs(n, limit int, f MapFunc, each func(int, error)) error {
	items := func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
	for v, err := range waitgroup.MapSeq(context.Background(), items, f, waitgroup.Limit(limit)) {
		each(v, err)
	}
	return nil
}
