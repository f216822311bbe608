// Package waitgrouptest provides test helpers for code that uses
// [github.com/gowaitgroup/waitgroup]: a Wait that cannot hang a test, a check
// that a test leaves no pending task behind, and a check that a service shuts
// down within a deadline and leaves no task or goroutine behind.
//
// A test that calls Wait on a group with a stuck task hangs until the test
// binary's -timeout kills it, and the panic then shows every goroutine of the
// process. [Wait] instead fails the test after a timeout, naming the tasks
// still pending; inside a [testing/synctest] bubble the timeout is fake time,
// so the failure is immediate. For a task added by Add at line 40 and never
// Done, and one started by Go that ignores its context:
//
//	--- FAIL: TestShutdown (0.00s)
//	    shutdown_test.go:47: waitgrouptest: not done within 5s: waitgroup: gave up waiting (context deadline exceeded) with 2 tasks pending
//	        	"listener" (Add at shutdown_test.go:40) in group "svc", pending 5s
//	        	example.com/svc.TestShutdown.func1.1 (shutdown_test.go:42) in group "svc", pending 5s
//
// The helpers take a [TB], the four methods of [testing.TB] they use, so any
// test framework can call them. They fail the test with Fatalf when it cannot
// go on ([Wait], [Start] and [Run] when the service does not start) and with
// Errorf otherwise, so that one Stop reports every problem it finds.
package waitgrouptest
