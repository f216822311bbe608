// Package graceful runs a service's tasks in a [waitgroup.Group] and shuts
// them down in order when SIGINT or SIGTERM arrives, within a deadline, and
// says which tasks were still running if that deadline passes.
//
// [Run] is what a service's main calls. It starts the tasks, then on the
// first signal it marks the service as draining (a [Readiness] handler starts
// answering 503), waits an optional drain delay so that load balancers stop
// routing new work, cancels the group's context, and waits for the group with
// a shutdown deadline. A second signal stops the wait at once. Every stage
// has its own bound, and the error returned when one passes names each task
// still pending, with its group and how long it has been running.
//
// [ServeHTTP] and [ServeTCP] turn a listener into a task that stops taking
// work when the group's context is cancelled, lets the work already accepted
// finish within a stage deadline of its own, and then closes what is left.
//
// Compared with [os/signal.NotifyContext] plus [net/http.Server.Shutdown] and
// a [sync.WaitGroup], which is what most services write by hand, Run also
// tracks work that outlives a request (a write started by a handler), has a
// deadline per stage, and reports the stuck tasks by name. Compared with
// github.com/oklog/run, the tasks are stopped together rather than one
// interrupt after another, and a late task is named rather than waited for
// forever.
//
// The package uses only the standard library and
// [github.com/gowaitgroup/waitgroup].
package graceful
