package waitgrouptest

import (
	"context"
	"reflect"

	"github.com/gowaitgroup/waitgroup"
)

// IsEcho reports whether err only echoes a cancellation: err is not nil, and
// every error it joins (with [errors.Join], or fmt.Errorf with several %w)
// is [context.Canceled] or one of causes, or wraps one of them, the way
// tasks report that they stopped because they were told to (return
// ctx.Err(), return context.Cause(ctx), return fmt.Errorf("read: %w",
// ctx.Err())). An error that carries a [*waitgroup.PanicError] (even
// panic(ctx.Err())) or a [*waitgroup.WaitError] (work was still pending) is
// never an echo, and neither is one that joins an echo with a real error.
//
// The rule, used by [Wait], by [Service.Stop] for [Run], and by
// graceful.Run in the same words: an error that only echoes a cancellation
// the caller asked for is success. What each caller asked for:
//
//   - [Run]: Stop cancels run's context without a cause, so run may return
//     context.Canceled, and only once Stop has cancelled it.
//   - [Wait]: the test cancelled the group (Group.Cancel, or the parent
//     context), so once the group's context is done its tasks may return
//     context.Canceled. Wait cannot know the cause the test gave, and must
//     not guess it from the group: with [waitgroup.CancelOnError] the cause
//     is the error of the task that failed. So a task that returns
//     context.Cause(ctx) fails Wait; return ctx.Err() instead, or wait with
//     Group.Wait and judge the result with IsEcho(err, cause).
//   - graceful.Run: it cancels the group with a cause matching
//     graceful.ErrShutdown, so tasks may return context.Canceled, that cause,
//     or ErrShutdown.
//
// A cause of nil is ignored. IsEcho is safe for concurrent use.
func IsEcho(err error, causes ...error) bool {
	for err != nil {
		switch err.(type) {
		case *waitgroup.PanicError, *waitgroup.WaitError:
			return false
		}
		if is(err, context.Canceled) {
			return true
		}
		for _, c := range causes {
			if c != nil && is(err, c) {
				return true
			}
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			// Every branch must echo: errors.Is would accept a join of a
			// real error and an echo, and lose the real one.
			errs := u.Unwrap()
			for _, e := range errs {
				if !IsEcho(e, causes...) {
					return false
				}
			}
			return len(errs) > 0
		default:
			return false
		}
	}
	return false
}

// is reports whether err itself, not what it wraps, matches target, as one
// step of errors.Is: the same value, or an Is method that says so.
func is(err, target error) bool {
	if reflect.TypeOf(err).Comparable() && err == target {
		return true
	}
	x, ok := err.(interface{ Is(error) bool })
	return ok && x.Is(target)
}
