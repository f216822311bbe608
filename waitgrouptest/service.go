package waitgrouptest

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

// DefaultTimeout bounds Start and the whole of Stop when no [Timeout] option
// is given. It is generous for real time; inside a synctest bubble time is
// fake and a stuck service fails at once whatever the timeout.
const DefaultTimeout = 10 * time.Second

// An Option configures [Start] and [Run].
type Option interface {
	apply(*config)
}

type config struct {
	timeout time.Duration
	groups  []*waitgroup.Group
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Timeout sets the deadline for starting the service and the deadline for
// stopping it: Close (or run, once cancelled) must return, and every goroutine
// the service started must exit, within d of the call to Stop.
func Timeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.timeout = d })
}

// Groups names groups that must have no pending task once the service has
// stopped, such as the group a service's Start uses; their pending tasks are
// also listed when Close does not return in time. Pass groups that exist
// before Start; for a group created by Start, call [CheckIdle] after
// [Service.Stop].
func Groups(gs ...*waitgroup.Group) Option {
	return optionFunc(func(c *config) { c.groups = append(c.groups, gs...) })
}

// A Service is a service under test, started by [Start] or [Run]. Its Stop
// method stops it and checks that it stopped cleanly; a cleanup registered by
// Start or Run calls Stop if the test did not.
type Service struct {
	t      TB
	cfg    config
	tr     *tracker
	stopFn func() <-chan error // begins the shutdown; the channel yields its result
	what   string              // "Close" or "run", for messages
	// echoOK is set by stopFn when it cancelled run's context while run
	// was still running, so that run may return the echo of that
	// cancellation (see IsEcho); a run that ended before has no excuse.
	echoOK bool

	mu      sync.Mutex // protects stopped
	stopped bool       // Stop has begun; later calls do nothing
}

// Start calls start and returns a Service whose Stop calls stop (named
// "Close" in failure messages) and checks the shutdown. If start fails (returns an error, panics), or does not return
// within the timeout, Start fails t with Fatalf. start and stop run in a
// goroutine of their own, so that a hanging one cannot hang the test: they
// must report failure by returning an error, not with t.Fatal.
//
// Every goroutine that start or stop starts, directly or through goroutines
// they started, counts as the service's: Stop fails the test if any is still
// running at the deadline. Goroutines started from the test's own goroutine,
// say by a request the test sends, do not count; track them in a group and
// pass it with [Groups]. The goroutines are found by a profiler label that
// they inherit ([runtime/pprof.Do]); a service that sets labels from a
// context of its own, rather than adding to the current ones, hides the
// goroutines it starts under them.
func Start(t TB, start, stop func() error, opts ...Option) *Service {
	t.Helper()
	s := newService(t, "Close", opts)
	if start == nil || stop == nil {
		t.Fatalf("waitgrouptest: Start with a nil function")
		return s // for a TB whose Fatalf returns; Stop does nothing
	}
	errc := s.call(start)
	timer := time.NewTimer(s.cfg.timeout)
	defer timer.Stop()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("waitgrouptest: Start failed: %v", err)
			return s
		}
	case <-timer.C:
		t.Fatalf("waitgrouptest: Start did not return within %v%s", s.cfg.timeout, s.snapshot())
		return s
	}
	s.stopFn = func() <-chan error { return s.call(stop) }
	t.Cleanup(s.Stop)
	return s
}

// Run calls run in a new goroutine with a context that Stop cancels, and
// returns a Service whose Stop checks that run returned within the timeout
// after that. run's result must be nil or, if run returned after Stop
// cancelled its context, an error that only echoes that cancellation, such
// as the ctx.Err() that Stop's cancellation makes it return ([IsEcho] with no
// cause: the rule [Wait] and graceful.Run follow too). Anything else,
// including any error returned before Stop, context.Canceled included, and a
// join of an echo with a real error, fails the test when Stop runs. The
// goroutines run starts are the service's, as for [Start].
func Run(t TB, run func(ctx context.Context) error, opts ...Option) *Service {
	t.Helper()
	s := newService(t, "run", opts)
	if run == nil {
		t.Fatalf("waitgrouptest: Run with a nil function")
		return s
	}
	// The context carries the service's label, so that a pprof.Do(ctx, ...)
	// in run keeps it on the goroutines started inside.
	ctx, cancel := context.WithCancel(pprof.WithLabels(context.Background(), s.tr.labels))
	errc := s.call(func() error { return run(ctx) })
	s.stopFn = func() <-chan error {
		select {
		case err := <-errc:
			// run ended by itself; its goroutines may still be watching ctx.
			cancel()
			done := make(chan error, 1)
			done <- err
			return done
		default:
		}
		s.echoOK = true
		cancel()
		return errc
	}
	t.Cleanup(s.Stop)
	return s
}

func newService(t TB, what string, opts []Option) *Service {
	s := &Service{t: t, what: what, tr: newTracker()}
	s.cfg.timeout = DefaultTimeout
	for _, o := range opts {
		o.apply(&s.cfg)
	}
	return s
}

// call runs f in a new goroutine under the service's label and returns a
// channel that yields its result. It is a goroutine so that a call that never
// returns fails the test at the deadline rather than hanging it; that
// goroutine is then left behind, and listed.
//
// A panic in f is recovered and becomes its result, with the stack, so that
// the test fails with a message rather than the whole binary crashing from
// a goroutine the user did not start. So does a runtime.Goexit, which is
// what t.FailNow does when wrongly called from f.
func (s *Service) call(f func() error) <-chan error {
	errc := make(chan error, 1)
	go func() {
		var err error
		returned := false
		defer func() {
			if !returned {
				if v := recover(); v != nil {
					err = fmt.Errorf("panic: %v\n\n%s", v, debug.Stack())
				} else {
					err = errGoexit
				}
			}
			errc <- err
		}()
		s.tr.do(func() { err = f() })
		returned = true
	}()
	return errc
}

// errGoexit is the result of a call that ended with runtime.Goexit.
var errGoexit = errors.New("it called runtime.Goexit (t.FailNow or t.Fatal outside the test's goroutine?); it runs in a goroutine of its own and must return an error instead")

// Stop stops the service (calls the stop function given to [Start], or
// cancels run's context) and fails the test with Errorf, once per problem,
// unless within the timeout:
//
//   - stop or run returned nil (or, for run, the echo of Stop's
//     cancellation: see [Run]);
//   - the groups given with [Groups] have no pending task;
//   - every goroutine started by the service has exited.
//
// Only the first call does anything; later calls, and the cleanup, return at
// once. Stop may be called from a cleanup or a test's goroutine, not from the
// service's.
func (s *Service) Stop() {
	s.t.Helper()
	s.mu.Lock()
	first := !s.stopped && s.stopFn != nil
	s.stopped = true
	s.mu.Unlock()
	if !first {
		return
	}
	deadline := time.Now().Add(s.cfg.timeout)
	errc := s.stopFn()
	timer := time.NewTimer(s.cfg.timeout)
	defer timer.Stop()
	select {
	case err := <-errc:
		switch {
		case err == nil:
		case s.echoOK && IsEcho(err):
		case s.what == "run" && IsEcho(err):
			s.t.Errorf("waitgrouptest: run failed: %v (returned before Stop cancelled its context)", err)
		default:
			s.t.Errorf("waitgrouptest: %s failed: %v", s.what, err)
		}
	case <-timer.C:
		s.t.Errorf("waitgrouptest: %s did not return within %v%s", s.what, s.cfg.timeout, s.snapshot())
		return
	}
	for _, g := range s.cfg.groups {
		if tasks := g.Pending(); len(tasks) > 0 {
			s.t.Errorf("waitgrouptest: %d %s still pending after %s returned:%s",
				len(tasks), plural(len(tasks), "task"), s.what, taskList(tasks))
		}
	}
	if left := s.tr.wait(deadline); len(left) > 0 {
		n := countGoroutines(left)
		s.t.Errorf("waitgrouptest: %d %s started by the service still running %v after Stop began:%s",
			n, plural(n, "goroutine"), s.cfg.timeout, stackList(left))
	}
}

// snapshot describes what the service is doing now, for a call that did not
// return in time: its groups' pending tasks and its goroutines, which include
// the one stuck in the call.
func (s *Service) snapshot() string {
	var out string
	for _, g := range s.cfg.groups {
		if tasks := g.Pending(); len(tasks) > 0 {
			out += fmt.Sprintf("\n%d %s pending:%s", len(tasks), plural(len(tasks), "task"), taskList(tasks))
		}
	}
	if left := s.tr.goroutines(); len(left) > 0 {
		n := countGoroutines(left)
		out += fmt.Sprintf("\n%d %s of the service:%s", n, plural(n, "goroutine"), stackList(left))
	}
	return out
}
