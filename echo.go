package waitgroup

import (
	"context"
	"reflect"
)

// IsEcho reports whether err only echoes a cancellation: err is not nil, and
// every error it joins (with [errors.Join], or fmt.Errorf with several %w)
// is [context.Canceled] or one of causes, or wraps one of them, the way
// tasks report that they stopped because they were told to (return
// ctx.Err(), return context.Cause(ctx), return fmt.Errorf("read: %w",
// ctx.Err())). An error that carries a [*PanicError] (even
// panic(ctx.Err())) or a [*WaitError] (work was still pending) is never an
// echo, and neither is one that joins an echo with a real error. An error
// whose Is or Unwrap method panics is not an echo.
//
// It is the rule by which a caller that cancelled a group itself (a
// service's shutdown, a test) can take the group's result for success: the
// group keeps one echo as its result when no task failed, so that a
// cancelled group does not look successful to those who did not cancel it.
// A cause of nil is ignored. IsEcho is safe for concurrent use.
func IsEcho(err error, causes ...error) (echo bool) {
	defer func() {
		if recover() != nil {
			echo = false
		}
	}()
	return echoOf(err, causes, 0)
}

func echoOf(err error, causes []error, depth int) bool {
	for ; err != nil && depth < 100; depth++ {
		switch err.(type) {
		case *PanicError, *WaitError:
			return false
		}
		if isOne(err, context.Canceled) {
			return true
		}
		for _, c := range causes {
			if c != nil && isOne(err, c) {
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
				if !echoOf(e, causes, depth+1) {
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

// isOne reports whether err itself, not what it wraps, matches target, as
// one step of errors.Is: the same value, or an Is method that says so.
func isOne(err, target error) bool {
	if reflect.TypeOf(err).Comparable() && reflect.TypeOf(target).Comparable() && err == target {
		return true
	}
	x, ok := err.(interface{ Is(error) bool })
	return ok && x.Is(target)
}
