package graceful

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

// ErrShutdown is matched (with [errors.Is]) by the cause with which Run
// cancels the group's context when shutdown begins, so that a task can tell
// a shutdown from its own failure: errors.Is(context.Cause(ctx), ErrShutdown).
// A task that returns this cause, or [context.Canceled], has not failed.
var ErrShutdown = errors.New("graceful: shutting down")

// ErrTimeout is matched by the error Run returns when the shutdown deadline
// passed before every task ended. That error also matches
// [context.DeadlineExceeded], and [errors.As] finds in it the
// [*waitgroup.StageError] of the stage Run was waiting for, and its
// [*waitgroup.WaitError], whose Pending field lists the tasks still running.
// A stage's own bound passing is not this error: it matches
// [waitgroup.ErrStageTimeout] instead.
var ErrTimeout = errors.New("graceful: shutdown deadline passed")

// ErrInterrupted is matched by the error Run returns when a second signal
// arrived during the shutdown. That error also holds a
// [*waitgroup.WaitError] listing the tasks still running.
var ErrInterrupted = errors.New("graceful: second signal")

// ErrInvalidOptions is matched by the error Run returns, before it starts
// anything, when its options cannot work together: a drain delay that is
// not shorter than the shutdown timeout would cancel no task before the
// deadline, and a [StageTimeout] that does not end before it bounds nothing.
var ErrInvalidOptions = errors.New("graceful: options that cannot work")

// Run starts a service and stops it gracefully. It is meant to be called by
// main, as the last thing main does before exiting with a status that says
// whether Run returned nil.
//
// Run creates a [waitgroup.Group] (named by [GroupName], "main" by default)
// whose context carries ctx's values (but not its cancellation: see below)
// and that is cancelled on the first task error, as with
// [waitgroup.CancelOnError], and calls start with it. start should open what
// can fail (listeners, files) before starting any task, and start the
// service's tasks with [waitgroup.Group.Go] (or Add, Sub, Link) and return;
// it must not block. If start returns an error, Run shuts down as below
// (without drain delay) and returns that error, joined with any task error.
//
// The group is the first stage of the shutdown; the stages of [Then], if
// given, follow it in order (see [waitgroup.Stages]): put the intake
// (listeners, consumers) in the group, and the writers that flush what it
// accepted, then the clients and files they use, in later stages, so that
// they are not told to stop before the intake has stopped.
//
// Run then returns when one of these happens:
//
//   - Every task of every stage has ended by itself: Run returns their
//     errors, nil if no task failed.
//   - A task fails (returns an error or panics), or a stage of Then is
//     cancelled (a task of a stage with CancelOnError failed): the group's
//     context is cancelled at once; Run logs the failure, marks the service
//     as draining, stops the stages in order, and returns the errors. A
//     panic is a [*waitgroup.PanicError] with its stack.
//   - SIGINT or SIGTERM arrives (or a value on the [Signals] channel), or ctx
//     is done: Run marks the [Readiness] as draining, waits the
//     [DrainDelay], then stops the stages in order, cancelling each with a
//     cause matching [ErrShutdown]. It returns nil if they all end in time
//     with no error other than echoes of that cancellation:
//     context.Canceled, that cause or ErrShutdown, perhaps wrapped, and
//     never a panic, as waitgrouptest.IsEcho says.
//
// The shutdown deadline ([ShutdownTimeout], [DefaultShutdownTimeout] by
// default) runs from the start of the shutdown and bounds all the stages
// together; [StageTimeout] and the bounds given to [waitgroup.Stages.Add]
// bound each. A stage that misses its own bound is reported as a
// [*waitgroup.StageError] matching [waitgroup.ErrStageTimeout], and the next
// stage still gets its turn. If the shutdown deadline passes, or if a second
// signal arrives during the shutdown, Run stops waiting at once, cancels
// the stages not yet stopped, and returns an error matching [ErrTimeout] or
// [ErrInterrupted] that names every task still running; those tasks are not
// stopped (Go cannot stop a goroutine), so main should exit non-zero.
//
// Options that cannot work together make Run return an error matching
// [ErrInvalidOptions] before it starts anything.
//
// Unless the [Signals] option is given, Run registers a private channel with
// [os/signal.Notify] for SIGINT and SIGTERM before calling start, and stops
// it with [os/signal.Stop] before returning; it never calls
// [os/signal.Reset] or [os/signal.Ignore], so other packages' handlers keep
// working. While Run is registered, those signals do not terminate the
// process. Run may be called more than once, even concurrently: each call
// has its own channel, and a signal reaches every call.
//
// Run starts no goroutine that outlives it, other than tasks that missed the
// deadline.
func Run(ctx context.Context, start func(g *waitgroup.Group) error, opts ...Option) error {
	if ctx == nil {
		panic("graceful: Run with nil context")
	}
	if start == nil {
		panic("graceful: Run with nil start function")
	}
	r := &runner{config: config{timeout: DefaultShutdownTimeout, name: "main"}}
	for _, o := range opts {
		if o == nil {
			panic("graceful: nil Option")
		}
		o.apply(&r.config)
	}
	if err := r.check(); err != nil {
		return err
	}
	if r.signals == nil {
		// Two slots: the second signal must not be dropped while Run is
		// busy between two receives (signal.Notify never blocks).
		ch := make(chan os.Signal, 2)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(ch)
		r.signals = ch
	}

	// The group does not inherit ctx's cancellation: when ctx ends, the
	// service drains as it does on SIGTERM, and only then are the tasks told
	// to stop.
	first := waitgroup.NewStages(ctx)
	gopts := []waitgroup.Option{waitgroup.CancelOnError()}
	if r.logger != nil {
		// Failures, restarts and give-ups are logged when they happen,
		// in the group and its Subs (events.go). StillWaitingAfter is not
		// set: Run's own Wait below blocks for the service's whole life.
		gopts = append(gopts, waitgroup.Events(r.event))
	}
	gopts = append(gopts, r.gopts...)
	g := first.Add(r.name, r.stage, gopts...)
	r.stages = []*waitgroup.Stages{first}
	if r.then != nil {
		r.stages = append(r.stages, r.then)
	}
	// Release the contexts; a no-op for the stages already stopped.
	defer func() {
		for _, st := range r.stages {
			for _, sg := range st.All() {
				sg.Cancel(nil)
			}
		}
	}()

	if err := start(g); err != nil {
		err = fmt.Errorf("graceful: start: %w", err)
		r.cause = fmt.Errorf("%w: %w", ErrShutdown, err)
		g.Cancel(r.cause)
		return errors.Join(err, r.shutdown("start failed", r.cause, false))
	}
	// A later stage cancelled before the shutdown has failed (CancelOnError)
	// or been cancelled by one of its tasks: either way the service cannot
	// go on, so its cancellation becomes the group's, as a task failure.
	if r.then != nil {
		for name, sg := range r.then.All() {
			stop := context.AfterFunc(sg.Context(), func() {
				g.Cancel(&stageStopped{fmt.Errorf("graceful: stage %q stopped before the shutdown: %w", name, context.Cause(sg.Context()))})
			})
			defer stop()
		}
	}

	// Wait for the tasks to end by themselves, in the background, so that a
	// signal can interrupt it; the Waits give up, and leave nothing behind,
	// once idleCtx is cancelled.
	idleCtx, stopIdle := context.WithCancel(context.Background())
	idle := make(chan error, 1)
	go func() { idle <- r.waitAll(idleCtx) }()
	for {
		var (
			reason string
			cause  error
			delay  = true
		)
		select {
		case err := <-idle:
			stopIdle()
			return err
		case sig, ok := <-r.signals:
			if !ok {
				r.signals = nil
				continue
			}
			reason = "signal " + sig.String()
			cause = fmt.Errorf("%w: received %v", ErrShutdown, sig)
		case <-ctx.Done():
			reason = "context done"
			cause = fmt.Errorf("%w: %w", ErrShutdown, context.Cause(ctx))
		case <-g.Context().Done():
			// A task failed and cancelled the group: its siblings are
			// already stopping, so a drain delay would only add latency.
			failure := context.Cause(g.Context())
			if _, ok := failure.(*stageStopped); ok {
				// No task of the group failed: no event reported it.
				r.logFailure(failure)
			}
			reason = "task failed"
			cause = fmt.Errorf("%w: a task failed: %v", ErrShutdown, failure)
			delay = false
		}
		stopIdle()
		<-idle
		return r.shutdown(reason, cause, delay)
	}
}

// stageStopped is the cause with which Run cancels its group when a stage
// of Then was cancelled before the shutdown, so that Run can tell it from
// a task's failure, which the group's events report.
type stageStopped struct{ err error }

func (e *stageStopped) Error() string { return e.err.Error() }
func (e *stageStopped) Unwrap() error { return e.err }

type runner struct {
	config
	cause  error               // the cause Run cancelled the group with, once it has
	stages []*waitgroup.Stages // Run's group first, then Then's stages
}

// check refuses the options that cannot work.
func (r *runner) check() error {
	if r.drain >= r.timeout {
		return fmt.Errorf("%w: the drain delay (%v) is not shorter than the shutdown timeout (%v), so the tasks could not be stopped before the deadline",
			ErrInvalidOptions, r.drain, r.timeout)
	}
	if r.stage > 0 && r.drain+r.stage >= r.timeout {
		return fmt.Errorf("%w: the drain delay (%v) and the first stage's bound (%v) reach the shutdown timeout (%v), so the bound would end nothing",
			ErrInvalidOptions, r.drain, r.stage, r.timeout)
	}
	return nil
}

// waitAll waits for every stage, in order, without cancelling any.
func (r *runner) waitAll(ctx context.Context) error {
	var errs []error
	for _, st := range r.stages {
		if err := st.Wait(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// shutdown marks the service as draining and runs the stop in the
// background, so that a second signal can cut it short.
func (r *runner) shutdown(reason string, cause error, delay bool) error {
	begin := time.Now()
	if delay {
		r.log(slog.LevelInfo, "graceful: shutdown started", "reason", reason, "timeout", r.timeout)
	} else {
		r.log(slog.LevelInfo, "graceful: shutdown started", "reason", reason, "cause", cause, "timeout", r.timeout)
	}
	if r.readiness != nil {
		r.readiness.Drain()
	}
	// The deadline runs from now and covers the drain delay too; a second
	// signal cancels waitCtx with its own cause.
	deadlineCtx, cancelDeadline := context.WithDeadlineCause(context.Background(), begin.Add(r.timeout), ErrTimeout)
	defer cancelDeadline()
	waitCtx, interrupt := context.WithCancelCause(deadlineCtx)
	defer interrupt(nil)
	done := make(chan error, 1)
	r.cause = cause
	go func() { done <- r.stop(waitCtx, cause, delay) }()
	for {
		select {
		case err := <-done:
			return r.result(err, reason, begin)
		case sig, ok := <-r.signals:
			if !ok {
				r.signals = nil
				continue
			}
			// The stop gives up at once, cancelling what is left.
			interrupt(fmt.Errorf("%w (%v)", ErrInterrupted, sig))
		}
	}
}

// stop waits the drain delay, if delay is set, then stops the stages in
// order with cause, all within ctx.
func (r *runner) stop(ctx context.Context, cause error, delay bool) error {
	if delay && r.drain > 0 {
		r.log(slog.LevelInfo, "graceful: draining", "delay", r.drain)
		// Cut short if every task ends by itself meanwhile.
		dctx, cancel := context.WithTimeout(ctx, r.drain)
		r.waitAll(dctx)
		cancel()
	}
	// The first stage is cancelled before anything is counted for the log,
	// and the count describes no task: a million pending IDs cost nothing
	// here.
	if len(r.stages) > 0 {
		for _, sg := range r.stages[0].All() {
			sg.Cancel(cause)
			break // the later stages wait their turn
		}
	}
	if r.logger != nil {
		pending := 0
		for _, st := range r.stages {
			for _, sg := range st.All() {
				_, n := sg.OldestPending(0)
				pending += n
			}
		}
		r.log(slog.LevelInfo, "graceful: cancelling tasks", "pending", pending)
	}
	var errs []error
	for _, st := range r.stages {
		if err := st.Stop(ctx, cause); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
