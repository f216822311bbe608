package graceful

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

// result turns the outcome of the stop into Run's result and logs it.
func (r *runner) result(err error, reason string, begin time.Time) error {
	took := time.Since(begin)
	pending, cause := gaveUp(err)
	switch {
	case errors.Is(cause, ErrInterrupted):
		r.log(slog.LevelError, "graceful: shutdown abandoned on second signal", "took", took, "pending", pending, "err", err)
		return fmt.Errorf("graceful: shutdown (%s) abandoned: %w", reason, err)
	case errors.Is(cause, ErrTimeout):
		r.log(slog.LevelError, "graceful: shutdown deadline passed", "took", took, "pending", pending, "err", err)
		return fmt.Errorf("graceful: shutdown (%s) did not finish within %v: %w", reason, r.timeout, err)
	case err == nil || waitgroup.IsEcho(err, r.cause, ErrShutdown):
		r.log(slog.LevelInfo, "graceful: shutdown complete", "took", took)
		return nil
	}
	r.log(slog.LevelError, "graceful: shutdown complete with errors", "took", took, "err", err)
	return err
}

// gaveUp looks in the joined result of the stages' Stop calls for the
// stages that Run stopped waiting for because the shutdown's own context
// ended (a missed stage bound is not that), and returns how many tasks
// they left pending and that context's cause. Only the StageErrors in the
// joins count, not those inside a task's error.
func gaveUp(err error) (pending int, cause error) {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			n, c := gaveUp(e)
			cause = cmpOr(cause, c)
			pending += n
		}
		return pending, cause
	}
	se, ok := err.(*waitgroup.StageError)
	if !ok {
		return 0, nil
	}
	we, ok := se.Err.(*waitgroup.WaitError)
	if !ok {
		return 0, nil
	}
	if errors.Is(we.Cause, waitgroup.ErrStageTimeout) {
		return we.Total, nil
	}
	return we.Total, we.Cause
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// logFailure reports a failure as it happens: a task's, from the group's
// events, or a stage's of Then, from Run. It is the one place where Run
// reports failures.
func (r *runner) logFailure(err error, args ...any) {
	r.log(slog.LevelError, "graceful: task failed", append(args, "err", err)...)
}

// event logs an event of Run's group or of one of its Subs; the group has
// this handler only when Run has a Logger.
func (r *runner) event(e waitgroup.Event) {
	switch e.Kind {
	case waitgroup.TaskFailed:
		args := taskAttrs(e)
		if e.Task.State == waitgroup.TaskBackoff {
			args = append(args, "attempt", e.Task.Attempt, "restart_in", e.Task.NextStart.Sub(e.Time))
		}
		r.logFailure(e.Err, args...)
	case waitgroup.TaskRestarted:
		r.log(slog.LevelInfo, "graceful: task restarted", append(taskAttrs(e), "attempt", e.Task.Attempt, "after", e.Err)...)
	case waitgroup.TaskGaveUp:
		r.log(slog.LevelError, "graceful: task gave up", append(taskAttrs(e), "attempt", e.Task.Attempt, "err", e.Err)...)
	case waitgroup.StillWaiting:
		oldest := make([]string, len(e.Pending))
		for i, t := range e.Pending {
			oldest[i] = t.String()
		}
		r.log(slog.LevelWarn, "graceful: still waiting", "group", e.Group, "waited", e.Waited, "pending", e.Total, "oldest", oldest)
	}
}

// taskAttrs names the task of e for a log line: its name, else its
// function, and its group.
func taskAttrs(e waitgroup.Event) []any {
	task := e.Task.Name
	if task == "" {
		task = e.Task.Where
	}
	return []any{"task", task, "group", e.Group}
}

// log writes one line to the Logger, if any; every line Run logs goes
// through here.
func (r *runner) log(level slog.Level, msg string, args ...any) {
	if r.logger != nil {
		r.logger.Log(context.Background(), level, msg, args...)
	}
}
