package waitgrouptest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

// TB is the part of [testing.TB] the helpers use. It is an interface of its
// own, rather than testing.TB (which cannot be implemented outside package
// testing), so that the helpers work with any framework whose test handle
// has these four methods, and so that their failures can be tested against
// a fake. *testing.T, *testing.B and *testing.F satisfy it.
//
// Fatalf should end the calling goroutine, as testing.T's does with
// [runtime.Goexit]; the helpers return right after calling it, so a Fatalf
// that returns works too.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// linkGrace is how long Wait waits, after its timeout, for a [waitgroup.Link]
// other than a *Group that does not return when its context ends. It is a
// bound on a broken Link, not a tolerance: a Group returns at once.
const linkGrace = time.Second

// Wait waits for l, a *waitgroup.Group or any other [waitgroup.Link], for at
// most timeout, and fails t with Fatalf unless l's Wait succeeded: returned
// nil or, once the group's context is done, an error that only echoes that
// cancellation (context.Canceled, as tasks return with ctx.Err(); see
// [IsEcho] for the rule, shared with [Run] and graceful.Run). So a test may
// cancel a group with Group.Cancel(nil) and Wait for tasks that end with
// return ctx.Err(). A Link other than a *Group counts as cancelled if it
// has a Context() context.Context method whose context is done.
//
// When it fails:
//
//   - on timeout the message lists every pending task (name, function or Add
//     call site, group, how long pending) as the [*waitgroup.WaitError] of a
//     Group does, and the errors of tasks that failed before;
//   - on a task error it gives the error, and for a [*waitgroup.PanicError]
//     the panic value and the stack of the task that panicked.
//
// Inside a [testing/synctest] bubble the timeout is measured in the bubble's
// fake time, so a stuck task fails the test at once, in real time, and the
// durations in the message are exact. Create the group, and add its tasks,
// inside the bubble: a task added outside started on the real clock, years
// after the bubble's fake one, so its pending time would be nonsense. Wait
// says so when it lists such a task.
//
// A Link other than a *Group is waited for in a goroutine of its own, so that
// a Link whose Wait ignores its context (which breaks the Link contract)
// fails the test a second after the timeout instead of hanging it; that
// goroutine is then left behind.
func Wait(t TB, l waitgroup.Link, timeout time.Duration) {
	t.Helper()
	if l == nil {
		t.Fatalf("waitgrouptest: Wait with a nil Link")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err, returned := waitLink(ctx, l)
	switch {
	case !returned:
		t.Fatalf("waitgrouptest: not done within %v, and Wait still had not returned %v later although its context had ended%s",
			timeout, linkGrace, pendingSection(l))
	case err == nil:
	case ctx.Err() != nil && gaveUp(err):
		if we, ok := err.(*waitgroup.WaitError); ok {
			// The WaitError already lists the pending tasks.
			t.Fatalf("waitgrouptest: not done within %v: %v%s", timeout, err, clockNote(we.Pending, we.At))
		} else {
			t.Fatalf("waitgrouptest: not done within %v: %v%s", timeout, err, pendingSection(l))
		}
	default:
		lctx := linkContext(l)
		if lctx != nil && lctx.Err() != nil && IsEcho(err) {
			return // the echo of a cancellation the test asked for
		}
		t.Fatalf("waitgrouptest: Wait failed: %v%s%s", err, panicStack(err), echoHint(err, lctx))
	}
}

// linkContext returns l's context if l has one, as a *Group does.
func linkContext(l waitgroup.Link) context.Context {
	if c, ok := l.(interface{ Context() context.Context }); ok {
		return c.Context()
	}
	return nil
}

// echoHint explains why err, which looks like the echo of a cancellation,
// failed the test anyway; ctx is the Link's context, nil if unknown.
func echoHint(err error, ctx context.Context) string {
	switch {
	case IsEcho(err) && ctx == nil:
		return "\n(an error that only echoes a cancellation counts as success once the group's context is done; this Link has no Context method to tell)"
	case IsEcho(err):
		return "\n(an error that only echoes a cancellation counts as success once the group's context is done; it was not cancelled)"
	case ctx != nil && ctx.Err() != nil && IsEcho(err, context.Cause(ctx)):
		return "\n(this is the cause the group was cancelled with, which Wait cannot tell from the error of a task that cancelled a CancelOnError group: have the tasks return ctx.Err())"
	}
	return ""
}

// panicStack returns the stack of the first panic in err, unless err's
// message already shows it (a PanicError's does), so that a panic is always
// reported with the place it came from.
func panicStack(err error) string {
	var pe *waitgroup.PanicError
	if !errors.As(err, &pe) || len(pe.Stack) == 0 || strings.Contains(err.Error(), string(pe.Stack)) {
		return ""
	}
	return fmt.Sprintf("\n\npanic: %v\n\n%s", pe.Value, pe.Stack)
}

// waitLink calls l.Wait(ctx), reporting returned false if a Link other than a
// *Group is still in Wait linkGrace after ctx ended.
func waitLink(ctx context.Context, l waitgroup.Link) (err error, returned bool) {
	if g, ok := l.(*waitgroup.Group); ok {
		// A Group's Wait honours ctx and starts no goroutine; keep it so.
		return g.Wait(ctx), true
	}
	done := make(chan error, 1) // buffered: a late Wait must not block forever
	go func() { done <- l.Wait(ctx) }()
	select {
	case err := <-done:
		return err, true
	case <-ctx.Done():
	}
	grace := time.NewTimer(linkGrace)
	defer grace.Stop()
	select {
	case err := <-done:
		return err, true
	case <-grace.C:
		return nil, false
	}
}

// gaveUp reports whether err, returned by a Wait whose context ended, says
// that it gave up rather than that the work failed.
func gaveUp(err error) bool {
	if _, ok := err.(*waitgroup.WaitError); ok {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded)
}

// pendingSection lists the pending tasks of l, if l can tell them.
func pendingSection(l waitgroup.Link) string {
	p, ok := l.(interface{ Pending() []waitgroup.TaskInfo })
	if !ok {
		return ""
	}
	tasks := p.Pending()
	if len(tasks) == 0 {
		return ""
	}
	return fmt.Sprintf("\n%d %s pending:%s", len(tasks), plural(len(tasks), "task"), taskList(tasks))
}

// taskList formats tasks one per line, as a WaitError does.
func taskList(tasks []waitgroup.TaskInfo) string {
	now := time.Now()
	var b strings.Builder
	for _, task := range tasks {
		b.WriteString("\n\t")
		b.WriteString(task.String())
	}
	b.WriteString(clockNote(tasks, now))
	return b.String()
}

// clockNote explains the nonsense pending times of tasks that started after
// now: their group was made on the real clock, and they are listed inside a
// synctest bubble, whose fake clock starts in 2000. Nothing else can start
// after the moment it is listed.
func clockNote(tasks []waitgroup.TaskInfo, now time.Time) string {
	n := 0
	for _, task := range tasks {
		if task.Since.After(now) {
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("\n(%d of these tasks %s to a group made outside this synctest bubble, on the real clock: %s nothing. Create the group inside the bubble.)",
		n, plural2(n, "belongs", "belong"), plural2(n, "its pending time means", "their pending times mean"))
}

func plural2(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}

// CheckIdle fails t with Errorf if g, or a group linked to it, has a pending
// task now, listing them. Use it after stopping a service whose groups exist
// only once it has started; for a check at the end of the test, use
// [NoStragglers].
func CheckIdle(t TB, g *waitgroup.Group) {
	t.Helper()
	if tasks := g.Pending(); len(tasks) > 0 {
		t.Errorf("waitgrouptest: %d %s still pending:%s", len(tasks), plural(len(tasks), "task"), taskList(tasks))
	}
}

// NoStragglers registers a cleanup that fails t with Errorf if g, or a group
// linked to it, still has pending tasks when the test ends, listing them and
// the line that called NoStragglers. A test that forgets to stop its service
// then fails itself, rather than a later test that trips over the leftovers.
//
// Cleanups run last registered first: call NoStragglers before registering
// the cleanup that stops the service, so that the check comes after it. The
// check looks once, without waiting: a service whose stop method returns
// while its tasks still run has a bug that this is meant to catch.
func NoStragglers(t TB, g *waitgroup.Group) {
	t.Helper()
	where := "?"
	if _, file, line, ok := runtime.Caller(1); ok {
		where = fmt.Sprintf("%s:%d", filepath.Base(file), line)
	}
	t.Cleanup(func() {
		t.Helper()
		if tasks := g.Pending(); len(tasks) > 0 {
			t.Errorf("waitgrouptest: %d %s still pending when the test ended (NoStragglers at %s):%s",
				len(tasks), plural(len(tasks), "task"), where, taskList(tasks))
		}
	})
}
