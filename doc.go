// Package waitgroup tracks the goroutines and other pending work of a
// long-running program so that it can stop them in order, within a
// deadline, and know that they have really stopped.
//
// A [Group] is what [sync.WaitGroup] and [golang.org/x/sync/errgroup.Group]
// would be together, for services rather than fan-outs:
//
//   - [Group.Add] returns an [ID] that one method (Start) can take and another
//     (Close) can hand back to [Group.Done]; an ID belongs to its group and is
//     accepted once, so a miscount is an error, not a hang or a crash.
//   - [Group.Go] runs func(ctx) error tasks as errgroup does, with
//     [Group.SetLimit], [Group.TryGo] and, with [CancelOnError], cancellation
//     of the group's context on the first error, with that error as cause.
//   - [Group.Wait] takes a context: it gives up when the context ends, with a
//     [*WaitError] that names every task still pending and how long it has
//     been pending, and it leaves no goroutine behind. Work may be added at any
//     time, even during or after a Wait.
//   - Wait reports every task error, not just the first, and a panic in a task
//     becomes a [*PanicError] with its stack instead of crashing the process.
//   - [Group.Link] and [Group.Sub] build trees of groups that are waited for in
//     order: the accept loop, then the connections it started. A cycle of
//     groups panics at the Link call.
//
// For request-scoped fan-out, [Map], [MapSeq] and [Results] return typed
// results in item order whatever fails, each failure a [*TaskError] that says
// which item, bounded by [Limit]; Map and MapSeq leave nothing running and
// nothing registered with the caller's context when they return.
//
// For operators, a group made with [Registered] is listed, while alive, by
// [RegisteredGroups], and [Group.Snapshot] describes it cheaply; the
// github.com/gowaitgroup/waitgroup/debug package serves them as a live view.
// [Labels] puts pprof labels on the goroutines of tasks.
//
// Compared with sync.WaitGroup, Add and Done cannot go negative and may race
// with Wait. Compared with errgroup, Wait does not cancel the context when it
// returns, errors are all kept, panics are recovered, and the context is
// available, and cancellable, on a zero Group.
//
// Costs, measured on a 2-core amd64 machine (see bench/README.md in the
// repository): Add and Done do not allocate and take about 50 ns together
// (sync.WaitGroup: 8 ns), because each records its start time and, unnamed,
// its call site for the stuck-task report; a task started with Go costs
// 1.3 to 1.5 times a go statement tracked by a sync.WaitGroup, for the same
// bookkeeping and the panic recovery. A pending ID holds about 43 bytes.
package waitgroup
