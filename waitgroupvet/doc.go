// Package waitgroupvet provides analyzers that report mistakes with
// [github.com/gowaitgroup/waitgroup], [golang.org/x/sync/errgroup] and
// [sync.WaitGroup] that go vet and staticcheck miss: work that Wait can
// never see finish, or that finishes unseen, and cancellation that cannot
// reach a task.
//
// The command [github.com/gowaitgroup/waitgroup/waitgroupvet/cmd/waitgroupvet]
// runs them standalone or as go vet's tool:
//
//	go run github.com/gowaitgroup/waitgroup/waitgroupvet/cmd/waitgroupvet@latest ./...
//	go vet -vettool=$(command -v waitgroupvet) ./...
//
// The checks, each a [golang.org/x/tools/go/analysis.Analyzer] named as
// below:
//
//   - lostid ([LostID]): the ID that Group.Add returns is discarded, so it
//     can never be Done.
//   - addingo ([AddInGo]): Add, sync.WaitGroup's or ours, called inside the
//     goroutine it accounts for, at any statement, in a function literal or
//     a function of the package started by go, so Wait may return first.
//   - taskctx ([TaskCtx]): a task that leaves its ctx parameter unnamed or
//     unused and uses a context from outside, or an errgroup task that uses
//     the parent of errgroup.WithContext instead of the derived context, so
//     cancellation cannot reach it.
//   - selfwait ([SelfWait]): Wait on a group called inside one of its own
//     tasks, which waits for itself.
//   - groupleak ([GroupLeak]): a group from waitgroup.WithContext that is
//     neither returned, stored nor cancelled on every path, whose context
//     stays registered with its parent.
//   - ctxafterwait ([CtxAfterWait]): errgroup's derived context used after
//     Wait, which cancelled it.
//   - nowait ([NoWait]): a local errgroup or Group that starts tasks and is
//     never waited for.
//   - migrate ([Migrate], off by default): sync.WaitGroup or errgroup code
//     that maps one to one to a Group, with a suggested fix.
//
// Functions are recognised by their package path and name through the type
// checker, never by spelling, and each check keeps to cases that are
// certain: it reports nothing it would have to guess about, and each
// message names the group or variable and what to do. The waitgroup
// package itself, which implements these methods and misuses them on
// purpose in its tests, is not checked.
package waitgroupvet
