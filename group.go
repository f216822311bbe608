package waitgroup

import (
	"context"
	"fmt"
	"reflect"
	"runtime/debug"
	"sync"
	"time"
)

// A Group tracks the goroutines and other pending work of one part of a
// program so that it can be stopped and waited for, within a deadline.
//
// Work enters a group in two ways: [Group.Go] runs a function in a new
// goroutine, and [Group.Add] returns an [ID] for work whose end is signalled
// by [Group.Done], possibly from another method or goroutine (a listener that
// is closed in Close, a connection handed to another package). [Group.Wait]
// waits for both, then for every linked group.
//
// A zero Group is valid: it has no limit, does not cancel on error, and its
// [Group.Context] derives from [context.Background]. A Group must not be
// copied after first use.
//
// All methods are safe for concurrent use by multiple goroutines, at any time:
// work may be added while a Wait is in progress (that Wait then covers it) or
// after a Wait gave up, and any number of goroutines may Wait at once.
//
// In the terminology of [the Go memory model], the return of a task's
// function, and a call to Done, synchronize before the return of any Wait
// call that they unblock; a call to Add or Go synchronizes before the start
// of the task and before the return of any Wait that covers it.
//
// [the Go memory model]: https://go.dev/ref/mem
type Group struct {
	mu sync.Mutex // protects all fields below (Link also holds linkMu)

	// Set once, by WithContext or on first use of a zero Group.
	inited        bool
	ctx           context.Context
	cancel        context.CancelCauseFunc
	epoch         time.Time // monotonic origin of task.since
	name          string
	cancelOnError bool

	tasks   taskTable     // pending tasks; Wait's own part is done when tasks.used is 0
	idle    chan struct{} // closed when pending drops to 0; nil if nobody waits
	waiters int           // Waits blocked on idle; the last to give up drops it
	sem     chan struct{} // one token per running limited task; nil: no limit

	errs     errorList         // task errors of the current round
	reported bool              // a Wait has returned this round's result
	links    []Link            // in the order added; only appended to
	linked   map[Link]struct{} // the comparable links, to ignore a second Link
}

// New returns a Group whose context derives from [context.Background].
func New(opts ...Option) *Group {
	return WithContext(context.Background(), opts...)
}

// WithContext returns a Group whose [Group.Context] derives from ctx: it is
// cancelled when ctx is, when [Group.Cancel] is called, or, with
// [CancelOnError], when a task fails.
//
// Unlike errgroup.WithContext, the context is not cancelled when Wait
// returns: a long-lived group goes idle and busy many times over its life.
func WithContext(ctx context.Context, opts ...Option) *Group {
	if ctx == nil {
		panic("waitgroup: WithContext with nil context")
	}
	g := &Group{}
	// CORE HOOK (issue 13, for the lead to port): g is initialised before the
	// options are applied, so that an option may call g's methods: Limit
	// calls g.SetLimit, which would otherwise initialise g with
	// context.Background() and make the initLocked(ctx) below a no-op.
	g.initLocked(ctx)
	for _, o := range opts {
		if o == nil {
			panic("waitgroup: nil Option")
		}
		o.applyGroup(g)
	}
	return g
}

// initLocked sets up the context and clock of g on first use.
func (g *Group) initLocked(parent context.Context) {
	if g.inited {
		return
	}
	g.inited = true
	g.ctx, g.cancel = context.WithCancelCause(parent)
	g.epoch = time.Now()
	g.tasks.free = -1
}

func (g *Group) lock() {
	g.mu.Lock()
	if !g.inited {
		g.initLocked(context.Background())
	}
}

// Context returns the context passed to tasks started with Go and TryGo. It
// is done once the parent context is done, [Group.Cancel] is called, or, with
// [CancelOnError], a task fails; [context.Cause] says which. Once done it
// stays done: start a new Group for new work that must run.
func (g *Group) Context() context.Context {
	g.lock()
	defer g.mu.Unlock()
	return g.ctx
}

// Cancel cancels [Group.Context] with cause (nil means [context.Canceled]),
// telling the tasks to stop. It does not wait for them; call [Group.Wait].
// Only the first cancellation's cause is kept.
func (g *Group) Cancel(cause error) {
	g.lock()
	cancel := g.cancel
	g.mu.Unlock()
	cancel(cause)
}

// Add records one pending unit of work and returns its ID. [Group.Wait] does
// not return nil until [Group.Done] has been called with the ID. Add never
// blocks and is not subject to [Group.SetLimit].
//
//go:noinline
func (g *Group) Add(opts ...TaskOption) ID {
	var pc uintptr
	name := taskName(opts)
	if name == "" {
		// The call site is what identifies an unnamed task in a stuck-task
		// report. callerPC needs Add to have a frame of its own: noinline.
		pc = callerPC()
		if pc == addWrapperRet && pc != 0 {
			// Called through the method value g.Add: skip its wrapper.
			pc = callerCallerPC()
		}
	}
	g.lock()
	id := g.insertLocked(kindAdd, name, pc)
	g.mu.Unlock()
	return id
}

// insertLocked adds a task to the table and starts a new error round if the
// last one was reported.
func (g *Group) insertLocked(kind uint8, name string, pc uintptr) ID {
	if g.reported {
		g.reported = false
		g.errs = errorList{}
	}
	idx, seq := g.tasks.insert(kind, name, pc, time.Since(g.epoch))
	return ID{g: g, seq: seq, idx: idx}
}

// Done marks the work of id as finished. It returns an error matching
// [ErrUnknownID], and changes nothing, if id is the zero ID, was issued by
// another group, belongs to a task started with Go, or is already done.
func (g *Group) Done(id ID) error {
	if id.seq == 0 {
		return fmt.Errorf("%w: the zero ID", ErrUnknownID)
	}
	if id.g != g {
		return fmt.Errorf("%w: %v was issued by another group", ErrUnknownID, id)
	}
	g.lock()
	t := g.tasks.lookup(id.idx, id.seq)
	if t == nil || t.kind() != kindAdd {
		g.mu.Unlock()
		if t != nil {
			return fmt.Errorf("%w: %v is a task started by Go; it ends when its function returns", ErrUnknownID, id)
		}
		return fmt.Errorf("%w: %v is already done", ErrUnknownID, id)
	}
	g.removeLocked(id.idx)
	g.mu.Unlock()
	return nil
}

// removeLocked ends the task in slot idx and wakes the waiters when it was the
// last one.
func (g *Group) removeLocked(idx uint32) {
	g.tasks.remove(idx)
	if g.tasks.used > 0 {
		return
	}
	if g.idle != nil {
		close(g.idle)
		g.idle = nil
	}
}

// SetLimit limits the number of tasks started by Go and TryGo that run at
// once to n; a negative n removes the limit. Tasks tracked with Add do not
// count. As with errgroup, the limit must not be changed while such tasks
// run: SetLimit panics if it is.
func (g *Group) SetLimit(n int) {
	g.lock()
	defer g.mu.Unlock()
	if len(g.sem) != 0 {
		panic(fmt.Errorf("waitgroup: SetLimit(%d) while %d tasks started by Go are running", n, len(g.sem)))
	}
	if n < 0 {
		g.sem = nil
		return
	}
	g.sem = make(chan struct{}, n)
}

// Go runs f in a new goroutine, passing it [Group.Context]. If a limit is
// set, Go first blocks until fewer than that many tasks started by Go run.
//
// An error returned by f, or a panic in f (as a [*PanicError]), is reported
// by Wait; with [CancelOnError] the first one also cancels Context. A call to
// [runtime.Goexit] in f ends the task without an error.
func (g *Group) Go(f func(ctx context.Context) error, opts ...TaskOption) {
	g.start(f, opts, true)
}

// TryGo is like [Group.Go] but never blocks: if a limit is set and reached it
// returns false and does not start f.
func (g *Group) TryGo(f func(ctx context.Context) error, opts ...TaskOption) bool {
	return g.start(f, opts, false)
}

func (g *Group) start(f func(ctx context.Context) error, opts []TaskOption, block bool) bool {
	if f == nil {
		panic("waitgroup: Go with a nil function")
	}
	name := taskName(opts)
	g.lock()
	sem := g.sem
	wait := false
	if sem != nil {
		select {
		case sem <- struct{}{}:
		default:
			if !block {
				g.mu.Unlock()
				return false
			}
			wait = true
		}
	}
	// The task is pending from here on, even while Go waits for a slot, so
	// that a Wait in progress covers it and a WaitError lists it.
	pc := reflect.ValueOf(f).Pointer()
	if p := describedFunc(opts); p != 0 {
		// CORE HOOK (issue 13, for the lead to port): Results.Go wraps the
		// user's function; the task is described by the user's.
		pc = p
	}
	id := g.insertLocked(kindGo, name, pc)
	g.mu.Unlock()
	if wait {
		sem <- struct{}{}
	}
	go g.run(id.idx, sem, f)
	return true
}

// run is the body of a task's goroutine.
// It reads g.ctx without the lock: the field is set once, before the first
// task starts, and never changes.
func (g *Group) run(idx uint32, sem chan struct{}, f func(context.Context) error) {
	var err error
	returned := false
	defer func() {
		if !returned {
			// Panic policy: unlike errgroup, which repanics in Wait, a
			// panic is recovered here and becomes the task's error, with the
			// stack of this goroutine, so that one bad task cannot crash a
			// service that is draining everything else. A Goexit (recover
			// returns nil) just ends the task.
			if v := recover(); v != nil {
				err = &PanicError{Value: v, Stack: debug.Stack()}
			}
		}
		g.finish(idx, sem, err)
	}()
	err = f(g.ctx)
	returned = true
}

// finish records the outcome of the task in slot idx.
//
// The order matters: the error is recorded, and with CancelOnError the
// context cancelled, before the task's limit slot is freed (so that a Go
// waiting for the slot cannot start a task with a context that should
// already be cancelled) and before the task counts as done (so that a Wait it
// unblocks sees the error and the cause).
func (g *Group) finish(idx uint32, sem chan struct{}, err error) {
	if err != nil {
		g.mu.Lock()
		if g.errs.record(err, g.ctx) && g.cancelOnError {
			g.cancel(err) // cancelling never calls back into g
		}
		g.mu.Unlock()
	}
	if sem != nil {
		<-sem
	}
	g.mu.Lock()
	g.removeLocked(idx)
	g.mu.Unlock()
}
