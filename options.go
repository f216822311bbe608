package waitgroup

import (
	"context"
	"reflect"
)

// An Option configures a Group at construction (see [New], [WithContext] and
// [Group.Sub]).
type Option interface {
	applyGroup(*Group)
}

// A TaskOption configures one task started with [Group.Add], [Group.Go] or
// [Group.TryGo].
type TaskOption interface {
	taskOption()
}

type groupOption func(*Group)

func (f groupOption) applyGroup(g *Group) { f(g) }

// nameOption is a string, not a closure, so that Add(Name("const")) does not
// allocate: a constant string converts to an interface without a heap copy.
type nameOption string

func (nameOption) taskOption() {}

// taskName returns the name given by the last Name option in opts.
func taskName(opts []TaskOption) string {
	var name string
	for _, o := range opts {
		if n, ok := o.(nameOption); ok {
			name = string(n)
		}
	}
	return name
}

// CancelOnError makes the first task error, or the first panic, cancel the
// group's [Group.Context] with that error as its cause, as
// [golang.org/x/sync/errgroup.WithContext] does. Without it a failing task
// does not disturb its siblings: a group of connection handlers survives one
// bad connection.
func CancelOnError() Option {
	return cancelOnErrorOption{}
}

// cancelOnErrorOption is a type of its own, not a groupOption closure, so
// that MapSeq can tell from its options that the first failure ends the
// iteration (see fanOutConfig).
type cancelOnErrorOption struct{}

func (cancelOnErrorOption) applyGroup(g *Group) { g.options().cancelOnError = true }

// GroupName names the group. The name appears in [TaskInfo.Group] and in the
// messages of errors that list pending tasks, which matters once several
// groups are linked together.
func GroupName(name string) Option {
	return groupOption(func(g *Group) { g.options().name = name })
}

// Name names a task. The name appears in [Group.Pending] and in the error
// [Group.Wait] returns when it gives up, so a stuck task is recognisable.
// Without a name a task is described by its function (for Go and TryGo) or
// by the file:line of the Add call.
func Name(name string) TaskOption {
	return nameOption(name)
}

// Limit limits the number of tasks started by Go and TryGo that run at once to
// n, as [Group.SetLimit] does, from the group's construction; a negative n
// means no limit. For [Map] and [MapSeq] it bounds how many calls of f run at
// once; there, Limit(0), which would never let one run, panics.
func Limit(n int) Option {
	return limitOption(n)
}

// limitOption is a type of its own so that Map and MapSeq can read n from
// their options (see fanOutConfig).
type limitOption int

// applyGroup needs g initialised, which WithContext does before it applies
// options.
func (n limitOption) applyGroup(g *Group) { g.SetLimit(int(n)) }

// fanOutConfig returns what Map and MapSeq need to know of their options: the
// last Limit given (hasLimit false if none), and whether CancelOnError was
// given. It panics, as WithContext does, on a nil Option.
func fanOutConfig(opts []Option) (limit int, hasLimit, cancelOnError bool) {
	for _, o := range opts {
		switch o := o.(type) {
		case nil:
			panic("waitgroup: nil Option")
		case limitOption:
			limit, hasLimit = int(o), o >= 0
		case cancelOnErrorOption:
			cancelOnError = true
		}
	}
	return limit, hasLimit, cancelOnError
}

// A describedAs option makes a task started by Go or TryGo be described,
// in Pending and WaitError, by another function than the one Go was given:
// Results.Go starts a wrapper of the user's function, and passes the user's.
// The option is a func type so that it converts to a TaskOption without an
// allocation.
type describedAs[T any] func(context.Context) (T, error)

func (describedAs[T]) taskOption() {}

func (f describedAs[T]) describedPC() uintptr { return reflect.ValueOf(f).Pointer() }

// describedFunc returns the entry of the function that the last describedAs
// option in opts names, or 0.
func describedFunc(opts []TaskOption) uintptr {
	var pc uintptr
	for _, o := range opts {
		if d, ok := o.(interface{ describedPC() uintptr }); ok {
			pc = d.describedPC()
		}
	}
	return pc
}
