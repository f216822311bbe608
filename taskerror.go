package waitgroup

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"strconv"
)

// A TaskError is the error of one call of the function given to [Map] or
// [MapSeq], or of one task started with [Results.Go] or [Results.TryGo]. It
// says which item or task failed; [errors.Is] and [errors.As] see through it
// to what the function returned, or to the [*PanicError] it panicked with.
type TaskError struct {
	Index int    // position of the item (Map, MapSeq) or of the accepted Go/TryGo call (Results), from 0
	Name  string // the task's Name option, if any
	Err   error  // what the task returned, or a *PanicError
}

// Error returns "task <Index>", the quoted name if any, and Err's message:
// task 3 "fetch b": connection refused.
//
// It is safe to call whatever Err is: a nil Err, or an Err whose Error method
// panics, is printed as fmt prints it, rather than panicking here.
func (e *TaskError) Error() string {
	b := append([]byte("task "), strconv.Itoa(e.Index)...)
	if e.Name != "" {
		b = append(b, ' ')
		b = strconv.AppendQuote(b, e.Name)
	}
	// fmt, unlike a direct e.Err.Error(), recovers a panic in the method
	// and prints a nil error or a nil pointer receiver as <nil>.
	return fmt.Sprintf("%s: %v", b, e.Err)
}

// Unwrap returns Err. It calls no method of Err, so it cannot panic.
func (e *TaskError) Unwrap() error { return e.Err }

// callItem calls f(ctx, item) and turns a panic into a *PanicError. A
// runtime.Goexit in f goes through: the caller's own defers see it.
func callItem[T, R any](f func(context.Context, T) (R, error), ctx context.Context, item T) (r R, err error) {
	defer func() {
		// Panic policy, as for Group.Go: the panic becomes the item's error,
		// with the stack of this goroutine, so that one bad item neither
		// crashes the process nor hides the results of the others.
		if v := recover(); v != nil {
			err = newPanicError(v, "", reflect.ValueOf(f).Pointer())
		}
	}()
	return f(ctx, item)
}

// callTask is callItem for the tasks of a Results; name is the task's Name.
func callTask[T any](f func(context.Context) (T, error), ctx context.Context, name string) (v T, err error) {
	defer func() {
		if v := recover(); v != nil { // see callItem
			err = newPanicError(v, name, reflect.ValueOf(f).Pointer())
		}
	}()
	return f(ctx)
}

// newPanicError returns the error of a recovered panic in the task named
// name (or "") whose function is at fn, with the stack of the panicking
// goroutine.
// The task is named as one started by Group.Go is: by name, else by its
// function.
func newPanicError(v any, name string, fn uintptr) *PanicError {
	if name == "" {
		name = describeFunc(fn)
	}
	return &PanicError{Value: v, Task: name, Stack: debug.Stack()}
}

// isEchoOf reports whether err, an item's error, only echoes the
// cancellation of the group context gctx, by the rule Group.Wait applies
// (isEcho); MapSeq needs it to replace an echo with its cause.
func isEchoOf(err error, gctx context.Context) bool {
	return err != nil && isEcho(err, gctx)
}

// ctxError returns an error that matches both ctx.Err() and, if different,
// context.Cause(ctx), for a fan-out that stopped starting items because ctx
// ended.
func ctxError(ctx context.Context) error {
	err, cause := ctx.Err(), context.Cause(ctx)
	if cause == nil || equalErrors(err, cause) {
		return err
	}
	return fmt.Errorf("%w: %w", err, cause)
}

// equalErrors reports a == b, false where == would panic (two values of one
// uncomparable type).
func equalErrors(a, b error) (equal bool) {
	defer func() {
		if recover() != nil {
			equal = false
		}
	}()
	return a == b
}

// joinErrors returns nil, the one error of errs, or all of them joined.
func joinErrors(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return errors.Join(errs...)
}
