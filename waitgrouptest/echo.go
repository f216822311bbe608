package waitgrouptest

import "github.com/gowaitgroup/waitgroup"

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
// A cause of nil is ignored. IsEcho is [waitgroup.IsEcho]; it is here, with
// the rule, for tests.
func IsEcho(err error, causes ...error) bool {
	return waitgroup.IsEcho(err, causes...)
}
