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
// [context.DeadlineExceeded] and is a [*waitgroup.WaitError] for
// [errors.As], whose Pending field lists the tasks still running.
var ErrTimeout = errors.New("graceful: shutdown deadline passed")

// ErrInterrupted is matched by the error Run returns when a second signal
// arrived during the shutdown. That error is also a [*waitgroup.WaitError]
// listing the tasks still running.
var ErrInterrupted = errors.New("graceful: second signal")

// Run starts a service and stops it gracefully. It is meant to be called by
// main, as the last thing main does before exiting with a status that says
// whether Run returned nil.
//
// Run creates a [waitgroup.Group] whose context carries ctx's values (but
// not its cancellation: see below) and that is cancelled on the first task
// error, as with [waitgroup.CancelOnError], and calls start with it. start
// should open what can fail (listeners, files) before starting any task, and
// start the service's tasks with [waitgroup.Group.Go] (or Add, Sub, Link)
// and return; it must not block. If start returns an error, Run cancels the
// group, waits for the tasks start did start (with the shutdown deadline),
// and returns that error, joined with any task error.
//
// Run then returns when one of these happens:
//
//   - Every task has ended by itself: Run returns what [waitgroup.Group.Wait]
//     returns, nil if no task failed.
//   - A task fails (returns an error or panics): the group's context is
//     already cancelled; Run marks the service as draining, waits for the
//     other tasks with the shutdown deadline, and returns the errors. A
//     panic is a [*waitgroup.PanicError] with its stack.
//   - SIGINT or SIGTERM arrives (or a value on the [Signals] channel), or ctx
//     is done: Run marks the [Readiness] as draining, waits the
//     [DrainDelay], cancels the group's context with a cause matching
//     [ErrShutdown], and waits for every task. It returns nil if they all
//     end in time with no error other than echoes of that cancellation:
//     context.Canceled, that cause or ErrShutdown, perhaps wrapped, and
//     never a panic, as waitgrouptest.IsEcho says.
//
// The shutdown deadline ([ShutdownTimeout], [DefaultShutdownTimeout] by
// default) runs from the start of the shutdown. If it passes, or if a second
// signal arrives during the shutdown, Run stops waiting at once and returns
// an error matching [ErrTimeout] or [ErrInterrupted] that wraps a
// [*waitgroup.WaitError] naming every task still running; those tasks are not
// stopped (Go cannot stop a goroutine), so main should exit non-zero.
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
	r := &runner{config: config{timeout: DefaultShutdownTimeout}}
	for _, o := range opts {
		if o == nil {
			panic("graceful: nil Option")
		}
		o.apply(&r.config)
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
	g := waitgroup.WithContext(context.WithoutCancel(ctx), waitgroup.CancelOnError())
	defer g.Cancel(nil) // release the context; a no-op once cancelled

	if err := start(g); err != nil {
		err = fmt.Errorf("graceful: start: %w", err)
		r.cause = fmt.Errorf("%w: %w", ErrShutdown, err)
		g.Cancel(r.cause)
		return errors.Join(err, r.shutdown(g, "start failed", nil, false))
	}

	// Wait for the tasks to end by themselves, in the background, so that a
	// signal can interrupt it; the Wait gives up, and leaves nothing behind,
	// once idleCtx is cancelled.
	idleCtx, stopIdle := context.WithCancel(context.Background())
	idle := make(chan error, 1)
	go func() { idle <- g.Wait(idleCtx) }()
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
			reason = "task failed"
			delay = false
		}
		stopIdle()
		<-idle
		return r.shutdown(g, reason, cause, delay)
	}
}

type runner struct {
	config
	cause error // the cause Run cancelled the group with, once it has
}

// shutdown runs the stages that follow the decision to stop: mark
// draining, wait the drain delay if delay is set, cancel g with cause
// (unless nil: g is already cancelled), and wait for g with the deadline.
func (r *runner) shutdown(g *waitgroup.Group, reason string, cause error, delay bool) error {
	begin := time.Now()
	r.log(slog.LevelInfo, "graceful: shutdown started", "reason", reason, "timeout", r.timeout)
	if r.readiness != nil {
		r.readiness.Drain()
	}

	// The deadline runs from now and covers the drain delay too; a second
	// signal cancels waitCtx with its own cause. One Wait, started now,
	// covers every stage, so that tasks ending during the delay are seen.
	deadlineCtx, cancelDeadline := context.WithDeadlineCause(context.Background(), begin.Add(r.timeout), ErrTimeout)
	defer cancelDeadline()
	waitCtx, interrupt := context.WithCancelCause(deadlineCtx)
	defer interrupt(nil)
	done := make(chan error, 1)
	go func() { done <- g.Wait(waitCtx) }()

	var delayed <-chan time.Time
	if delay && r.drain > 0 {
		r.log(slog.LevelInfo, "graceful: draining", "delay", r.drain)
		t := time.NewTimer(r.drain)
		defer t.Stop()
		delayed = t.C
	} else {
		delayed = closedTime
	}
	cancelled := false
	for {
		select {
		case <-delayed:
			delayed = nil
			if cause != nil {
				r.log(slog.LevelInfo, "graceful: cancelling tasks", "pending", len(g.Pending()))
				r.cause = cause
				g.Cancel(cause)
			}
			cancelled = true
			continue
		case sig, ok := <-r.signals:
			if !ok {
				r.signals = nil
				continue
			}
			interrupt(fmt.Errorf("%w (%v)", ErrInterrupted, sig))
		case err := <-done:
			// Done, or the deadline passed: either way the Wait has
			// returned and g is no longer being waited for.
			if !cancelled {
				g.Cancel(cause) // tasks that outlive Run should know
			}
			return r.result(err, reason, begin)
		}
		// Interrupted: the Wait gives up at once.
		err := <-done
		g.Cancel(cause)
		return r.result(err, reason, begin)
	}
}

// closedTime is a channel that never blocks, standing for a drain delay
// that is already over.
var closedTime = func() chan time.Time {
	c := make(chan time.Time)
	close(c)
	return c
}()

// result turns the outcome of the shutdown's Wait into Run's result and
// logs it.
func (r *runner) result(err error, reason string, begin time.Time) error {
	took := time.Since(begin)
	// Only Wait's own give-up is a *WaitError at the top; a task may return
	// one of its own (ServeTCP does), which is just a task error.
	if we, ok := err.(*waitgroup.WaitError); ok {
		if errors.Is(we.Cause, ErrInterrupted) {
			r.log(slog.LevelError, "graceful: shutdown abandoned on second signal", "took", took, "pending", we.Total, "err", err)
			return fmt.Errorf("graceful: shutdown (%s) abandoned: %w", reason, err)
		}
		r.log(slog.LevelError, "graceful: shutdown deadline passed", "took", took, "pending", we.Total, "err", err)
		return fmt.Errorf("graceful: shutdown (%s) did not finish within %v: %w", reason, r.timeout, err)
	}
	if err == nil || isEcho(err, r.cause, ErrShutdown) {
		r.log(slog.LevelInfo, "graceful: shutdown complete", "took", took)
		return nil
	}
	r.log(slog.LevelError, "graceful: shutdown complete with errors", "took", took, "err", err)
	return err
}

func (r *runner) log(level slog.Level, msg string, args ...any) {
	if r.logger != nil {
		r.logger.Log(context.Background(), level, msg, args...)
	}
}
