package graceful

import (
	"context"
	"slices"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

// lateTasks returns the error of a server's stage whose bound, the end of
// ctx, passed with pending still running: the same *waitgroup.WaitError
// that a Wait with ctx would have returned, oldest first, so that callers
// read one kind of error for every stuck task. The servers build it rather
// than Wait for it because the group they would wait for also holds tasks
// that are not theirs to report (their own shutdown, the service's).
func lateTasks(ctx context.Context, pending []waitgroup.TaskInfo) *waitgroup.WaitError {
	slices.SortStableFunc(pending, func(a, b waitgroup.TaskInfo) int { return a.Since.Compare(b.Since) })
	return &waitgroup.WaitError{
		Err:     ctx.Err(),
		Cause:   context.Cause(ctx),
		Pending: slices.Clip(pending[:min(len(pending), waitgroup.MaxListed)]),
		Total:   len(pending),
		At:      time.Now(),
	}
}
