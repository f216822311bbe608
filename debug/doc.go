// Package debug shows, live, every group of a running service that opted in
// with [waitgroup.Registered] and each of their pending tasks: over HTTP
// ([Handler]), as an [expvar.Var] ([Var]), and, with [waitgroup.Labels],
// beside each task's goroutine stack. It is for operators, as
// [net/http/pprof] is: when a pod will not die or a queue stops draining,
// the page says which task is stuck, where it comes from, for how long, and
// what it is doing, before any deadline passes.
//
// Importing the package registers nothing: mount the handler where you
// want it, on a server of its own,
//
//	mux := http.NewServeMux()
//	mux.Handle("/debug/waitgroup", debug.Handler())
//	go http.ListenAndServe("127.0.0.1:6061", mux)
//
// and publish the expvar if you want it: expvar.Publish("waitgroup",
// debug.Var()). (The package does not import expvar, whose import adds
// /debug/vars to [net/http.DefaultServeMux].)
//
// # Security
//
// The view exposes task names, which may hold request paths and ids, the
// code locations of tasks, error messages and, with ?stacks=1, goroutine
// stacks. Serve it as you serve pprof: on a loopback or otherwise private
// address, or behind authentication, never on the public listener.
//
// # What is shown
//
// Each registered group is shown with the groups it links and its Subs that
// are busy or have errors to report, registered or not, as a tree: a group
// below a registered group is shown under it, so registering the top of a
// tree is enough. For each group: its path (names from the top, "main/http"),
// its own pending count, the errors of its current round, and its pending
// tasks, oldest first, each with its name, where it comes from (its function,
// or the place of its Add call), its age and its state: running, waiting for
// a limit slot, or in restart backoff with its attempt and last error.
// Tasks and groups below a group are bounded per group (?max=N, default
// [DefaultMax]); the view says how many more there are, and shows at most
// [MaxGroups] groups in all.
//
// # Cost
//
// A request takes one [waitgroup.Group.Snapshot] of each group shown: its
// cost is in proportion to the tasks listed (and to the pending tasks
// started by Go, which a group keeps newest first) and it stops nothing. With
// ?stacks=1 the handler also reads the debug=1 goroutine profile, which
// stops the world briefly, twice, and takes time in proportion to the number
// of goroutines: use it when something is stuck, not on a schedule.
package debug
