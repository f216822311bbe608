package waitgroup

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"time"
)

// An EventKind says what an [Event] reports.
type EventKind uint8

const (
	// TaskFailed: a task started by Go or TryGo returned an error or
	// panicked. Errors that only echo the group's cancellation (see
	// [Group.Wait]) are not failures and make no event.
	TaskFailed EventKind = iota + 1
	// TaskRestarted: a task with a [Restart] option starts again after its
	// backoff (it may still wait for a slot of the group's limit).
	TaskRestarted
	// TaskGaveUp: a task with a [Restart] option failed MaxFailures times
	// within its Window and is not restarted; its error is the task's.
	TaskGaveUp
	// StillWaiting: a Wait of the group has been blocked for the duration
	// given to [StillWaitingAfter] (or a multiple of it).
	StillWaiting
)

// String returns "task failed", "task restarted", "task gave up" or
// "still waiting".
func (k EventKind) String() string {
	switch k {
	case TaskFailed:
		return "task failed"
	case TaskRestarted:
		return "task restarted"
	case TaskGaveUp:
		return "task gave up"
	case StillWaiting:
		return "still waiting"
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// An Event is what the handler given to [Events] receives when something
// happens to a group's tasks, at the moment it happens.
type Event struct {
	Kind  EventKind
	Group string    // the GroupName of the group the event is about
	Time  time.Time // when it happened

	// Task is the task that failed, restarted or gave up. For a task with a
	// [Restart] option, its State, Attempt, LastErr and NextStart say where
	// it stands: after a failure that will be restarted, State is
	// TaskBackoff and NextStart is when it starts again.
	Task TaskInfo
	// Err is the task's error (TaskFailed, TaskGaveUp), or, for
	// TaskRestarted, the error that made it restart (nil for a restart
	// after a nil return, with RestartPolicy.OnSuccess).
	Err error

	// For StillWaiting: how long the Wait has been blocked, the oldest
	// pending tasks of the group and of the groups linked to it (at most
	// 10, as [Group.OldestPending] finds them), and how many are pending
	// in all.
	Waited  time.Duration
	Pending []TaskInfo
	Total   int
}

// stillWaitingListed bounds the tasks a StillWaiting event lists: enough
// to recognise what holds a shutdown, few enough for one log line.
const stillWaitingListed = 10

// String describes the event in one line, as a log would.
func (e Event) String() string {
	var b strings.Builder
	b.WriteString(e.Kind.String())
	if e.Kind == StillWaiting {
		fmt.Fprintf(&b, ": waited %v for %d %s", e.Waited.Round(time.Millisecond), e.Total, plural(e.Total, "task"))
		for _, t := range e.Pending {
			b.WriteString("; ")
			b.WriteString(t.describe(e.Time))
		}
		return b.String()
	}
	b.WriteString(": ")
	b.WriteString(e.Task.describe(e.Time))
	if e.Err != nil {
		fmt.Fprintf(&b, ": %s", safeString(e.Err.Error))
	}
	return b.String()
}

// eventConfig is what the Events and StillWaitingAfter options set. A
// group's is set before the group is shared and never changed after, so it
// is read without a lock; options make a new one rather than change a
// parent's.
type eventConfig struct {
	h     func(Event)
	after time.Duration // StillWaitingAfter; 0: off
}

// Events makes h receive the events of the group: each failure of a task
// started by Go or TryGo, each restart and give-up of a task with a
// [Restart] option, and, with [StillWaitingAfter], a report of the tasks
// still pending when a Wait has been blocked that long. A Sub made from the
// group inherits h unless its own options give another; Events(nil) stops
// the inheritance.
//
// h is called synchronously, with no lock of the group held, from the
// goroutine where the event happens:
//
//   - TaskFailed, from the task's goroutine, after the error is recorded
//     (and, with [CancelOnError], the group's context cancelled) and after
//     the task's limit slot is given back, but before the task counts as
//     done: a Wait that the task unblocks returns after h does, so a
//     failure is reported when it happens, not when someone Waits. For a
//     task with Restart, a failure that will be restarted is reported, but
//     not recorded: Wait never returns it.
//   - TaskRestarted and TaskGaveUp, from the task's goroutine as well, the
//     give-up after its error is recorded.
//   - StillWaiting, from the goroutine blocked in Wait.
//
// So a slow h slows the task or the Wait that calls it, and nothing else:
// tasks of the group fail, restart and end in parallel, and h may be
// called concurrently with itself. h may call any method of the group
// (Pending, Go, Cancel, ...), but a Wait for the group in h waits for the
// very task that calls h, and must be given a context that ends.
//
// A panic in h is recovered: the event is lost, and the panic is recorded
// as an error of the group, a [*PanicError] whose Task is "event handler",
// which Wait reports (and which, with CancelOnError, cancels the group)
// like a task's panic, so that a broken handler is seen rather than
// silently mute. h must not call [runtime.Goexit] (nor testing.T.FailNow):
// the task it is called from could then never count as done.
func Events(h func(Event)) Option {
	return groupOption(func(g *Group) {
		c := eventConfig{}
		if ev := g.events(); ev != nil {
			c = *ev
		}
		c.h = h
		g.options().ev = &c
	})
}

// StillWaitingAfter makes a Wait of the group that has been blocked for d
// send a StillWaiting [Event] to the handler given to [Events], listing the
// oldest pending tasks, and again every d while it stays blocked, as
// CockroachDB's stopper logs what a shutdown still waits for every 5
// seconds. It is off by default, and does nothing without a handler.
// A Wait that returns within d costs nothing more: the report needs no
// goroutine, only a timer made once the Wait has had to block.
//
// Every blocked Wait reports, also one that waits for the service's whole
// life in the background; use it on groups that are waited for at
// shutdown. A Sub inherits d unless its own options say otherwise; d <= 0
// turns the reports off.
func StillWaitingAfter(d time.Duration) Option {
	return groupOption(func(g *Group) {
		c := eventConfig{}
		if ev := g.events(); ev != nil {
			c = *ev
		}
		c.after = max(d, 0)
		g.options().ev = &c
	})
}

// taskFailed reports the real failure err of task t: a task without a
// Restart option, or one whose group was cancelled.
func (g *Group) taskFailed(t *goTask, err error) {
	if g.handles() {
		g.emit(Event{Kind: TaskFailed, Task: t.info(g), Err: err})
	}
}

// handles reports whether g has an event handler.
func (g *Group) handles() bool { ev := g.events(); return ev != nil && ev.h != nil }

// emit calls g's handler with e, containing a panic in it (see Events).
func (g *Group) emit(e Event) {
	e.Group = g.Name()
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	defer func() {
		if v := recover(); v != nil {
			// Recorded, not re-panicked: the handler runs in a task's
			// goroutine or a Wait, where a panic would crash the process
			// or leave the task pending for good.
			g.fail(&PanicError{Value: v, Task: "event handler", Stack: debug.Stack()})
		}
	}()
	g.events().h(e)
}

// reportsWaits reports whether a blocked Wait of g sends StillWaiting
// events.
func (g *Group) reportsWaits() bool {
	ev := g.events()
	return ev != nil && ev.after > 0 && ev.h != nil
}

// parkReporting blocks a parked Wait until ch is closed (true) or ctx is
// done (false), sending a StillWaiting event every g.events().after meanwhile.
func (g *Group) parkReporting(ctx context.Context, ch <-chan struct{}) bool {
	begin := time.Now()
	after := g.events().after
	timer := time.NewTimer(after)
	defer timer.Stop()
	for {
		select {
		case <-ch:
			return true
		case <-ctx.Done():
			return false
		case <-timer.C:
		}
		// No lock is held here: OldestPending takes each group's in turn,
		// and the handler may call anything.
		pending, total := g.OldestPending(stillWaitingListed)
		select {
		case <-ch:
			return true // done meanwhile: nothing to report
		default:
		}
		g.emit(Event{Kind: StillWaiting, Waited: time.Since(begin), Pending: pending, Total: total})
		timer.Reset(after)
	}
}
