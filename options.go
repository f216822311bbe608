package waitgroup

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
	return groupOption(func(g *Group) { g.cancelOnError = true })
}

// GroupName names the group. The name appears in [TaskInfo.Group] and in the
// messages of errors that list pending tasks, which matters once several
// groups are linked together.
func GroupName(name string) Option {
	return groupOption(func(g *Group) { g.name = name })
}

// Name names a task. The name appears in [Group.Pending] and in the error
// [Group.Wait] returns when it gives up, so a stuck task is recognisable.
// Without a name a task is described by its function (for Go and TryGo) or
// by the file:line of the Add call.
func Name(name string) TaskOption {
	return nameOption(name)
}
