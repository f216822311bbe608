package waitgroup

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
)

// Map calls f for every item of items concurrently and returns what each
// call returned, in the order of items, once every call has returned.
//
// out has len(items) elements: out[i] is what f returned for items[i], even
// when it also returned an error, or the zero value if f was never called
// for it (or panicked), whatever failed and in whatever order. Map returns
// only after every call of f it started has returned; it leaves no goroutine
// behind and no f running.
//
// The error is nil, or every failure joined, in the order of items, each a
// [*TaskError] whose Index is the item's position: [errors.Is] and
// [errors.As] reach what f returned, and a panic in f is a *TaskError
// wrapping a [*PanicError]. As in [Group.Wait], errors that only echo the
// cancellation of the fan-out are left out when a real one exists, and at
// most [MaxErrors] are kept.
//
// Each call of f gets a context derived from ctx. opts configure the group
// the calls run in: without [Limit], Map starts every item at once, as
// errgroup does; with Limit(n) at most n calls run at once (Limit(0)
// panics). With [CancelOnError], the first failure cancels the other calls'
// context with that failure as its cause, and items not yet started are
// not started. If ctx ends, the running calls see it, no new item starts,
// Map still waits for the running ones, and, if some item was not started,
// its error also matches ctx.Err() (and [context.Cause] of ctx).
//
// Map releases everything it creates before it returns, so it may be called
// any number of times with one long-lived ctx. With Limit(n), n goroutines
// call f for item after item, rather than one goroutine per item.
func Map[T, R any](ctx context.Context, items []T, f func(ctx context.Context, item T) (R, error), opts ...Option) ([]R, error) {
	if ctx == nil {
		panic("waitgroup: Map with nil context")
	}
	if f == nil {
		panic("waitgroup: Map with a nil function")
	}
	limit, hasLimit, cancelOnError := fanOutConfig(opts)
	if hasLimit && limit == 0 {
		panic("waitgroup: Map with Limit(0) could never call f")
	}
	out := make([]R, len(items))
	if len(items) == 0 {
		return out, nil
	}
	g := WithContext(ctx, opts...)
	m := &mapper[T, R]{
		g:             g,
		ctx:           g.Context(),
		items:         items,
		out:           out,
		f:             f,
		limited:       hasLimit,
		cancelOnError: cancelOnError,
	}
	m.work = m.run
	// Start workers until every item is taken: each worker takes item after
	// item, so without a limit there are at most len(items) of them, fewer
	// when calls are quick, and with Limit(n) TryGo stops at n.
	for range items {
		if m.next.Load() >= int64(len(items)) || m.ctx.Err() != nil || !g.TryGo(m.work) {
			break
		}
	}
	err := g.Wait(context.Background()) // every started call, however long
	// Release the group's context: a context derived from a long-lived ctx
	// stays registered with it until cancelled.
	g.Cancel(nil)
	return out, m.result(ctx, err)
}

// A mapper is the state one Map call shares with its workers.
type mapper[T, R any] struct {
	g             *Group
	ctx           context.Context // g.Context(), given to every call of f
	items         []T
	out           []R
	f             func(context.Context, T) (R, error)
	work          func(context.Context) error // run, made once
	limited       bool                        // a Limit bounds the workers
	cancelOnError bool
	next          atomic.Int64 // the next item to take; grows past len(items)
}

// run is a worker: it takes the next item and calls f for it until no item
// is left or the group's context is done. It ends at the first failure, so
// that the group records it (and, with CancelOnError, cancels the others)
// at once; another worker takes its place if needed.
func (m *mapper[T, R]) run(ctx context.Context) error {
	ended := false
	defer func() {
		if !ended {
			m.replace() // f called runtime.Goexit, which ends this goroutine
		}
	}()
	n := int64(len(m.items))
	for ctx.Err() == nil {
		i := m.next.Add(1) - 1
		if i >= n {
			break
		}
		r, err := callItem(m.f, ctx, m.items[i])
		m.out[i] = r
		if err != nil {
			if !m.cancelOnError {
				m.replace()
			}
			ended = true
			return &TaskError{Index: int(i), Err: err}
		}
	}
	ended = true
	return nil
}

// replace starts a worker in place of one that ends early, when a limit
// bounds the workers and items are left. Without a limit none is needed:
// Map starts a worker per item not yet taken, and a worker ending early took
// at least one.
//
// The ending worker still holds its limit slot, so the new one is started by
// another goroutine, which blocks in Go until a slot frees; an Add'ed ID
// keeps Map's Wait from returning before that Go has recorded the task.
func (m *mapper[T, R]) replace() {
	if !m.limited || m.ctx.Err() != nil || m.next.Load() >= int64(len(m.items)) {
		return
	}
	id := m.g.Add(Name("waitgroup.Map: starting a worker"))
	go func() {
		m.g.Go(m.work)
		_ = m.g.Done(id) // cannot fail: id is pending and ours
	}()
}

// result turns the error of the group's Wait into Map's: the *TaskErrors in
// the order of items and, if ctx ended before every item was started, an
// error matching ctx.Err().
func (m *mapper[T, R]) result(ctx context.Context, err error) error {
	var errs []error
	if multi, ok := err.(interface{ Unwrap() []error }); ok {
		errs = slices.Clone(multi.Unwrap())
	} else if err != nil {
		errs = []error{err}
	}
	// Errors come in the order the calls ended; the order of items reads
	// better and does not change from run to run. An ErrTooManyErrors note
	// is no *TaskError and stays last.
	slices.SortStableFunc(errs, func(a, b error) int {
		ta, aok := a.(*TaskError)
		tb, bok := b.(*TaskError)
		switch {
		case aok && bok:
			return ta.Index - tb.Index
		case aok:
			return -1
		case bok:
			return 1
		}
		return 0
	})
	started := min(m.next.Load(), int64(len(m.items)))
	if started < int64(len(m.items)) && ctx.Err() != nil {
		// The one error Wait returns when all are echoes says only what
		// the one below says better.
		if len(errs) == 1 && isEchoOf(errs[0], m.ctx) {
			errs = nil
		}
		errs = append(errs, fmt.Errorf("waitgroup: Map stopped with %d of %d items not started: %w",
			int64(len(m.items))-started, len(m.items), ctxError(ctx)))
	}
	return joinErrors(errs)
}
