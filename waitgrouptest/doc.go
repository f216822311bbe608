// Package waitgrouptest provides test helpers for code that uses
// [github.com/gowaitgroup/waitgroup]: a Wait that cannot hang a test, a check
// that a test leaves no pending task behind, and a check that a service
// shuts down within a deadline and leaves no task and no goroutine behind.
//
// A test that calls Wait(context.Background()) on a group with a stuck task
// hangs until the test binary's -timeout kills it, and the panic then dumps
// every goroutine of the process. [Wait] fails the test after a timeout
// instead, naming each task still pending: its name, or the function of a
// task started by Go, or the file:line of an unnamed Add; its group; and how
// long it has been pending. Inside a [testing/synctest] bubble the timeout
// runs on the bubble's fake clock, so the test fails at once and the
// durations are exact. This test:
//
//	func TestShutdown(t *testing.T) {
//		synctest.Test(t, func(t *testing.T) {
//			g := waitgroup.New(waitgroup.GroupName("svc"))
//			stuck := make(chan struct{})
//			defer close(stuck)
//			g.Add(waitgroup.Name("listener")) // Close forgets to Done it
//			conns := g.Sub(waitgroup.GroupName("conns"))
//			conns.Add()
//			time.Sleep(2 * time.Second)
//			g.Go(func(ctx context.Context) error {
//				<-stuck // ignores ctx
//				return nil
//			}, waitgroup.Name("accept loop"))
//
//			g.Cancel(nil)
//			waitgrouptest.Wait(t, g, 5*time.Second)
//		})
//	}
//
// fails, without waiting, with:
//
//	--- FAIL: TestShutdown (0.00s)
//	    shutdown_test.go:28: waitgrouptest: not done within 5s: waitgroup: gave up waiting (context deadline exceeded) with 3 tasks pending
//	        	"listener" in group "svc", pending 7s
//	        	Add at shutdown_test.go:20 in group "conns", pending 7s
//	        	"accept loop" (svc.TestShutdown.func1.1 (shutdown_test.go:22)) in group "svc", pending 5s
//
// [NoStragglers] checks at the end of a test that a group has no pending
// task. [Start] and [Run] start a service and return a [Service] whose Stop
// checks that it shuts down within a deadline, leaving no pending task in
// the groups given with [Groups] and no goroutine that it started, found by
// a profiler label that every goroutine the service starts inherits.
//
// # Cancellation is success
//
// The helpers, and graceful.Run, follow one rule: an error that only echoes
// a cancellation the caller asked for is success. A task or service that
// was told to stop may say so, with return ctx.Err() or a wrapped
// context.Canceled; a panic, a real error, or a real error joined with an
// echo fails. [IsEcho] states the rule and says, for each helper, which
// cancellation counts as asked for: [Wait] accepts context.Canceled once
// the group's context is done (after Group.Cancel, or the parent context's
// end), [Run] once Stop has cancelled run's context.
//
// # Inside a synctest bubble
//
// Create the groups, and add their tasks, inside the bubble. A group made
// outside works, but a task added outside started on the real clock, years
// after the bubble's fake one began, so its pending time is nonsense; the
// helpers say so when they list such a task.
//
// Do not listen on the network inside a bubble: a goroutine blocked in a
// real listener's Accept, or reading one of its connections, waits on the
// network, which the bubble does not count as durably blocked, so its fake
// clock stops and time.Sleep and synctest.Wait never return; the test hangs
// until go test's -timeout. Serve on a [Listener] instead, an in-memory
// net.Listener whose connections are made by [net.Pipe], and dial it with
// [Listener.Dial], or for HTTP with an http.Transport whose DialContext is
// [Listener.DialContext]; for a single connection, net.Pipe alone will do.
//
// # Test frameworks
//
// The helpers take a [TB], the four methods of [testing.TB] they use, so
// that any test framework can call them. They fail with Fatalf when the test
// cannot go on ([Wait]; [Start] when the service does not start) and with
// Errorf otherwise, so that one Stop reports every problem it finds; they
// return after Fatalf, so a TB whose Fatalf returns works too.
package waitgrouptest
