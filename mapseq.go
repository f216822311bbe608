package waitgroup

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime"
)

// errLoopEnded is the cause of the context of the calls still running when
// the loop over a MapSeq ends.
var errLoopEnded = errors.New("waitgroup: the loop over MapSeq ended")

// MapSeq returns a sequence that calls f concurrently for the items of
// items and yields, for each item in input order, what f returned: a value
// and nil, or a value and a [*TaskError] whose Index is the item's position
// in items.
//
// At most n calls of f run at once, in at most n goroutines, n being set by
// [Limit] or, without one, [runtime.GOMAXPROCS]; Limit(0) panics. Items are
// pulled from items only when there is room: results wait in order in a ring
// of 2n slots, allocated when the range starts, so at most 2n+1 items are
// pulled beyond the last one yielded, memory does not grow with the number
// of items, and an endless items works.
//
// The loop body runs in the goroutine of the range statement, while further
// calls run. When the loop ends, by break, return or panic, the running
// calls' context is cancelled and the sequence waits for them: when the range
// statement ends, no f runs and no goroutine is left. Each call's context
// derives from ctx. If ctx ends, no new item starts: the sequence yields
// the items already started, then, if it had pulled an item it did not
// start, one last pair for it whose error matches ctx.Err(). With
// [CancelOnError], the first failure cancels the other calls, and the
// iteration ends after yielding the first failure: the items before it in
// input order that completed are yielded first, and if one of them only
// echoes the cancellation, the failure that caused it is yielded in its
// place.
//
// A panic in f is yielded as a *TaskError wrapping a [*PanicError]. The
// returned sequence may be ranged over any number of times, each time
// calling f anew.
func MapSeq[T, R any](ctx context.Context, items iter.Seq[T], f func(ctx context.Context, item T) (R, error), opts ...Option) iter.Seq2[R, error] {
	if ctx == nil {
		panic("waitgroup: MapSeq with nil context")
	}
	if items == nil {
		panic("waitgroup: MapSeq with nil items")
	}
	if f == nil {
		panic("waitgroup: MapSeq with a nil function")
	}
	limit, hasLimit, cancelOnError := fanOutConfig(opts)
	if hasLimit && limit == 0 {
		panic("waitgroup: MapSeq with Limit(0) could never call f")
	}
	if !hasLimit {
		limit = runtime.GOMAXPROCS(0)
	}
	return func(yield func(R, error) bool) {
		g := WithContext(ctx, opts...)
		g.SetLimit(-1) // the sequence bounds its workers itself (see start)
		s := &sequence[T, R]{
			g:             g,
			ctx:           ctx,
			gctx:          g.Context(),
			f:             f,
			n:             limit,
			cancelOnError: cancelOnError,
			ring:          make([]seqSlot[R], 2*limit),
			jobs:          make(chan job[T], limit),
			done:          make(chan ended, limit),
		}
		s.work = s.worker
		defer s.stop()
		s.run(items, yield)
	}
}

// A sequence is the state of one range over a MapSeq. Only the goroutine of
// the range statement uses it, except for the slots of the calls running.
//
// The calls run in at most n workers, tasks of g that take jobs one after
// the other, so that the goroutines, like the calls, are bounded by n: with
// a task per item, goroutines that have handed over their result but not
// yet ended could pile up beyond n.
type sequence[T, R any] struct {
	g             *Group
	ctx           context.Context // the caller's
	gctx          context.Context // g's, given to every call of f
	f             func(context.Context, T) (R, error)
	n             int // at most n calls run at once
	cancelOnError bool

	// ring holds the items started and not yet yielded, the slot of the
	// item started k-th being ring[k%len(ring)]: head is the next to
	// yield, tail the next to start. A running call owns its slot until its
	// worker sends the slot's position on done.
	ring       []seqSlot[R]
	head, tail int
	running    int                         // calls started whose end is not yet received
	workers    int                         // workers started and not known to have ended
	jobs       chan job[T]                 // to the workers; never full: len is n
	done       chan ended                  // from the workers; never full: len is n
	work       func(context.Context) error // worker, made once
	over       bool                        // yield returned false, or the last pair is yielded
}

// A job is one item for a worker.
type job[T any] struct {
	index, pos int // the item's position in the input and in the ring
	item       T
}

// An ended is a worker's report that the call for the item at pos ended; gone
// says that the worker ended with it.
type ended struct {
	pos  int
	gone bool
}

// A slot holds the result of one item.
type seqSlot[R any] struct {
	r     R
	err   error // nil or a *TaskError
	ended bool  // the call ended: r and err are final
}

// run pulls items while there is room, starts a call for each, and yields
// results in order as they become ready.
func (s *sequence[T, R]) run(items iter.Seq[T], yield func(R, error) bool) {
	notStarted := -1 // an item pulled but not started because gctx ended
	for item := range items {
		for {
			if !s.flush(yield) {
				return
			}
			if s.tail-s.head < len(s.ring) && s.running < s.n {
				break
			}
			s.receive(true)
		}
		if s.gctx.Err() != nil {
			notStarted = s.tail
			break
		}
		s.start(item)
	}
	for s.head < s.tail {
		if !s.ring[s.head%len(s.ring)].ended {
			s.receive(true)
		}
		if !s.flush(yield) {
			return
		}
	}
	if notStarted >= 0 && s.ctx.Err() != nil {
		var zero R
		yield(zero, &TaskError{Index: notStarted, Err: fmt.Errorf("not started: %w", ctxError(s.ctx))})
	}
}

// start hands item, the tail-th, to a worker, starting one if none is idle.
func (s *sequence[T, R]) start(item T) {
	index, pos := s.tail, s.tail%len(s.ring)
	s.tail++
	s.running++
	s.jobs <- job[T]{index, pos, item}
	if s.workers < s.running {
		s.workers++
		s.g.Go(s.work)
	}
}

// worker calls f for job after job until jobs is closed. With CancelOnError
// it ends at a failure, which it returns so that the group cancels the
// others at once.
func (s *sequence[T, R]) worker(ctx context.Context) error {
	pos := -1
	defer func() {
		if pos >= 0 { // f called runtime.Goexit, which ends this goroutine
			s.done <- ended{pos, true}
		}
	}()
	for j := range s.jobs {
		pos = j.pos
		r, err := callItem(s.f, ctx, j.item)
		sl := &s.ring[j.pos]
		sl.r = r
		if err != nil {
			te := &TaskError{Index: j.index, Err: err}
			sl.err = te
			if s.cancelOnError {
				pos = -1
				s.done <- ended{j.pos, true}
				return te
			}
		}
		pos = -1
		s.done <- ended{pos: j.pos}
	}
	return nil
}

// receive marks the slots of ended calls, waiting for one if block.
func (s *sequence[T, R]) receive(block bool) {
	if block {
		s.ended(<-s.done)
	}
	for {
		select {
		case e := <-s.done:
			s.ended(e)
		default:
			return
		}
	}
}

func (s *sequence[T, R]) ended(e ended) {
	s.ring[e.pos].ended = true
	s.running--
	if e.gone {
		s.workers--
	}
}

// flush yields the ended results at the head of the ring, in order, and
// reports whether the iteration goes on.
func (s *sequence[T, R]) flush(yield func(R, error) bool) bool {
	s.receive(false)
	for !s.over && s.head < s.tail {
		sl := &s.ring[s.head%len(s.ring)]
		if !sl.ended {
			break
		}
		r, err := sl.r, sl.err
		if err != nil && s.cancelOnError {
			s.over = true
			if cause := s.failure(); cause != nil && err != error(cause) && isEchoOf(err, s.gctx) {
				r, err = s.result(cause)
			}
		}
		*sl = seqSlot[R]{} // let the value go
		s.head++
		if !yield(r, err) {
			s.over = true
		}
	}
	return !s.over
}

// failure returns the failure that cancelled gctx, or nil if gctx was not
// cancelled by a failure of one of the calls.
func (s *sequence[T, R]) failure() *TaskError {
	if s.gctx.Err() == nil || s.ctx.Err() != nil {
		return nil // not cancelled, or cancelled by ctx
	}
	// Only CancelOnError cancels g while the loop runs, with what a call
	// returned: a *TaskError of a call started and not yet yielded.
	te, ok := context.Cause(s.gctx).(*TaskError)
	if !ok || te.Index < s.head || te.Index >= s.tail {
		return nil
	}
	return te
}

// result returns the value that the call which failed with te returned,
// waiting for its slot, and te.
func (s *sequence[T, R]) result(te *TaskError) (R, error) {
	sl := &s.ring[te.Index%len(s.ring)]
	for !sl.ended {
		s.receive(true)
	}
	return sl.r, te
}

// stop ends the workers, cancelling the calls still running, and waits for
// them.
func (s *sequence[T, R]) stop() {
	close(s.jobs)
	s.g.Cancel(errLoopEnded)
	_ = s.g.Wait(context.Background()) // the items' errors were yielded
}
