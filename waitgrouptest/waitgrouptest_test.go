package waitgrouptest_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gowaitgroup/waitgroup"
	"github.com/gowaitgroup/waitgroup/waitgrouptest"
)

// The helpers must accept the standard test handles.
var (
	_ waitgrouptest.TB = (*testing.T)(nil)
	_ waitgrouptest.TB = (*testing.B)(nil)
	_ waitgrouptest.TB = (*testing.F)(nil)
	_ waitgrouptest.TB = testing.TB(nil)
)

// fakeTB records failures instead of failing the test, so that the failure
// messages themselves can be checked. Like testing.T, its Fatalf ends the
// calling goroutine; call helpers through run.
type fakeTB struct {
	mu       sync.Mutex
	msgs     []string // "Errorf: ..." or "Fatalf: ..."
	cleanups []func()
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = append(f.msgs, "Errorf: "+fmt.Sprintf(format, args...))
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.msgs = append(f.msgs, "Fatalf: "+fmt.Sprintf(format, args...))
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fakeTB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

// run calls fn in a goroutine of its own, as testing runs a test, so that a
// Fatalf ends fn and not the caller.
func (f *fakeTB) run(fn func(t waitgrouptest.TB)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
}

// finish runs the cleanups, last registered first, as testing does.
func (f *fakeTB) finish() {
	f.run(func(waitgrouptest.TB) {
		for i := len(f.cleanups) - 1; i >= 0; i-- {
			f.cleanups[i]()
		}
	})
}

func (f *fakeTB) messages() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.msgs...)
}

// wantMessages fails t unless ft recorded exactly want.
func wantMessages(t *testing.T, ft *fakeTB, want ...string) {
	t.Helper()
	got := ft.messages()
	if len(got) != len(want) {
		t.Fatalf("got %d failures, want %d:\n%s", len(got), len(want), strings.Join(got, "\n---\n"))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("failure %d:\ngot:\n%s\nwant:\n%s", i, got[i], want[i])
		}
	}
}

// line returns the line number of its caller, to build expected messages
// that name call sites.
func line() int {
	_, _, l, _ := runtime.Caller(1)
	return l
}

// gate is a task that blocks, ignoring its context, until the test opens it.
type gate struct{ ch chan struct{} }

func newGate() *gate { return &gate{ch: make(chan struct{})} }

func (g *gate) wait(context.Context) error {
	<-g.ch
	return nil
}

func (g *gate) open() { close(g.ch) }

// whereGo returns how g describes its pending task started by Go whose
// name is name: its function and where it is declared. The tests take it
// from the group because that part of the text is the core package's.
func whereGo(t *testing.T, g *waitgroup.Group, name string) string {
	t.Helper()
	for _, task := range g.Pending() {
		if task.Name == name {
			return task.Where
		}
	}
	t.Fatalf("no pending task %q", name)
	return ""
}

func TestWaitDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		id := g.Add()
		g.Go(func(ctx context.Context) error {
			time.Sleep(time.Second)
			return g.Done(id)
		})
		ft := &fakeTB{}
		ft.run(func(tb waitgrouptest.TB) { waitgrouptest.Wait(tb, g, 2*time.Second) })
		wantMessages(t, ft)
	})
}

// TestWaitTimeout proves the message for stuck tasks, the one the package
// doc shows: each pending task with its name or origin, its group and how
// long it has been pending, oldest first, and the errors that came before.
func TestWaitTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New(waitgroup.GroupName("svc"))
		_, addLine := g.Add(), line()
		time.Sleep(time.Second)
		stuck := newGate()
		defer stuck.open()
		g.Go(stuck.wait, waitgroup.Name("accept loop"))
		g.Go(func(context.Context) error { return errors.New("disk full") })
		where := whereGo(t, g, "accept loop")

		ft := &fakeTB{}
		ft.run(func(tb waitgrouptest.TB) { waitgrouptest.Wait(tb, g, 5*time.Second) })
		wantMessages(t, ft, fmt.Sprintf(`Fatalf: waitgrouptest: not done within 5s: waitgroup: gave up waiting (context deadline exceeded) with 2 tasks pending
	Add at waitgrouptest_test/waitgrouptest_test.go:%d in group "svc", pending 6s
	"accept loop" (%s) in group "svc", pending 5s
errors before giving up: disk full`, addLine, where))
	})
}

func TestWaitTaskError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		g.Go(func(context.Context) error { return errors.New("disk full") })
		g.Go(func(context.Context) error { return nil })
		ft := &fakeTB{}
		ft.run(func(tb waitgrouptest.TB) { waitgrouptest.Wait(tb, g, time.Second) })
		wantMessages(t, ft, "Fatalf: waitgrouptest: Wait failed: disk full")
	})
}

func panicky(context.Context) error { panic("boom") }

// TestWaitPanic proves that a panic fails the test with its value and the
// stack of the task that panicked, which names the function.
func TestWaitPanic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		g.Go(panicky)
		ft := &fakeTB{}
		ft.run(func(tb waitgrouptest.TB) { waitgrouptest.Wait(tb, g, time.Second) })
		msgs := ft.messages()
		if len(msgs) != 1 {
			t.Fatalf("got %d failures, want 1: %q", len(msgs), msgs)
		}
		const head = "Fatalf: waitgrouptest: Wait failed: waitgroup: task \"waitgrouptest_test.panicky (waitgrouptest_test.go:177)\" panicked: boom\n\ngoroutine "
		if !strings.HasPrefix(msgs[0], head) || !strings.Contains(msgs[0], "waitgrouptest_test.panicky(") {
			t.Errorf("message does not start with %q and show panicky's frame:\n%s", head, msgs[0])
		}
	})
}

// A TestWaitLinkedGroup proves that the tasks of linked groups are listed.
func TestWaitLinkedGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New(waitgroup.GroupName("outer"))
		conns := g.Sub(waitgroup.GroupName("conns"))
		_, at := conns.Add(), line()
		ft := &fakeTB{}
		ft.run(func(tb waitgrouptest.TB) { waitgrouptest.Wait(tb, g, time.Second) })
		wantMessages(t, ft, fmt.Sprintf(`Fatalf: waitgrouptest: not done within 1s: waitgroup: gave up waiting (context deadline exceeded) with 1 task pending
	Add at waitgrouptest_test/waitgrouptest_test.go:%d in group "conns", pending 1s`, at))
	})
}

// link is a Link other than a Group; it can list the group it wraps.
type link struct {
	g            *waitgroup.Group
	ignoreCancel *gate // if set, Wait blocks on it whatever the context
}

func (l link) Wait(ctx context.Context) error {
	if l.ignoreCancel != nil {
		<-l.ignoreCancel.ch
		return nil
	}
	if err := l.g.Wait(ctx); err != nil {
		return fmt.Errorf("link: %w", ctx.Err())
	}
	return nil
}

func (l link) Pending() []waitgroup.TaskInfo { return l.g.Pending() }

func TestWaitOtherLink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		_, at := g.Add(), line()
		ft := &fakeTB{}
		ft.run(func(tb waitgrouptest.TB) { waitgrouptest.Wait(tb, link{g: g}, time.Second) })
		wantMessages(t, ft, fmt.Sprintf(`Fatalf: waitgrouptest: not done within 1s: link: context deadline exceeded
1 task pending:
	Add at waitgrouptest_test/waitgrouptest_test.go:%d, pending 1s`, at))
	})
}

// TestWaitLinkIgnoresContext proves that a broken Link fails the test
// instead of hanging it.
func TestWaitLinkIgnoresContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		stuck := newGate()
		ft := &fakeTB{}
		ft.run(func(tb waitgrouptest.TB) {
			waitgrouptest.Wait(tb, link{g: g, ignoreCancel: stuck}, time.Second)
		})
		wantMessages(t, ft, "Fatalf: waitgrouptest: not done within 1s, and Wait still had not returned 1s later although its context had ended")
		stuck.open() // end the goroutine Wait left behind
	})
}

func TestWaitNil(t *testing.T) {
	ft := &fakeTB{}
	ft.run(func(tb waitgrouptest.TB) { waitgrouptest.Wait(tb, nil, time.Second) })
	wantMessages(t, ft, "Fatalf: waitgrouptest: Wait with a nil Link")
}

func TestNoStragglers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New(waitgroup.GroupName("svc"))
		ft := &fakeTB{}
		var at int
		ft.run(func(tb waitgrouptest.TB) { waitgrouptest.NoStragglers(tb, g); at = line() })
		done := g.Add(waitgroup.Name("finished"))
		_, addLine := g.Add(), line()
		if err := g.Done(done); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Second)
		ft.finish()
		wantMessages(t, ft, fmt.Sprintf(`Errorf: waitgrouptest: 1 task still pending when the test ended (NoStragglers at waitgrouptest_test.go:%d):
	Add at waitgrouptest_test/waitgrouptest_test.go:%d in group "svc", pending 3s`, at, addLine))
	})
}

func TestNoStragglersIdle(t *testing.T) {
	g := waitgroup.New()
	ft := &fakeTB{}
	ft.run(func(tb waitgrouptest.TB) { waitgrouptest.NoStragglers(tb, g) })
	if err := g.Done(g.Add()); err != nil {
		t.Fatal(err)
	}
	ft.finish()
	wantMessages(t, ft)
}

func TestCheckIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		ft := &fakeTB{}
		ft.run(func(tb waitgrouptest.TB) { waitgrouptest.CheckIdle(tb, g) })
		wantMessages(t, ft)
		stuck := newGate()
		defer stuck.open()
		g.Go(stuck.wait, waitgroup.Name("worker"))
		where := whereGo(t, g, "worker")
		time.Sleep(time.Second)
		ft.run(func(tb waitgrouptest.TB) { waitgrouptest.CheckIdle(tb, g) })
		wantMessages(t, ft, fmt.Sprintf(`Errorf: waitgrouptest: 1 task still pending:
	"worker" (%s), pending 1s`, where))
	})
}

// hiddenPanic hides the stack of the PanicError it wraps from its message,
// as a task's own error type might.
type hiddenPanic struct{ pe *waitgroup.PanicError }

func (h hiddenPanic) Error() string { return "worker crashed" }
func (h hiddenPanic) Unwrap() error { return h.pe }

// TestWaitPanicStackAlwaysShown proves that the stack of a panic is shown
// even when the error that carries it does not print it.
func TestWaitPanicStackAlwaysShown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		pe := &waitgroup.PanicError{Value: "boom", Stack: []byte("goroutine 7 [running]:\nmain.crash()")}
		g.Go(func(context.Context) error { return hiddenPanic{pe} })
		ft := &fakeTB{}
		ft.run(func(tb waitgrouptest.TB) { waitgrouptest.Wait(tb, g, time.Second) })
		wantMessages(t, ft, "Fatalf: waitgrouptest: Wait failed: worker crashed\n\npanic: boom\n\ngoroutine 7 [running]:\nmain.crash()")
	})
}
