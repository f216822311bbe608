// Package bench compares waitgroup with its peers on the same workloads:
// plain go statements with a [sync.WaitGroup] (the baseline),
// [sync.WaitGroup.Go], errgroup (plain, WithContext and SetLimit), conc
// (WaitGroup and an error pool) and tomb.v2; and, for fan-outs with
// results (fanout.go), waitgroup's Map, MapSeq and Results beside errgroup
// with a preallocated results slice and conc's iter.Mapper, result pool and
// stream.
//
// It is a module of its own so that users of waitgroup never download the
// peers. The benchmarks are in bench_test.go; run.sh runs them and prints
// benchstat tables with ratios to the baseline.
package bench

import (
	"context"
	"errors"
	"sync"

	"github.com/gowaitgroup/waitgroup"
	"github.com/sourcegraph/conc"
	"github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"
	"gopkg.in/tomb.v2"
)

// Limit is the SetLimit used by the peers that have one.
const Limit = 8

// ErrTask is what a failing task returns.
var ErrTask = errors.New("task failed")

// A Task is one trivial unit of work, in the three shapes peers take. Each
// shape is built once, so that no peer pays to wrap it.
type Task struct {
	Plain func()                      // go statements, sync.WaitGroup.Go, conc.WaitGroup
	Err   func() error                // errgroup, conc's error pool, tomb
	Ctx   func(context.Context) error // waitgroup
}

// NewTask returns a Task that calls count and returns err.
func NewTask(count func(), err error) Task {
	return Task{
		Plain: count,
		Err:   func() error { count(); return err },
		Ctx:   func(context.Context) error { count(); return err },
	}
}

// A Peer runs n tasks concurrently and waits for them all.
type Peer struct {
	Name string
	// GoWait starts n copies of t and returns when all are done, with their
	// error(s) as the peer reports them. Peers whose tasks cannot return
	// errors collect them as the baseline does, under a mutex.
	GoWait func(n int, t Task) error
}

// Peers lists every peer, the baseline first.
var Peers = []Peer{
	{"sync", goWaitSync},
	{"syncGo", goWaitSyncGo},
	{"errgroup", goWaitErrgroup},
	{"errgroupCtx", goWaitErrgroupCtx},
	{"errgroupLimit", goWaitErrgroupLimit},
	{"concWG", goWaitConcWG},
	{"concPool", goWaitConcPool},
	{"tomb", goWaitTomb},
	{"waitgroup", goWaitOurs},
	{"waitgroupLimit", goWaitOursLimit},
}

// errList is the baseline's way of keeping every task error.
type errList struct {
	mu   sync.Mutex
	errs []error
}

func (l *errList) add(err error) {
	if err == nil {
		return
	}
	l.mu.Lock()
	l.errs = append(l.errs, err)
	l.mu.Unlock()
}

func (l *errList) err() error { return errors.Join(l.errs...) }

func goWaitSync(n int, t Task) error {
	var wg sync.WaitGroup
	var errs errList
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs.add(t.Err())
		}()
	}
	wg.Wait()
	return errs.err()
}

func goWaitSyncGo(n int, t Task) error {
	var wg sync.WaitGroup
	var errs errList
	f := func() { errs.add(t.Err()) }
	for range n {
		wg.Go(f)
	}
	wg.Wait()
	return errs.err()
}

func goWaitErrgroup(n int, t Task) error {
	var g errgroup.Group
	for range n {
		g.Go(t.Err)
	}
	return g.Wait()
}

func goWaitErrgroupCtx(n int, t Task) error {
	g, _ := errgroup.WithContext(context.Background())
	for range n {
		g.Go(t.Err)
	}
	return g.Wait()
}

func goWaitErrgroupLimit(n int, t Task) error {
	var g errgroup.Group
	g.SetLimit(Limit)
	for range n {
		g.Go(t.Err)
	}
	return g.Wait()
}

func goWaitConcWG(n int, t Task) error {
	var wg conc.WaitGroup
	var errs errList
	f := func() { errs.add(t.Err()) }
	for range n {
		wg.Go(f)
	}
	wg.Wait()
	return errs.err()
}

func goWaitConcPool(n int, t Task) error {
	p := pool.New().WithErrors()
	for range n {
		p.Go(t.Err)
	}
	return p.Wait()
}

// goWaitTomb starts the tasks from a tracked goroutine: tomb panics on a Go
// after all its goroutines ended, which a fast first task would cause.
func goWaitTomb(n int, t Task) error {
	var tb tomb.Tomb
	tb.Go(func() error {
		for range n {
			tb.Go(t.Err)
		}
		return nil
	})
	return tb.Wait()
}

func goWaitOurs(n int, t Task) error {
	var g waitgroup.Group
	for range n {
		g.Go(t.Ctx)
	}
	return g.Wait(context.Background())
}

func goWaitOursLimit(n int, t Task) error {
	var g waitgroup.Group
	g.SetLimit(Limit)
	for range n {
		g.Go(t.Ctx)
	}
	return g.Wait(context.Background())
}
