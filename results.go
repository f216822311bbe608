package waitgroup

import (
	"context"
	"slices"
	"sync"
)

// Results collects the values of tasks that each return one, in the order
// the tasks were started: it is a typed view of a [Group] for fan-outs whose
// tasks differ, where [Map] would need one function for all.
//
// Its tasks are tasks of the group like any other: the group's limit,
// [Name], [Group.Pending], [CancelOnError] and the deadline of Wait apply to
// them, a panic becomes an error, and [Group.Wait] waits for them too. Their
// errors are [*TaskError]s, with the Index of the Go or TryGo call that
// started the task and its Name.
//
// A zero Results is valid and uses a zero Group of its own; [NewResults]
// makes one over a given group. A Results keeps every value until it is no
// longer referenced: use one per fan-out. It must not be copied after first
// use. All methods are safe for concurrent use.
type Results[T any] struct {
	mu   sync.Mutex // protects g (set once) and vals
	g    *Group     // nil until first use of a zero Results
	own  Group      // the group of a zero Results
	vals []T        // by the index of the accepted Go or TryGo call
}

// NewResults returns a Results whose tasks run in g. Several Results may
// share a group; each numbers its tasks from 0.
func NewResults[T any](g *Group) *Results[T] {
	if g == nil {
		panic("waitgroup: NewResults(nil)")
	}
	return &Results[T]{g: g}
}

// groupLocked returns the group of r.
func (r *Results[T]) groupLocked() *Group {
	if r.g == nil {
		r.g = &r.own
	}
	return r.g
}

// Go starts f as a task of the group, as [Group.Go] does (blocking while the
// group's limit is reached), and keeps what it returns for [Results.Wait].
// The task's index is the number of Go and accepted TryGo calls before this
// one; Go calls that race get their indexes in the order they take r's lock.
func (r *Results[T]) Go(f func(ctx context.Context) (T, error), opts ...TaskOption) {
	if f == nil {
		panic("waitgroup: Results.Go with a nil function")
	}
	r.mu.Lock()
	g := r.groupLocked()
	i := len(r.vals)
	var zero T
	r.vals = append(r.vals, zero)
	r.mu.Unlock()
	// Not under r.mu: Go may block until a task ends, and an ending task
	// takes r.mu to store its value.
	r.start(g, i, f, opts, false)
}

// TryGo is like [Results.Go] but never blocks: if the group's limit is
// reached it returns false, and the call takes no index.
func (r *Results[T]) TryGo(f func(ctx context.Context) (T, error), opts ...TaskOption) bool {
	if f == nil {
		panic("waitgroup: Results.TryGo with a nil function")
	}
	// Under r.mu, so that the index is taken only if the task starts: TryGo
	// does not block, and the task, if it ends at once, waits for r.mu.
	r.mu.Lock()
	defer r.mu.Unlock()
	i := len(r.vals)
	if !r.start(r.groupLocked(), i, f, opts, true) {
		return false
	}
	var zero T
	r.vals = append(r.vals, zero)
	return true
}

// task returns the function the group runs for the i-th task: it calls f and
// stores its value, even alongside an error.
func (r *Results[T]) task(i int, f func(context.Context) (T, error), opts []TaskOption) func(context.Context) error {
	name := taskName(opts)
	return func(ctx context.Context) error {
		v, err := callTask(f, ctx, name)
		r.mu.Lock()
		r.vals[i] = v
		r.mu.Unlock()
		if err != nil {
			return &TaskError{Index: i, Name: name, Err: err}
		}
		return nil
	}
}

// start starts the task that runs f, with opts and an option that makes
// Pending and WaitError describe an unnamed task by f rather than by the
// wrapper task returns, through Go or, if try, TryGo.
func (r *Results[T]) start(g *Group, i int, f func(context.Context) (T, error), opts []TaskOption, try bool) bool {
	run := r.task(i, f, opts)
	if len(opts) == 0 { // the common case, without allocating a slice
		if try {
			return g.TryGo(run, describedAs[T](f))
		}
		g.Go(run, describedAs[T](f))
		return true
	}
	opts = append(opts[:len(opts):len(opts)], describedAs[T](f))
	if try {
		return g.TryGo(run, opts...)
	}
	g.Go(run, opts...)
	return true
}

// Wait waits for the group as [Group.Wait] does and returns the values of the
// tasks started so far, in the order of their Go and accepted TryGo calls,
// with the group's error. A failed task's slot holds what it returned with
// its error; a task that panicked or is still running has the zero value.
//
// If ctx ends first, Wait gives up as Group.Wait does, with a [*WaitError]
// that matches ctx.Err() and names the pending tasks, and returns the values
// of the tasks ended so far. The slice returned is the caller's: tasks still
// running never write to it.
func (r *Results[T]) Wait(ctx context.Context) ([]T, error) {
	r.mu.Lock()
	g := r.groupLocked()
	r.mu.Unlock()
	err := g.Wait(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.vals), err
}
