// Package graceful runs a service's tasks in a [waitgroup.Group] and shuts
// them down in order when SIGINT or SIGTERM arrives, within a deadline, and
// says which tasks were still running if that deadline passes.
//
// [Run] is what a service's main calls. It starts the tasks, then on the
// first signal it marks the service as draining (a [Readiness] handler starts
// answering 503), waits an optional drain delay so that load balancers stop
// routing new work, and stops the service in stages: first its own group
// (the intake: listeners, consumers), then, with [Then], the stages of a
// [waitgroup.Stages] one after another (the writers that flush what the
// intake accepted, then the files and clients they use), each within a
// bound of its own and all within the shutdown deadline. A stage's context
// is cancelled only once the stage before has stopped, so a flusher still
// runs while the last requests finish. A second signal stops the wait at
// once. The error returned when a bound passes names the stage and each task
// still pending, with its group and how long it has been running.
//
// [ServeHTTP] and [ServeTCP] turn a listener into a task that stops taking
// work when the group's context is cancelled, lets the work already accepted
// finish within a stage deadline of its own, and then closes what is left.
// Their failures, and those of ServeTCP's handlers, start the shutdown when
// they happen; ServeHTTP tracks each request as a task, so that a handler
// that outlives its stage is still waited for and named.
//
// Compared with [os/signal.NotifyContext] plus [net/http.Server.Shutdown] and
// a [sync.WaitGroup], which is what most services write by hand, Run also
// tracks work that outlives a request (a write started by a handler), stops
// it in order with a deadline per stage, and reports the stuck tasks by
// name. Compared with github.com/oklog/run, the tasks of a stage are stopped
// together rather than one interrupt after another, and a late task is
// named rather than waited for forever. Compared with fx's lifecycle, a
// stage that misses its bound does not skip the stages after it.
//
// The package uses only the standard library and
// [github.com/gowaitgroup/waitgroup].
package graceful
