package waitgroup

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
)

// A Group tracks the goroutines and other pending work of one part of a
// program so that it can be stopped and waited for, within a deadline.
//
// Work enters a group in two ways: [Group.Go] runs a function in a new
// goroutine, and [Group.Add] returns an [ID] for work whose end is signalled
// by [Group.Done], possibly from another method or goroutine (a listener that
// is closed in Close, a connection handed to another package). [Group.Wait]
// waits for both, and for every linked group.
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
// of the task and before the return of any Wait that covers it. The same
// holds through links: the end of a task of a linked group synchronizes
// before the return of a Wait of the group that links it.
//
// [the Go memory model]: https://go.dev/ref/mem
type Group struct {
	// state is the pending count and its flags (see count.go). It is read and
	// changed atomically; crossings of zero hold mu.
	state atomic.Uint64
	flags atomic.Uint32 // readyFlag, limitedFlag, exactClockFlag

	// gos lists the tasks started by Go, newest first (see golist.go).
	gos golist

	idMu sync.Mutex // protects ids
	ids  *idTable   // the pending IDs of Add, oldest first; made by the first Add

	c   groupCtx      // the context of the tasks; set up by init
	opt *groupOptions // set by options before g is shared, never changed; nil: none

	mu   sync.Mutex    // protects the fields below; Link also holds linkMu
	idle *idler        // what parked Waits wait on; nil if none
	sem  chan struct{} // one token per running limited task; nil: no limit
	// x holds the errors and the links of g, made under mu by the first
	// that needs it and never replaced; nil while g has neither. A group
	// that has had no error and no link is 128 bytes in all.
	x *groupExtra
}

// The bits of Group.flags.
const (
	readyFlag      = 1 << iota // the fields set by init are set
	limitedFlag                // sem is not nil: Go must read it
	exactClockFlag             // read the clock for every task (see clock.go); set before readyFlag
)

// groupOptions is what the options of New, WithContext and Sub set.
type groupOptions struct {
	name          string
	cancelOnError bool
	ev            *eventConfig // Events, StillWaitingAfter (events.go); nil: none
	dbg           *debugInfo   // set by the Registered and Labels options (registry.go)
}

// groupExtra is the part of a Group that only errors and links need. Its
// fields are protected by Group.mu.
type groupExtra struct {
	errs     errorList // task errors of the current round
	prevErrs errorList // those of the round before, reported
	round    uint64    // counts the rounds
	notified bool      // the parents count g as busy

	parents []*Group // the groups that link g; only appended to
	links   []link   // what g links, in the order linked; only appended to
	linked  map[Link]struct{}
	order   uint64 // the next link's position in links or subs

	// A Sub is held by its parent (in the parent's subs) only while it
	// matters to the parent's Wait: while it is busy, or has subs, links or
	// deposits of its own. An idle Sub leaves its errors with the parent
	// (deposits) and is then freed with its last user.
	subOf      *Group            // the parent that made g with Sub (set before g is shared), or nil
	subOrder   uint64            // g's position among subOf's links
	attached   bool              // g is in subOf.subs
	sticky     bool              // g has links of its own: stay attached
	deposited  bool              // subOf.deposits holds g's errors
	depOmitted int               // deposited errors beyond MaxErrors
	depNext    uint64            // the id of the next deposit
	subs       map[*Group]uint64 // attached Subs and their positions
	deposits   []deposit         // the errors of Subs that left, at most MaxErrors
}

// extraLocked returns g.x, making it if need be; the caller holds g.mu.
func (g *Group) extraLocked() *groupExtra {
	if g.x == nil {
		g.x = &groupExtra{}
	}
	return g.x
}

// roundLocked returns g's error round; the caller holds g.mu.
func (g *Group) roundLocked() uint64 {
	if g.x == nil {
		return 0
	}
	return g.x.round
}

// options returns g.opt, making it if need be; only options call it,
// before g is shared.
func (g *Group) options() *groupOptions {
	if g.opt == nil {
		g.opt = &groupOptions{}
	}
	return g.opt
}

// events returns g's event configuration, or nil.
func (g *Group) events() *eventConfig {
	if g.opt == nil {
		return nil
	}
	return g.opt.ev
}

// debug returns g's debugging state, or nil.
func (g *Group) debug() *debugInfo {
	if g.opt == nil {
		return nil
	}
	return g.opt.dbg
}

// A link is one entry of Group.links.
type link struct {
	l     Link   // as given
	g     *Group // l as a *Group (or the *Group it embeds), or nil
	order uint64
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
// A group made for one request should be cancelled when it is done with
// (defer g.Cancel(nil)), which releases its context.
func WithContext(ctx context.Context, opts ...Option) *Group {
	if ctx == nil {
		panic("waitgroup: WithContext with nil context")
	}
	g := &Group{}
	// g is set up before the options are applied, so that an option may
	// call its methods (Limit calls SetLimit).
	g.mu.Lock()
	g.initLocked(ctx)
	g.mu.Unlock()
	g.apply(opts)
	return g
}

func (g *Group) apply(opts []Option) {
	for _, o := range opts {
		if o == nil {
			panic("waitgroup: nil Option")
		}
		o.applyGroup(g)
	}
	if d := g.debug(); d != nil && d.registered {
		register(g) // last: from here on g is shared (registry.go)
	}
}

// initLocked sets up the context and clock of g on first use.
func (g *Group) initLocked(parent context.Context) {
	if g.flags.Load()&readyFlag != 0 {
		return
	}
	g.c.init(parent)
	g.initClockLocked()
	g.flags.Or(readyFlag)
}

// init makes a zero Group usable; after it the fields it sets may be read
// without the lock.
func (g *Group) init() {
	if g.flags.Load()&readyFlag == 0 {
		g.mu.Lock()
		g.initLocked(context.Background())
		g.mu.Unlock()
	}
}

// Context returns the context passed to tasks started with Go and TryGo. It
// is done once the parent context is done, [Group.Cancel] is called, or, with
// [CancelOnError], a task fails; [context.Cause] says which. Once done it
// stays done: start a new Group for new work that must run.
func (g *Group) Context() context.Context {
	g.init()
	g.c.pin()
	return &g.c
}

// Cancel cancels [Group.Context] with cause (nil means [context.Canceled]),
// telling the tasks to stop. It does not wait for them; call [Group.Wait].
// Only the first cancellation's cause is kept.
func (g *Group) Cancel(cause error) {
	g.init()
	g.c.cancel(cause)
}

// SetLimit limits the number of tasks started by Go and TryGo that run at
// once to n; a negative n removes the limit. Tasks tracked with Add do not
// count. With a limit of 0, Go blocks until the limit is changed, which it
// cannot be while Go waits, and TryGo returns false.
//
// The limit must not be changed while tasks started by Go are pending,
// running or waiting for a slot: SetLimit panics if it is, as a task that
// started without a slot would otherwise run beside the new limit.
func (g *Group) SetLimit(n int) {
	g.init()
	g.mu.Lock()
	defer g.mu.Unlock()
	if running := g.gos.pending(); running > 0 {
		panic(fmt.Errorf("waitgroup: SetLimit(%d) while %d %s started by Go %s pending", n, running, plural(running, "task"), plural2(running)))
	}
	if n < 0 {
		g.sem = nil
		g.flags.And(^uint32(limitedFlag))
		return
	}
	g.sem = make(chan struct{}, n)
	g.flags.Or(limitedFlag)
}

func plural2(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// Go runs f in a new goroutine, passing it [Group.Context]. If a limit is
// set, Go first blocks until fewer than that many tasks started by Go run;
// meanwhile the task is already pending, so a Wait covers it.
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
	g.init()
	t := &goTask{f: f}
	if len(opts) > 0 {
		// Results.Go wraps the user's function: the task is described by
		// the user's.
		t.pc = describedFunc(opts)
		name, rs := taskName(opts), restartOf(opts) // rs: nil without a Restart option (restart.go)
		if name != "" || rs != nil {
			t.meta = &taskMeta{name: name, rs: rs}
		}
	}
	if t.pc == 0 {
		t.pc = reflect.ValueOf(f).Pointer()
	}
	var sem chan struct{}
	if g.flags.Load()&limitedFlag != 0 {
		g.mu.Lock()
		sem = g.sem
		g.mu.Unlock()
	}
	wait := false
	if sem != nil {
		select {
		case sem <- struct{}{}:
		default:
			if !block {
				return false
			}
			wait = true
		}
	}
	t.start = g.now()
	// The task is pending from here on, even while Go waits for a slot, so
	// that a Wait in progress covers it and a WaitError lists it.
	t.num = uint32(gen(g.begin()))
	switch {
	case wait:
		t.state.Store(taskWaiting)
	case sem != nil:
		t.state.Store(taskRunning | holdsSlot)
	}
	g.gos.push(t)
	if wait {
		sem <- struct{}{}
		t.state.Store(taskRunning | holdsSlot)
	}
	go g.run(t)
	return true
}

// run is the body of the goroutine of g's task t.
func (g *Group) run(t *goTask) {
	var err error
	returned := false
	defer func() {
		if !returned {
			// Panic policy: a panic is recovered here and becomes the
			// task's error, with the stack of this goroutine, so that one
			// bad task cannot crash a service that is draining everything
			// else (errgroup lets it crash the process). A Goexit just ends
			// the task.
			err = t.recovered(recover())
		}
		g.finish(t, err)
	}()
	if d := g.debug(); d != nil {
		d.setLabels(g, t) // the Labels option (labels.go)
	}
	if rs := t.restarter(); rs != nil {
		err = t.supervise(g, rs) // restart.go
	} else {
		err = t.f(&g.c)
	}
	returned = true
}

// finish records the outcome of task t.
//
// The order matters: the error is recorded, and with CancelOnError the
// context cancelled, before the task's limit slot is freed (so that a Go
// waiting for the slot cannot start a task with a context that should
// already be cancelled) and before the task counts as done (so that a Wait it
// unblocks sees the error and the cause). The TaskFailed event comes after
// the slot is freed, so that its handler may start a task in it, and before
// the task counts as done, so that it is reported before any Wait returns.
func (g *Group) finish(t *goTask, err error) {
	failed := err != nil && g.fail(err)
	t.giveSlotBack(g)
	if failed && g.events() != nil {
		g.taskFailed(t, err) // events.go: while t is still pending
	}
	t.f = nil // the task's closure may hold much; the record outlives it
	g.gos.done(t)
	g.end()
}

// fail records err, a task's result, and reports whether it is a real
// error rather than an echo of the group's cancellation.
func (g *Group) fail(err error) bool {
	g.mu.Lock()
	real := g.extraLocked().errs.record(err, &g.c)
	g.state.Or(errBit)
	g.mu.Unlock()
	if real && g.opt != nil && g.opt.cancelOnError {
		g.c.cancel(err)
	}
	return real
}
