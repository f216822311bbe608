package waitgroup

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// ErrUnknownID is matched (with [errors.Is]) by the error [Group.Done] returns
// for an ID it does not hold: the zero ID, an ID already done, an ID of
// another group, or the ID of a task started by Go.
var ErrUnknownID = errors.New("waitgroup: unknown ID")

// ErrCycle is matched by the error a Wait reports when it reaches its own
// group again through a [Link] that is not a *Group (cycles of *Groups
// panic at [Group.Link] instead).
var ErrCycle = errors.New("waitgroup: cycle of links")

// ErrTooManyErrors is matched by the last error of a round whose tasks failed
// more than [MaxErrors] times; its message says how many errors were left out.
var ErrTooManyErrors = errors.New("waitgroup: too many task errors")

// MaxErrors bounds the task errors a group keeps per round, so that a group
// that lives for months with failing tasks uses bounded memory. The first
// MaxErrors are kept; the rest are counted and reported by one error matching
// [ErrTooManyErrors].
const MaxErrors = 64

// A PanicError is the error a task contributes to [Group.Wait] when it panics.
type PanicError struct {
	Value any // the value passed to panic
	// Task names the task that panicked: its Name option, or else its
	// function.
	Task  string
	Stack []byte // the stack of the panicking goroutine, as by [runtime/debug.Stack]
}

// Error names the task and the panic value, followed by the stack.
func (p *PanicError) Error() string {
	v := safeString(func() string { return fmt.Sprint(p.Value) })
	if p.Task == "" {
		return fmt.Sprintf("waitgroup: task panicked: %s\n\n%s", v, p.Stack)
	}
	return fmt.Sprintf("waitgroup: task %q panicked: %s\n\n%s", p.Task, v, p.Stack)
}

// Unwrap returns the panic value if it is an error, so that [errors.Is] and
// [errors.As] see through a panic(err).
func (p *PanicError) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// A WaitError is returned by [Group.Wait] when its context ends before the
// work is done. It matches the context's error and cause with [errors.Is], as
// well as every task error reported before Wait gave up.
type WaitError struct {
	Err     error      // ctx.Err() of the context passed to Wait
	Cause   error      // context.Cause of that context
	Pending []TaskInfo // the tasks still pending, oldest first, at most MaxListed
	Total   int        // how many tasks were pending, listed or not
	Errs    error      // errors of tasks that ended before Wait gave up, or nil
	At      time.Time  // when Wait gave up; pending durations count to here
}

// MaxListed bounds the pending tasks a [WaitError] lists.
const MaxListed = 100

// Error names each listed pending task and how long it has been pending.
//
// Listed tasks that differ only in age, the same name (or none) from the
// same place in the same group, are told once, as the oldest of them with
// their number: "412 × Add at server/conn.go:88 in group "conns", pending
// 41s (the oldest)".
func (e *WaitError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "waitgroup: gave up waiting (%v) with %d %s pending", e.Cause, e.Total, plural(e.Total, "task"))
	type kind struct {
		name, where, group string
		state              TaskState
	}
	same := make(map[kind]int, len(e.Pending))
	for _, t := range e.Pending {
		same[kind{t.Name, t.Where, t.Group, t.State}]++
	}
	for _, t := range e.Pending {
		k := kind{t.Name, t.Where, t.Group, t.State}
		n := same[k]
		if n == 0 {
			continue // told with the oldest of its kind
		}
		same[k] = 0
		b.WriteString("\n\t")
		if n > 1 {
			fmt.Fprintf(&b, "%d × ", n)
		}
		b.WriteString(t.describe(e.At))
		if n > 1 {
			b.WriteString(" (the oldest)")
		}
	}
	if n := e.Total - len(e.Pending); n > 0 {
		fmt.Fprintf(&b, "\n\tand %d more", n)
	}
	if e.Errs != nil {
		fmt.Fprintf(&b, "\nerrors before giving up: %v", e.Errs)
	}
	return b.String()
}

// Unwrap returns the context's error, its cause if different, and the task
// errors.
func (e *WaitError) Unwrap() []error {
	errs := []error{e.Err}
	if e.Cause != nil && !sameError(e.Cause, e.Err) {
		errs = append(errs, e.Cause)
	}
	if e.Errs != nil {
		errs = append(errs, e.Errs)
	}
	return errs
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}

// errorList collects the task errors of one round. It is not safe for
// concurrent use; Group.mu guards it.
type errorList struct {
	errs    []error // errors that are not just the group's cancellation, first first
	omitted int     // real errors beyond MaxErrors
	noise   error   // the first error that only reported the group's cancellation
}

func (l *errorList) empty() bool { return len(l.errs) == 0 && l.omitted == 0 && l.noise == nil }

// record adds err, a task's result, and reports whether it is a real error
// rather than an echo of ctx's cancellation.
func (l *errorList) record(err error, ctx context.Context) bool {
	if isEcho(err, ctx) {
		if l.noise == nil {
			l.noise = err
		}
		return false
	}
	if len(l.errs) < MaxErrors {
		l.errs = append(l.errs, err)
	} else {
		l.omitted++
	}
	return true
}

// isEcho reports whether err only reports the cancellation of ctx: ctx is
// done and err is, or wraps, context.Canceled or the cause. A panic is never
// an echo (panic(ctx.Err()) is still a panic), nor is a wrapped
// context.DeadlineExceeded unless it is the cause: that is how a task says
// that a deadline of its own passed.
//
// err is the user's: its Is and Unwrap methods may panic. Such an error is
// taken as real, and the panic goes no further.
func isEcho(err error, ctx context.Context) (echo bool) {
	if ctx.Err() == nil {
		return false
	}
	defer func() {
		if recover() != nil {
			echo = false
		}
	}()
	var pe *PanicError
	if errors.As(err, &pe) {
		return false // also inside the *TaskError of a fan-out
	}
	return echoes(err, context.Cause(ctx), 0)
}

// echoes reports whether err is, or wraps, context.Canceled or cause. A
// joined error echoes only if each of its parts does: errors.Join(real,
// ctx.Err()) carries a real error.
func echoes(err, cause error, depth int) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok && depth < 16 {
		parts := j.Unwrap()
		for _, e := range parts {
			if e != nil && !echoes(e, cause, depth+1) {
				return false
			}
		}
		return len(parts) > 0
	}
	return errors.Is(err, context.Canceled) || (cause != nil && wraps(err, cause, depth))
}

// wraps reports whether err is, or wraps, cause. errors.Is cannot match an
// uncomparable cause, so one is matched by deep equality along the chain.
func wraps(err, cause error, depth int) bool {
	ct := reflect.TypeOf(cause)
	if ct.Comparable() {
		return errors.Is(err, cause)
	}
	for ; err != nil && depth < 64; depth++ {
		if reflect.TypeOf(err) == ct && reflect.DeepEqual(err, cause) {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if wraps(e, cause, depth+1) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

// safeString returns f(), or a note that it panicked: the Error and String
// methods of a user's value must not crash a report.
func safeString(f func() string) (s string) {
	defer func() {
		if v := recover(); v != nil {
			s = fmt.Sprintf("(panic in Error or String: %v)", v)
		}
	}()
	return f()
}

// sameError reports whether a and b are the same error value, without the
// panic that == causes on errors of uncomparable types.
func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.Type() != vb.Type() || !va.Comparable() || !vb.Comparable() {
		return false
	}
	return a == b
}

// appendReal appends the round's real errors to errs, followed by a note of
// how many were left out.
func (l *errorList) appendReal(errs []error) []error {
	errs = append(errs, l.errs...)
	if l.omitted > 0 {
		errs = append(errs, fmt.Errorf("%w: %d more left out (a round keeps %d)", ErrTooManyErrors, l.omitted, MaxErrors))
	}
	return errs
}

// join returns the one error of errs as is, or all of them joined.
func join(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}
