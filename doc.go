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
//   - [Group.Link] and [Group.Sub] build trees of groups that are waited for
//     as one: a group counts its own pending work plus each linked group that
//     is busy, so "the tree is done" is one condition that Wait waits on once,
//     at any depth or width. A cycle of groups panics at the Link call. A Sub
//     is held by its parent only while it has work, so a Sub per connection
//     or per job costs nothing once finished and dropped (the parent keeps
//     at most [MaxErrors] of their errors, and counts the rest).
//   - A task started with the [Restart] option is started again after a
//     backoff each time it fails, until the group is cancelled or the task
//     fails too often; [Events] reports each failure, restart and give-up
//     when it happens, and a Wait that has been blocked for long, rather
//     than only when Wait returns.
//
// For request-scoped fan-out, [Map], [MapSeq] and [Results] return typed
// results in item order whatever fails, each failure a [*TaskError] that says
// which item, bounded by [Limit]; Map and MapSeq leave nothing running and
// nothing registered with the caller's context when they return. For a
// service's shutdown, [Stages] stops groups in order, each within its own
// bound.
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
// # How it is built, and what it costs
//
// The pending count of a group is one atomic word, as in sync.WaitGroup;
// starting and ending a task takes no lock. A task started by Go is one
// record, published with a compare-and-swap and unlinked in batches once
// done; an ID of Add is a slot in a list of segments, oldest first, so a
// Wait that gives up names the oldest [MaxListed] tasks without looking at
// the others, and holds no lock Add and Done need for longer than it takes to
// copy those. Each task records its start time and its function or Add call
// site, turned into text only when a report asks.
//
// Measured side by side on a 2-core amd64 machine (see bench/README.md in
// the repository for the figures, the machine and the date): Add and Done
// together take no allocation and three to five times an Add and Done of a
// sync.WaitGroup; a task started with Go costs one allocation more than a go
// statement tracked by a sync.WaitGroup, for its 48-byte record (a task
// given a name or a Restart option one more); a fresh group is 128 bytes,
// and with one task takes three allocations. A pending ID holds about 36 bytes.
package waitgroup
