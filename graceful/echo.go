package graceful

import (
	"context"
	"reflect"

	"github.com/gowaitgroup/waitgroup"
)

// isEcho reports whether err only echoes a cancellation Run asked for:
// every error it joins is context.Canceled or one of causes (the cause Run
// cancelled the group with, ErrShutdown), or wraps one, and none carries a
// panic or a give-up (*waitgroup.PanicError, *waitgroup.WaitError). For Run,
// a cancellation it asked for is success. The group itself drops such echoes
// when a real error exists, but keeps one when there is none, so that a
// cancelled group does not look successful, and its test for an echo is
// errors.Is, which also accepts an echo joined with a real error.
//
// It is the rule of waitgrouptest.IsEcho, which a test checks against Run;
// Run cannot import a test helper, hence the copy.
func isEcho(err error, causes ...error) bool {
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
			errs := u.Unwrap()
			for _, e := range errs {
				if !isEcho(e, causes...) {
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

// is reports whether err itself, not what it wraps, matches target: one step
// of errors.Is.
func is(err, target error) bool {
	if reflect.TypeOf(err).Comparable() && err == target {
		return true
	}
	x, ok := err.(interface{ Is(error) bool })
	return ok && x.Is(target)
}
